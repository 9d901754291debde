import { request } from 'undici';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
let workers: WorkerHandle[];
const processes = new ProcessGroup();

beforeAll(async () => {
  postgres = await TestPostgres.start();
  const url = await postgres.createDatabase('durability');
  workers = await Promise.all([startWorker(url), startWorker(url)]);
  for (const worker of workers) processes.add(worker.process);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

/** Postgres refuses to start while the killed postmaster's backends still hold shared memory: retry briefly. */
async function restartAfterCrash(pg: TestPostgres): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await pg.start();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Postgres did not restart: ${pg.recentLogs()}`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('when the Postgres postmaster is SIGKILLed during a write load and started again', () => {
  test('then every acknowledged write survives and the workers recover without a restart', async () => {
    const acknowledged = new Map<string, number>();
    const errors: number[] = [];
    let stop = false;
    const started = Date.now();
    const pids = workers.map((w) => w.process.pid);

    const writer = async (lane: number): Promise<void> => {
      for (let i = 0; !stop && Date.now() - started < 60_000; i++) {
        const worker = workers[i % workers.length] as WorkerHandle;
        const key = `d-${lane}-${i}`;
        try {
          const res = await request(`${worker.url}/v1/kv/${key}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ value: i }),
            headersTimeout: 10_000,
            bodyTimeout: 10_000,
          });
          await res.body.dump();
          if (res.statusCode < 300) acknowledged.set(key, i);
          else errors.push(Date.now());
        } catch {
          errors.push(Date.now());
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const lanes = Promise.all([0, 1, 2, 3].map(writer));

    await new Promise((r) => setTimeout(r, 1_000));
    const killedAt = Date.now();
    postgres.kill();
    await new Promise((r) => setTimeout(r, 1_000));
    await restartAfterCrash(postgres);
    const beforeRecovery = acknowledged.size;
    const deadline = Date.now() + 20_000;
    while (acknowledged.size < beforeRecovery + 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await lanes;

    const rows = await postgres.query<{ key: string; value: number }>('durability', "SELECT key, value FROM kv WHERE key LIKE 'd-%'");
    const stored = new Map(rows.map((row) => [row.key, row.value]));
    const lost = [...acknowledged].filter(([key, value]) => stored.get(key) !== value);
    const window = errors.length > 0 ? (Math.max(...errors) - Math.min(...errors)) / 1000 : 0;
    process.stdout.write(
      `durability: ${acknowledged.size} acknowledged writes, ${lost.length} lost, ${errors.length} failed requests ` +
        `over an error window of ${window.toFixed(1)} s (Postgres killed at +${((killedAt - started) / 1000).toFixed(1)} s)\n`,
    );
    expect(lost).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(beforeRecovery);
    for (const worker of workers) if (!worker.process.running) process.stdout.write(`worker died:\n${worker.process.describe()}\n`);
    // The same worker processes serve again: recovery needed no restart.
    expect(workers.map((w) => w.process.running)).toEqual([true, true]);
    expect(workers.map((w) => w.process.pid)).toEqual(pids);
    for (const worker of workers) {
      const ready = await request(`${worker.adminUrl}/readyz`);
      await ready.body.dump();
      expect(ready.statusCode).toBe(200);
    }
  }, 90_000);
});
