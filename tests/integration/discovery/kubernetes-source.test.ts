import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { createLogger, KubernetesEndpointSource, type Endpoint } from '../../../services/shared/index.js';

/**
 * A stand-in for the EndpointSlice part of the Kubernetes API, speaking the
 * real wire protocol (list JSON, watch as newline-delimited events) so the
 * source runs through @kubernetes/client-node unchanged. It lets a test end
 * watches, answer 410 Gone, and disappear — things a real API server does
 * only at its own pace. The real kube-apiserver tier lives in tests/k8s.
 */
class FakeEndpointSliceApi {
  readonly slices = new Map<string, V1EndpointSlice>();
  version = 100;
  private readonly watchers = new Set<ServerResponse>();
  lists = 0;
  watches = 0;
  expireNextWatch = false;
  /** Watches asking to resume from an older resourceVersion get 410 Gone, as from a compacted etcd. */
  oldestVersion = 0;
  down = false;
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (this.down || !url.pathname.endsWith('/endpointslices')) {
        res.writeHead(503).end();
        return;
      }
      if (url.searchParams.get('watch') !== 'true') {
        this.lists++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: String(this.version) }, items: [...this.slices.values()] }));
        return;
      }
      this.watches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      const from = Number(url.searchParams.get('resourceVersion') ?? this.version);
      if (this.expireNextWatch || from < this.oldestVersion) {
        this.expireNextWatch = false;
        res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`);
        return;
      }
      this.watchers.add(res);
      res.on('close', () => this.watchers.delete(res));
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const res of this.watchers) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', slice: V1EndpointSlice): void {
    this.version++;
    const object = { ...slice, metadata: { ...slice.metadata, resourceVersion: String(this.version) } };
    if (type === 'DELETED') this.slices.delete(slice.metadata?.name ?? '');
    else this.slices.set(slice.metadata?.name ?? '', object);
    for (const res of this.watchers) res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Changes the stored set without telling watchers (as if events were missed). */
  applySilently(slice: V1EndpointSlice): void {
    this.version++;
    this.slices.set(slice.metadata?.name ?? '', slice);
  }

  endWatches(): void {
    for (const res of this.watchers) res.end();
  }
}

function slice(name: string, addresses: { ip: string; ready?: boolean; terminating?: boolean }[]): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    metadata: { name, labels: { 'kubernetes.io/service-name': 'worker' } },
    ports: [{ name: 'http', port: 8080 }],
    endpoints: addresses.map((a) => ({ addresses: [a.ip], conditions: { ready: a.ready ?? true, terminating: a.terminating ?? false, serving: true } })),
  };
}

function kubeConfigFor(port: number): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'test', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', namespace: 'flotilla' }],
    currentContext: 'test',
  });
  return config;
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ids = (endpoints: readonly Endpoint[]): string[] => endpoints.filter((e) => e.ready).map((e) => e.id);

describe('when the balancer discovers workers through EndpointSlices', () => {
  let api: FakeEndpointSliceApi;
  let source: KubernetesEndpointSource;

  beforeEach(async () => {
    api = new FakeEndpointSliceApi();
    await api.start();
    api.applySilently(slice('worker-a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]));
    source = new KubernetesEndpointSource({
      namespace: 'flotilla',
      service: 'worker',
      portName: 'http',
      logger: createLogger('test', 'silent'),
      kubeConfig: kubeConfigFor(api.port),
      backoffMinMs: 20,
      backoffMaxMs: 100,
      requestTimeoutMs: 2_000,
    });
  });

  afterEach(async () => {
    await source.stop();
    await api.stop();
  });

  test('then the first list is there after start, and watch events follow within a second', async () => {
    await source.start();
    expect(ids(source.current())).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    await until(() => api.watches === 1);
    api.apply('MODIFIED', slice('worker-a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false, terminating: true }]));
    await until(() => ids(source.current()).length === 1, 1_000);
    api.apply('ADDED', slice('worker-b', [{ ip: '10.0.0.3' }]));
    await until(() => ids(source.current()).includes('10.0.0.3:8080'), 1_000);
    api.apply('DELETED', slice('worker-a', []));
    await until(() => source.current().length === 1, 1_000);
    expect(ids(source.current())).toEqual(['10.0.0.3:8080']);
  });

  test('then a watch closed by the server is resumed without a relist', async () => {
    await source.start();
    await until(() => api.watches === 1);
    api.endWatches();
    await until(() => api.watches === 2);
    expect(api.lists).toBe(1);
    api.apply('ADDED', slice('worker-b', [{ ip: '10.0.0.3' }]));
    await until(() => ids(source.current()).includes('10.0.0.3:8080'), 1_000);
  });

  test('then 410 Gone leads to a full relist that also catches changes the watch missed', async () => {
    await source.start();
    await until(() => api.watches === 1);
    api.applySilently(slice('worker-a', [{ ip: '10.0.0.9' }]));
    api.expireNextWatch = true;
    api.endWatches();
    await until(() => ids(source.current()).join() === '10.0.0.9:8080', 2_000);
    expect(api.lists).toBe(2);
  });

  test('then while the API server is away the last known endpoints stay, and it catches up when back', async () => {
    await source.start();
    await until(() => api.watches === 1);
    const port = api.port;
    await api.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(ids(source.current())).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);

    const restarted = new FakeEndpointSliceApi();
    // etcd moved on and compacted while the API server was away.
    restarted.version = 500;
    restarted.oldestVersion = 400;
    restarted.applySilently(slice('worker-a', [{ ip: '10.0.0.5' }]));
    await restarted.start(port);
    api = restarted;
    await until(() => ids(source.current()).join() === '10.0.0.5:8080', 3_000);
  });
});
