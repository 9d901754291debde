import pg from 'pg';
import { request } from 'undici';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
let databaseUrl: string;
const processes = new ProcessGroup();

beforeAll(async () => {
  postgres = await TestPostgres.start();
  databaseUrl = await postgres.createDatabase('shutdown');
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

async function status(url: string): Promise<number> {
  const res = await request(url, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  await res.body.dump();
  return res.statusCode;
}

describe('when a worker gets SIGTERM with requests in flight', () => {
  test('then readiness fails at once, in-flight requests complete with 2xx and the process exits 0', async () => {
    const worker = await startWorker(databaseUrl, { DRAIN_DELAY_MS: '1500' });
    processes.add(worker.process);
    const put = (key: string, value: unknown) =>
      request(`${worker.url}/v1/kv/${key}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value }),
        headersTimeout: 20_000,
        bodyTimeout: 20_000,
      });
    await (await put('held', 0)).body.dump();

    // Hold the row lock from outside so the next PUTs block inside Postgres:
    // they are truly in flight when the signal arrives.
    const blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query("SELECT * FROM kv WHERE key = 'held' FOR UPDATE");
    const inFlight = Array.from({ length: 5 }, (_, i) => put('held', i + 1));
    await new Promise((resolve) => setTimeout(resolve, 300));

    worker.process.signal('SIGTERM');
    await worker.process.waitForLog((e) => e.msg === 'draining: readiness is now failing', 5_000);
    expect(await status(`${worker.adminUrl}/readyz`)).toBe(503);
    // During the drain delay the data port still serves new requests.
    expect(await status(`${worker.url}/v1/kv/held-missing`)).toBe(404);

    // Release the lock after the drain delay, while the server is closing.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    await blocker.query('COMMIT');
    await blocker.end();

    const replies = await Promise.all(inFlight);
    for (const reply of replies) {
      expect(reply.statusCode).toBe(200);
      await reply.body.dump();
    }
    expect(await worker.process.waitForExit(15_000)).toEqual({ code: 0, signal: null });
  });
});
