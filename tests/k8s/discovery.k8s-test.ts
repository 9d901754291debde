import { PassThrough } from 'node:stream';
import type { DiscoveryV1Api, V1Endpoint, V1EndpointSlice } from '@kubernetes/client-node';
import { createLogger, KubernetesEndpointSource, type Endpoint } from '../../services/shared/index.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { createWorkerService } from './worker-service.js';

const NAMESPACE = 'flotilla-discovery';
const SERVICE = 'worker';
/** How fast the endpoint set must follow a change in the API. */
const FOLLOW_MS = 1_000;

function slice(name: string, endpoints: V1Endpoint[]): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': SERVICE, 'endpointslice.kubernetes.io/managed-by': 'flotilla-tests' } },
    addressType: 'IPv4',
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'admin', port: 9090, protocol: 'TCP' },
    ],
    endpoints,
  };
}

/**
 * Addresses are from TEST-NET-1 (192.0.2.0/24, RFC 5737), used as data only:
 * nothing in this file connects to them. EndpointSlice validation refuses
 * loopback addresses, so real local processes cannot be listed here.
 */
function endpoint(address: string, conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } = {}): V1Endpoint {
  return { addresses: [address], conditions, targetRef: { kind: 'Pod', namespace: NAMESPACE, name: `worker-${address}` } };
}

function summary(endpoints: readonly Endpoint[]): string[] {
  return endpoints
    .map((e) => `${e.host}:${e.port}/${e.adminPort ?? '-'} ${e.ready ? 'ready' : 'not-ready'}${e.terminating ? ' terminating' : ''}${e.serving ? ' serving' : ''}`)
    .sort();
}

/** Waits until the source's set matches; returns how long that took. */
async function follow(source: KubernetesEndpointSource, expected: string[], limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (JSON.stringify(summary(source.current())) === JSON.stringify(expected)) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`after ${limitMs} ms the source still reports ${JSON.stringify(summary(source.current()))}, expected ${JSON.stringify(expected)}`);
}

/**
 * Sum of one Prometheus series family of the API server for namespaced
 * EndpointSlice watches: the source's kind. Since 1.37 the API server also
 * holds a watch of its own on EndpointSlices in every namespace
 * (scope="cluster"), which is not the source's.
 */
