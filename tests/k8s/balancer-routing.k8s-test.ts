import { createConnection } from 'node:net';
import { request } from 'undici';
import type { DiscoveryV1Api, V1Endpoint, V1EndpointSlice } from '@kubernetes/client-node';
import { startBalancer, type BalancerHandle } from '../helpers/balancer-process.js';
import { freePort } from '../helpers/free-port.js';
import { TestPostgres } from '../helpers/postgres.js';
import { startWorker, type WorkerHandle } from '../helpers/worker-process.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { createWorkerService } from './worker-service.js';

const NAMESPACE = 'flotilla-routing';
const SERVICE = 'worker';
/**
 * Worker addresses. EndpointSlices may not hold loopback addresses, so the
 * workers listen on 198.18.0.x, which scripts/k8s-netns.sh puts on the
 * loopback interface of a private network namespace (`npm run test:k8s`).
 */
const WORKERS = { w1: '198.18.0.11', w2: '198.18.0.12', w3: '198.18.0.13' } as const;
type WorkerId = keyof typeof WORKERS;
/** The balancer must follow a change in the API within this. */
const FOLLOW_MS = 1_000;

function addressUsable(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: 9 });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    // Refused means the address is local and nothing listens there: usable.
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

// Once as one process, once as a cluster primary (discovery) with two workers (data plane, endpoints over IPC).
describe.each([1, 2])('when the balancer (BALANCER_WORKERS=%i) discovers workers through EndpointSlices of a real kube-apiserver', (balancerWorkers) => {
  let cp: ControlPlane;
  let pg: TestPostgres;
  let api: DiscoveryV1Api;
  let balancer: BalancerHandle;
  const workers: WorkerHandle[] = [];
  let ports: { http: number; admin: number };

  const slice = (name: string, members: [WorkerId, { ready?: boolean; serving?: boolean; terminating?: boolean }?][]): V1EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': SERVICE, 'endpointslice.kubernetes.io/managed-by': 'flotilla-tests' } },
    addressType: 'IPv4',
    ports: [
      { name: 'http', port: ports.http, protocol: 'TCP' },
      { name: 'admin', port: ports.admin, protocol: 'TCP' },
    ],
    endpoints: members.map(([id, conditions = {}]): V1Endpoint => ({ addresses: [WORKERS[id]], conditions, targetRef: { kind: 'Pod', namespace: NAMESPACE, name: id } })),
  });

  /** Sends requests through the balancer; returns which worker answered each, failing on any non-200. */
  const spread = async (count: number): Promise<Record<string, number>> => {
    const seen: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      // A new connection each time (reset): with BALANCER_WORKERS=2, node:cluster
      // hands each connection to the next balancer worker, so both are tested.
      const res = await request(`${balancer.url}/v1/cluster`, { reset: true, headersTimeout: 5_000, bodyTimeout: 5_000 });
      const body = (await res.body.json()) as { self?: { id?: string } };
      expect([res.statusCode, body.self?.id]).toEqual([200, expect.any(String)]);
      const id = body.self?.id ?? '';
      seen[id] = (seen[id] ?? 0) + 1;
    }
    return seen;
  };

  beforeAll(async () => {
    for (const host of Object.values(WORKERS)) {
      if (!(await addressUsable(host))) {
        throw new Error(`${host} is not a local address here: run this tier with npm run test:k8s (scripts/k8s-netns.sh)`);
      }
    }
    cp = await startControlPlane();
    api = (await createWorkerService(cp, NAMESPACE, SERVICE)).discovery;

    pg = await TestPostgres.start();
    const databaseUrl = await pg.createDatabase('flotilla');
    // One port pair for all: an EndpointSlice gives its ports to every endpoint in it.
    ports = { http: await freePort(), admin: await freePort() };
    for (const [id, host] of Object.entries(WORKERS)) {
      workers.push(await startWorker(databaseUrl, { HOST: host, PORT: String(ports.http), ADMIN_PORT: String(ports.admin), WORKER_ID: id }));
    }
    await api.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: slice('worker-a', [['w1'], ['w2'], ['w3']]) });
    balancer = await startBalancer([], {
      DISCOVERY: 'kubernetes',
      DISCOVERY_SERVICE: SERVICE,
      DISCOVERY_NAMESPACE: NAMESPACE,
      DISCOVERY_PORT_NAME: 'http',
      DISCOVERY_ADMIN_PORT_NAME: 'admin',
      KUBECONFIG: cp.kubeconfig,
      // Round robin and no slow start: a short sequential sample reaches every
      // endpoint in the set (P2C would keep sequential requests on the faster
      // of two), which is what these tests look at.
      BALANCER_PICKER: 'round-robin',
      SLOW_START_MS: '0',
      BALANCER_WORKERS: String(balancerWorkers),
    });
  }, 300_000);

  afterAll(async () => {
    await balancer?.process.stop();
    for (const worker of workers) await worker.process.stop();
    await pg?.destroy();
    await cp?.stop();
  });

  test('when the slice lists three ready workers, then requests through the balancer reach all three', async () => {
    expect(Object.keys(await spread(60)).sort()).toEqual(['w1', 'w2', 'w3']);
  });

  test('when a worker turns not ready, then within a second no request goes to it', async () => {
    await api.replaceNamespacedEndpointSlice({ name: 'worker-a', namespace: NAMESPACE, body: slice('worker-a', [['w1'], ['w2', { ready: false, serving: false }], ['w3']]) });
    await new Promise((r) => setTimeout(r, FOLLOW_MS));
    expect(Object.keys(await spread(60)).sort()).toEqual(['w1', 'w3']);
  });

  test('when a worker starts terminating while others are ready, then within a second no new request goes to it', async () => {
    await api.replaceNamespacedEndpointSlice({
      name: 'worker-a',
      namespace: NAMESPACE,
      body: slice('worker-a', [['w1'], ['w2'], ['w3', { ready: false, serving: true, terminating: true }]]),
    });
    await new Promise((r) => setTimeout(r, FOLLOW_MS));
    expect(Object.keys(await spread(60)).sort()).toEqual(['w1', 'w2']);
  });

  test('when the workers are split over two slices, then the balancer uses all of them', async () => {
    await api.replaceNamespacedEndpointSlice({ name: 'worker-a', namespace: NAMESPACE, body: slice('worker-a', [['w1']]) });
    await api.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: slice('worker-b', [['w2'], ['w3']]) });
    await new Promise((r) => setTimeout(r, FOLLOW_MS));
    expect(Object.keys(await spread(60)).sort()).toEqual(['w1', 'w2', 'w3']);
  });

  test('when a slice is deleted, then within a second its workers get no more requests', async () => {
    await api.deleteNamespacedEndpointSlice({ name: 'worker-b', namespace: NAMESPACE });
    await new Promise((r) => setTimeout(r, FOLLOW_MS));
    expect(Object.keys(await spread(30))).toEqual(['w1']);
  });

  test('when the API server restarts, then the balancer keeps serving from the last known set and picks up changes after its return', async () => {
    const restarted = cp.restartApiServer({ downMs: 3_000 });
    // Every request during the outage succeeds (spread fails on any non-200) and goes to w1.
    const during: Record<string, number> = {};
    let outage = true;
    void restarted.finally(() => (outage = false));
    while (outage) {
      for (const [id, n] of Object.entries(await spread(5))) during[id] = (during[id] ?? 0) + n;
    }
    await restarted;
    expect(Object.keys(during)).toEqual(['w1']);

    await api.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: slice('worker-c', [['w2']]) });
    // The watch comes back within the discovery backoff (at most 10 s by default).
    const deadline = Date.now() + 12_000;
    let seen: Record<string, number> = {};
    while (Date.now() < deadline && seen.w2 === undefined) seen = await spread(20);
    expect(Object.keys(seen).sort()).toEqual(['w1', 'w2']);
  }, 120_000);
});
