import { request } from 'undici';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
let worker: WorkerHandle;
const processes = new ProcessGroup();

beforeAll(async () => {
  postgres = await TestPostgres.start();
  worker = await startWorker(await postgres.createDatabase('outage'), { PG_CONNECT_TIMEOUT_MS: '1000' });
  processes.add(worker.process);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

async function readyStatus(): Promise<number> {
  const res = await request(`${worker.adminUrl}/readyz`, { headersTimeout: 3_000, bodyTimeout: 3_000 });
  await res.body.dump();
  return res.statusCode;
}

describe('when Postgres stops and starts again while a worker runs', () => {
  test('then /readyz goes 503 then 200, requests fail fast with 503 meanwhile, and no acknowledged write is lost', async () => {
    const acknowledged = new Map<string, number>();
    let stop = false;
    const outageReplies: { status: number; ms: number; code?: string }[] = [];
    let outage = false;

    // A bounded writer: one PUT at a time to its own keys, until told to stop (at most 60 s).
    const writer = (async () => {
      const started = Date.now();
      for (let i = 0; !stop && Date.now() - started < 60_000; i++) {
        const key = `w-${i}`;
        const t0 = Date.now();
        try {
          const res = await request(`${worker.url}/v1/kv/${key}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ value: i }),
            headersTimeout: 10_000,
            bodyTimeout: 10_000,
          });
          const body = (await res.body.json()) as { error?: { code: string } };
          if (res.statusCode < 300) acknowledged.set(key, i);
          else if (outage) outageReplies.push({ status: res.statusCode, ms: Date.now() - t0, ...(body.error ? { code: body.error.code } : {}) });
        } catch {
          // a transport error is not an acknowledgement
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 500));
    outage = true;
    await postgres.stop();
    await waitFor(async () => (await readyStatus()) === 503, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    outage = false;
    await postgres.start();
    await waitFor(async () => (await readyStatus()) === 200, 15_000);
    const afterRecovery = acknowledged.size;
    await waitFor(async () => acknowledged.size > afterRecovery + 5, 10_000);
    stop = true;
    await writer;

    // While Postgres was away the worker answered 503 quickly, never hung.
    expect(outageReplies.length).toBeGreaterThan(0);
    for (const reply of outageReplies) {
      expect(reply.status).toBe(503);
      expect(reply.code).toMatch(/^WRK_ERR_DB_/);
      expect(reply.ms).toBeLessThan(3_000);
    }
    // Every acknowledged write is in Postgres with its value.
    const rows = await postgres.query<{ key: string; value: number }>('outage', "SELECT key, value FROM kv WHERE key LIKE 'w-%'");
    const stored = new Map(rows.map((row) => [row.key, row.value]));
    for (const [key, value] of acknowledged) expect(stored.get(key)).toBe(value);
    expect(acknowledged.size).toBeGreaterThan(10);
    // The same process recovered: it was never restarted.
    expect(worker.process.running).toBe(true);
  }, 90_000);
});