function endpointSliceWatchMetric(metrics: string, family: string): number {
  return metrics
    .split('\n')
    .filter(
      (line) =>
        line.startsWith(`${family}{`) && line.includes('resource="endpointslices"') && line.includes('verb="WATCH"') && line.includes('scope="namespace"'),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('when the Kubernetes endpoint source watches EndpointSlices on a real kube-apiserver', () => {
  let cp: ControlPlane;
  let api: DiscoveryV1Api;
  let source: KubernetesEndpointSource;
  const logLines: string[] = [];

  beforeAll(async () => {
    cp = await startControlPlane();
    const { kubeConfig, discovery } = await createWorkerService(cp, NAMESPACE, SERVICE);
    api = discovery;
    const logs = new PassThrough();
    logs.setEncoding('utf8');
    logs.on('data', (chunk: string) => logLines.push(...chunk.split('\n').filter((l) => l !== '')));
    source = new KubernetesEndpointSource({
      namespace: NAMESPACE,
      service: SERVICE,
      portName: 'http',
      adminPortName: 'admin',
      kubeConfig,
      logger: createLogger('discovery-test', 'info', logs),
      backoffMinMs: 100,
      backoffMaxMs: 1_000,
    });
    await source.start();
  }, 300_000);

  afterAll(async () => {
    await source?.stop();
    await cp?.stop();
  });

  test('when a slice with two ready endpoints is created, then the source reports both within a second', async () => {
    expect(source.current()).toEqual([]);
    await api.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: slice('worker-a', [endpoint('192.0.2.2'), endpoint('192.0.2.3')]) });
    const took = await follow(source, ['192.0.2.2:8080/9090 ready serving', '192.0.2.3:8080/9090 ready serving'], FOLLOW_MS);
    expect(took).toBeLessThan(FOLLOW_MS);
  });

  test('when the watch stays open for over a minute, then the API server saw no new watch and a change still arrives within a second', async () => {
    const before = await cp.get('/metrics');
    expect(before.status).toBe(200);
    const watchesBefore = endpointSliceWatchMetric(before.body, 'apiserver_request_total');
    expect(endpointSliceWatchMetric(before.body, 'apiserver_longrunning_requests')).toBe(1);
    await new Promise((r) => setTimeout(r, 65_000));
    const after = await cp.get('/metrics');
    // A watch that ended (and was restarted) would count as a finished WATCH request.
    expect(endpointSliceWatchMetric(after.body, 'apiserver_request_total')).toBe(watchesBefore);
    expect(endpointSliceWatchMetric(after.body, 'apiserver_longrunning_requests')).toBe(1);
    expect(logLines.filter((l) => l.includes('"level":40') || l.includes('"level":50'))).toEqual([]);

    await api.replaceNamespacedEndpointSlice({
      name: 'worker-a',
      namespace: NAMESPACE,
      body: slice('worker-a', [endpoint('192.0.2.2'), endpoint('192.0.2.3'), endpoint('192.0.2.4')]),
    });
    await follow(source, ['192.0.2.2:8080/9090 ready serving', '192.0.2.3:8080/9090 ready serving', '192.0.2.4:8080/9090 ready serving'], FOLLOW_MS);
  }, 120_000);

  test('when an endpoint turns not ready, then it is reported not ready within a second', async () => {
    await api.replaceNamespacedEndpointSlice({
      name: 'worker-a',
      namespace: NAMESPACE,
      body: slice('worker-a', [endpoint('192.0.2.2'), endpoint('192.0.2.3', { ready: false, serving: false }), endpoint('192.0.2.4')]),
    });
    await follow(source, ['192.0.2.2:8080/9090 ready serving', '192.0.2.3:8080/9090 not-ready', '192.0.2.4:8080/9090 ready serving'], FOLLOW_MS);
  });

  test('when an endpoint starts terminating while still serving, then it is reported terminating and not ready within a second', async () => {
    await api.replaceNamespacedEndpointSlice({
      name: 'worker-a',
      namespace: NAMESPACE,
      body: slice('worker-a', [
        endpoint('192.0.2.2', { ready: false, serving: true, terminating: true }),
        endpoint('192.0.2.3', { ready: false, serving: false }),
        endpoint('192.0.2.4'),
      ]),
    });
    await follow(
      source,
      ['192.0.2.2:8080/9090 not-ready terminating serving', '192.0.2.3:8080/9090 not-ready', '192.0.2.4:8080/9090 ready serving'],
      FOLLOW_MS,
    );
  });

  test('when the endpoints are split over two slices, one endpoint in both during the move, then the merged set follows within a second', async () => {
    await api.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: slice('worker-b', [endpoint('192.0.2.4'), endpoint('192.0.2.5')]) });
    await follow(
      source,
      ['192.0.2.2:8080/9090 not-ready terminating serving', '192.0.2.3:8080/9090 not-ready', '192.0.2.4:8080/9090 ready serving', '192.0.2.5:8080/9090 ready serving'],
      FOLLOW_MS,
    );
    await api.replaceNamespacedEndpointSlice({ name: 'worker-a', namespace: NAMESPACE, body: slice('worker-a', [endpoint('192.0.2.3', { ready: false, serving: false })]) });
    await follow(source, ['192.0.2.3:8080/9090 not-ready', '192.0.2.4:8080/9090 ready serving', '192.0.2.5:8080/9090 ready serving'], FOLLOW_MS);
  });

  test('when a slice is deleted, then its endpoints disappear within a second', async () => {
    await api.deleteNamespacedEndpointSlice({ name: 'worker-a', namespace: NAMESPACE });
    await follow(source, ['192.0.2.4:8080/9090 ready serving', '192.0.2.5:8080/9090 ready serving'], FOLLOW_MS);
  });

  test('when the API server restarts, then the last known set is kept while it is down and changes after its return arrive', async () => {
    const known = summary(source.current());
    const restarted = cp.restartApiServer({ downMs: 3_000 });
    // While it is down (and starting again) the set must not change, let alone empty.
    const checks: string[][] = [];
    const sampler = setInterval(() => checks.push(summary(source.current())), 100);
    await restarted;
    clearInterval(sampler);
    expect(checks.length).toBeGreaterThan(10);
    for (const seen of checks) expect(seen).toEqual(known);

    await api.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: slice('worker-c', [endpoint('192.0.2.6')]) });
    // The watch reconnects within the source's backoff (at most 1 s here), then follows as usual.
    await follow(source, ['192.0.2.4:8080/9090 ready serving', '192.0.2.5:8080/9090 ready serving', '192.0.2.6:8080/9090 ready serving'], FOLLOW_MS + 1_000);
  }, 120_000);
});
