import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { buildBalancer, parseBalancerConfig, type Balancer } from '../../../services/balancer/index.js';
import { EndpointListeners, closeServer, createLogger, listen, parseStaticEndpoint, type Endpoint, type EndpointSource } from '../../../services/shared/index.js';

/** A discovery source the test drives by hand, like EndpointSlice updates would. */
class ManualSource implements EndpointSource {
  readonly description = 'manual';
  private endpoints: readonly Endpoint[] = [];
  private readonly listeners = new EndpointListeners();
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  current(): readonly Endpoint[] {
    return this.endpoints;
  }
  subscribe(listener: (endpoints: readonly Endpoint[]) => void): () => void {
    return this.listeners.add(listener);
  }
  set(endpoints: readonly Endpoint[]): void {
    this.endpoints = endpoints;
    this.listeners.notify(endpoints);
  }
}

interface Named {
  server: Server;
  endpoint: Endpoint;
  hits: number;
}

async function named(name: string): Promise<Named> {
  const entry: Named = { server: createServer(), endpoint: parseStaticEndpoint('127.0.0.1:1'), hits: 0 };
  entry.server.on('request', (req, res) => {
    entry.hits += 1;
    const wait = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    setTimeout(() => res.end(name), wait);
  });
  const port = await listen(entry.server, 0, '127.0.0.1');
  entry.endpoint = parseStaticEndpoint(`127.0.0.1:${port}`);
  return entry;
}

describe('endpoint changes from discovery', () => {
  let a: Named;
  let b: Named;
  let source: ManualSource;
  let balancer: Balancer;
  let url: string;

  beforeEach(async () => {
    a = await named('a');
    b = await named('b');
    source = new ManualSource();
    source.set([a.endpoint, b.endpoint]);
    const config = parseBalancerConfig({ DISCOVERY: 'static', UPSTREAMS: 'placeholder:1', BALANCER_HOST: '127.0.0.1', BALANCER_PORT: '0', BALANCER_ADMIN_PORT: '0', DRAIN_DELAY_MS: '0', BALANCER_PICKER: 'round-robin' });
    balancer = buildBalancer(config, { source, logger: createLogger('test', 'silent') });
    url = `http://127.0.0.1:${(await balancer.start()).port}`;
  });
  afterEach(async () => {
    await balancer.shutdown();
    await Promise.all([closeServer(a.server), closeServer(b.server)]);
  });

  const get = async (path: string): Promise<string> => {
    const res = await request(`${url}${path}`);
    return res.body.text();
  };

  it('when an endpoint is removed with a request in flight, then that request completes and new ones go elsewhere', async () => {
    const slow = Promise.all([get('/?delay=600'), get('/?delay=600')]);
    await new Promise((r) => setTimeout(r, 100));
    source.set([b.endpoint]);
    expect(balancer.table.get(a.endpoint.id)).toBeUndefined();
    expect((await slow).sort()).toEqual(['a', 'b']);
    const before = a.hits;
    for (let i = 0; i < 6; i++) expect(await get('/')).toBe('b');
    expect(a.hits).toBe(before);
  });

  it('when an endpoint turns terminating, then it gets no new requests while another is ready', async () => {
    source.set([{ ...a.endpoint, ready: false, serving: true, terminating: true }, b.endpoint]);
    const before = a.hits;
    for (let i = 0; i < 6; i++) expect(await get('/')).toBe('b');
    expect(a.hits).toBe(before);
  });

  it('when no endpoint is ready, then serving-but-terminating ones still take requests rather than failing all', async () => {
    source.set([
      { ...a.endpoint, ready: false, serving: true, terminating: true },
      { ...b.endpoint, ready: false, serving: false, terminating: true },
    ]);
    for (let i = 0; i < 4; i++) expect(await get('/')).toBe('a');
  });

  it('when discovery knows no endpoint, then requests get 503 LB_ERR_NO_ENDPOINTS', async () => {
    source.set([]);
    const res = await request(`${url}/`);
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(res.headers['x-flotilla-balancer-error']).toBe('LB_ERR_NO_ENDPOINTS');
  });
});
