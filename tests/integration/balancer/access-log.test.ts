import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { freePort } from '../../helpers/free-port.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup, type ServiceProcess } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
let worker: WorkerHandle;
let balancer: BalancerHandle;
const processes = new ProcessGroup();

interface Sent {
  readonly status: number;
  readonly requestId: string;
}

async function send(url: string, path: string, init: { method?: 'GET' | 'PUT'; requestId?: string; body?: string } = {}): Promise<Sent> {
  const headers: Record<string, string> = {};
  if (init.requestId !== undefined) headers['x-request-id'] = init.requestId;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${url}${path}`, { method: init.method ?? 'GET', headers, body: init.body, headersTimeout: 5_000, bodyTimeout: 5_000 });
  await res.body.dump();
  return { status: res.statusCode, requestId: String(res.headers['x-request-id']) };
}

const accessLines = (p: ServiceProcess): Record<string, unknown>[] => p.entries().filter((e) => e.msg === 'access');

beforeAll(async () => {
  postgres = await TestPostgres.start();
  const db = await postgres.createDatabase('access_log');
  // The worker writes its 'request completed' line at debug level.
  worker = await startWorker(db, { LOG_LEVEL: 'debug' });
  processes.add(worker.process);
  balancer = await startBalancer([worker.entry]);
  processes.add(balancer.process);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

describe('when ACCESS_LOG is left at its default', () => {
  test('then each request gets one info access line whose request id the worker logs too', async () => {
    const sent = await send(balancer.url, '/v1/kv/access-a', { method: 'PUT', requestId: 'access-log-put-1', body: JSON.stringify({ value: 1 }) });
    expect(sent).toEqual({ status: 201, requestId: 'access-log-put-1' });
    const line = await balancer.process.waitForLog((e) => e.msg === 'access' && e.requestId === 'access-log-put-1', 5_000);
    expect(line).toMatchObject({ level: 30, method: 'PUT', path: '/v1/kv/access-a', status: 201, attempts: 1, retries: 0 });
    expect(String(line.upstream)).toContain(`127.0.0.1:${worker.port}`);
    expect(typeof line.ms).toBe('number');
    expect(accessLines(balancer.process).filter((e) => e.requestId === 'access-log-put-1')).toHaveLength(1);
    await worker.process.waitForLog((e) => e.msg === 'request completed' && e.requestId === 'access-log-put-1', 5_000);
  });

  test('then a request without X-Request-Id gets a generated one, in the answer, the access line and the worker log alike', async () => {
    const sent = await send(balancer.url, '/v1/counters/access-b');
    expect(sent.status).toBe(200);
    expect(sent.requestId).toMatch(/\S{8,}/);
    await balancer.process.waitForLog((e) => e.msg === 'access' && e.requestId === sent.requestId && e.status === 200, 5_000);
    await worker.process.waitForLog((e) => e.msg === 'request completed' && e.requestId === sent.requestId, 5_000);
  });

  test('then a request retried after a dead endpoint logs two attempts and one retry', async () => {
    const dead = await freePort();
    // Round-robin over the dead endpoint and the worker: of any two requests,
    // one goes to the dead endpoint first and is retried on the worker.
    const retrying = await startBalancer([`http://127.0.0.1:${dead}`, worker.entry], { BALANCER_PICKER: 'round-robin' });
    processes.add(retrying.process);
    for (let i = 0; i < 4; i++) expect((await send(retrying.url, '/v1/counters/access-c', { requestId: `access-log-retry-${i}` })).status).toBe(200);
    const retried = await retrying.process.waitForLog((e) => e.msg === 'access' && e.attempts === 2, 5_000);
    expect(retried).toMatchObject({ status: 200, retries: 1 });
    expect(String(retried.upstream)).toContain(`127.0.0.1:${worker.port}`);
    await retrying.process.stop();
  });
});

describe("when the balancer answers with an error of its own", () => {
  test("then the access line names its code, and a worker's own error status has none", async () => {
    const dead = await freePort();
    const failing = await startBalancer([`http://127.0.0.1:${dead}`]);
    processes.add(failing.process);
    expect((await send(failing.url, '/v1/counters/access-g', { requestId: 'access-log-balancer-error' })).status).toBe(503);
    const own = await failing.process.waitForLog((e) => e.msg === 'access' && e.requestId === 'access-log-balancer-error', 5_000);
    expect(own).toMatchObject({ status: 503, error: 'LB_ERR_UPSTREAM_UNAVAILABLE' });
    await failing.process.stop();

    expect((await send(balancer.url, '/v1/kv/access-missing', { requestId: 'access-log-worker-404' })).status).toBe(404);
    const relayed = await balancer.process.waitForLog((e) => e.msg === 'access' && e.requestId === 'access-log-worker-404', 5_000);
    expect(relayed).toMatchObject({ status: 404 });
    expect(relayed).not.toHaveProperty('error');
  });
});

describe('when ACCESS_LOG=false', () => {
  test('then requests are answered without access lines', async () => {
    const quiet = await startBalancer([worker.entry], { ACCESS_LOG: 'false' });
    processes.add(quiet.process);
    const sent = await send(quiet.url, '/v1/counters/access-d', { requestId: 'access-log-quiet-1' });
    expect(sent.status).toBe(200);
    // The worker's line shows the request went through; by then the
    // balancer's close handler has run too.
    await worker.process.waitForLog((e) => e.msg === 'request completed' && e.requestId === 'access-log-quiet-1', 5_000);
    // The stop writes out whatever was batched, so nothing can still be on its way.
    await quiet.process.stop();
    expect(accessLines(quiet.process)).toEqual([]);
  });
});

describe('when access lines are batched (ACCESS_LOG_FLUSH_MS)', () => {
  test('then a line waits up to the interval, and SIGTERM writes it out before the last shutdown line', async () => {
    const batching = await startBalancer([worker.entry], { ACCESS_LOG_FLUSH_MS: '10000' });
    processes.add(batching.process);
    expect((await send(batching.url, '/v1/counters/access-e', { requestId: 'access-log-batched-1' })).status).toBe(200);
    await worker.process.waitForLog((e) => e.msg === 'request completed' && e.requestId === 'access-log-batched-1', 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(accessLines(batching.process)).toEqual([]);
    expect((await batching.process.stop()).code).toBe(0);
    const entries = batching.process.entries();
    const access = entries.findIndex((e) => e.msg === 'access' && e.requestId === 'access-log-batched-1');
    const stopped = entries.findIndex((e) => e.msg === 'balancer stopped');
    expect(access).toBeGreaterThanOrEqual(0);
    expect(stopped).toBeGreaterThan(access);
  });

  test('then at the default interval an idle balancer still writes its line within a fraction of a second', async () => {
    const sent = await send(balancer.url, '/v1/counters/access-f', { requestId: 'access-log-default-interval' });
    expect(sent.status).toBe(200);
    await balancer.process.waitForLog((e) => e.msg === 'access' && e.requestId === 'access-log-default-interval', 2_000);
  });
});
