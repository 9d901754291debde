import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request } from 'undici';
import { buildBalancer, parseBalancerConfig, type Balancer } from '../../../services/balancer/index.js';
import { StaticEndpointSource, closeServer, createLogger, listen } from '../../../services/shared/index.js';

interface TestUpstream {
  readonly name: string;
  readonly server: Server;
  readonly admin: Server;
  readonly entry: string;
  readonly seen: string[];
  ready: boolean;
}

/** A real upstream on port 0 with a data handler and an admin /readyz the test can flip. */
async function upstream(name: string, handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, s) => s.end(name)): Promise<TestUpstream> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(String(req.headers['x-request-id']));
    handler(req, res);
  });
  const state: TestUpstream = { name, server, admin: createServer(), entry: '', seen, ready: true };
  state.admin.on('request', (_req, res) => {
    res.statusCode = state.ready ? 200 : 503;
    res.end();
  });
  const port = await listen(server, 0, '127.0.0.1');
  const adminPort = await listen(state.admin, 0, '127.0.0.1');
  return Object.assign(state, { entry: `http://127.0.0.1:${port}?admin=${adminPort}` });
}

const started: Array<{ balancer: Balancer; upstreams: TestUpstream[] }> = [];

async function balancerFor(upstreams: TestUpstream[], env: Record<string, string> = {}): Promise<string> {
  const config = parseBalancerConfig({
    BALANCER_HOST: '127.0.0.1',
    BALANCER_PORT: '0',
    BALANCER_ADMIN_PORT: '0',
    DRAIN_DELAY_MS: '0',
    UPSTREAMS: upstreams.map((u) => u.entry).join(','),
    ...env,
  });
  const balancer = buildBalancer(config, { source: new StaticEndpointSource(upstreams.map((u) => u.entry)), logger: createLogger('test', 'silent') });
  started.push({ balancer, upstreams });
  return `http://127.0.0.1:${(await balancer.start()).port}`;
}

afterEach(async () => {
  for (const { balancer, upstreams } of started.splice(0)) {
    await balancer.shutdown();
    for (const u of upstreams) {
      u.server.closeAllConnections();
      await Promise.all([closeServer(u.server), closeServer(u.admin)]);
    }
  }
});

async function call(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; code: string | undefined; body: string; ms: number }> {
  const t = performance.now();
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers ?? {} });
  const body = await res.body.text();
  const code = res.headers['x-flotilla-balancer-error'];
  return { status: res.statusCode, code: typeof code === 'string' ? code : undefined, body, ms: performance.now() - t };
}

const never = (): void => undefined;

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('timeouts', () => {
  it('when an upstream does not answer within the per-try timeout, then a GET moves on to another endpoint', async () => {
    const stuck = await upstream('stuck', never);
    const fine = await upstream('fine');
    const url = await balancerFor([stuck, fine], { PER_TRY_TIMEOUT_MS: '200', BALANCER_PICKER: 'round-robin' });
    for (let i = 0; i < 4; i++) {
      const r = await call(`${url}/x`);
      expect(r).toMatchObject({ status: 200, body: 'fine' });
      // Bounded by the 200 ms per-try timeout (generous margin for a busy CI machine).
      expect(r.ms).toBeLessThan(2_000);
    }
  });

  it('when a POST without Idempotency-Key times out, then it gets 504 LB_ERR_UPSTREAM_TIMEOUT after one try', async () => {
    const a = await upstream('a', never);
    const b = await upstream('b', never);
    const url = await balancerFor([a, b], { PER_TRY_TIMEOUT_MS: '200' });
    const r = await call(`${url}/x`, { method: 'POST', headers: { 'x-request-id': 'post-timeout' } });
    expect(r).toMatchObject({ status: 504, code: 'LB_ERR_UPSTREAM_TIMEOUT' });
    expect([...a.seen, ...b.seen].filter((id) => id === 'post-timeout')).toHaveLength(1);
  });

  it('when every try is slow, then the total deadline ends the request with 504 LB_ERR_DEADLINE_EXCEEDED', async () => {
    const ups = await Promise.all(['a', 'b', 'c'].map((n) => upstream(n, never)));
    const url = await balancerFor(ups, { PER_TRY_TIMEOUT_MS: '300', TOTAL_TIMEOUT_MS: '450' });
    const r = await call(`${url}/x`);
    expect(r).toMatchObject({ status: 504, code: 'LB_ERR_DEADLINE_EXCEEDED' });
    // The code says the 450 ms deadline ended it; the bound only says it did not hang.
    expect(r.ms).toBeLessThan(3_000);
  });
});

describe('retry budget', () => {
  it('when the budget allows no retries, then a failing GET is answered after one try and the refusal is counted', async () => {
    const failing = await Promise.all(['a', 'b'].map((n) => upstream(n, (_q, s) => ((s.statusCode = 503), s.end(n)))));
    const url = await balancerFor(failing, { RETRY_BUDGET_RATIO: '0', RETRY_MIN_CONCURRENT: '0', RETRY_BUDGET_WAIT_MS: '50' });
    const r = await call(`${url}/x`, { headers: { 'x-request-id': 'no-budget' } });
    expect(r.status).toBe(503);
    expect(r.code).toBeUndefined();
    expect([...(failing[0]?.seen ?? []), ...(failing[1]?.seen ?? [])].filter((id) => id === 'no-budget')).toHaveLength(1);
    const metrics = await started[0]?.balancer.registry.metrics();
    expect(metrics).toMatch(/balancer_retry_budget_exhausted_total 1/);
  });

  it('when the budget is zero but the first endpoint refuses connections, then the request still moves on (it never reached a worker)', async () => {
    const alive = await upstream('alive');
    const dead = await upstream('dead');
    await closeServer(dead.server);
    const url = await balancerFor([dead, alive], { RETRY_BUDGET_RATIO: '0', RETRY_MIN_CONCURRENT: '0', BALANCER_PICKER: 'round-robin' });
    for (let i = 0; i < 4; i++) expect(await call(`${url}/x`)).toMatchObject({ status: 200, body: 'alive' });
  });
});

describe('active health checks', () => {
  it('when an endpoint fails /readyz on its admin port, then it gets no traffic until it passes again', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const url = await balancerFor([a, b], { HEALTH_CHECK_ENABLED: 'true', HEALTH_CHECK_INTERVAL_MS: '50', SLOW_START_MS: '0', BALANCER_PICKER: 'round-robin' });
    const table = started[0]?.balancer.table;
    const verdict = (): boolean | undefined => table?.all().find((u) => a.entry.includes(`:${u.endpoint.port}?`))?.activeHealthy;
    a.ready = false;
    await until(() => verdict() === false);
    const during = await Promise.all(Array.from({ length: 6 }, () => call(`${url}/x`)));
    expect(during.map((r) => r.body)).toEqual(Array(6).fill('b'));
    a.ready = true;
    await until(() => verdict() === true);
    const after = await Promise.all(Array.from({ length: 6 }, () => call(`${url}/x`)));
    expect(after.map((r) => r.body)).toContain('a');
  });
});

describe('consistent hashing through the balancer', () => {
  it('when requests carry the same hash header, then they reach the same endpoint', async () => {
    const ups = await Promise.all(['a', 'b', 'c'].map((n) => upstream(n)));
    const url = await balancerFor(ups, { BALANCER_PICKER: 'consistent-hash', HASH_KEY: 'header:x-user' });
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const answers = new Set<string>();
      for (let i = 0; i < 5; i++) answers.add((await call(`${url}/x`, { headers: { 'x-user': user } })).body);
      expect(answers.size).toBe(1);
    }
  });
});
