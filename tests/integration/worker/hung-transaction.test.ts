import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { request } from 'undici';
import { waitFor } from '../../helpers/local-run.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

/**
 * A worker hung in the middle of a transaction (SIGSTOP, a stuck node, a
 * frozen VM) leaves its session "idle in transaction", holding the row locks
 * of the write it was making, until Postgres ends that session. Every other
 * worker's write to those rows waits behind it. The failover scenario on the
 * cluster leaves a worker stopped for half a minute, and the balancer gives a
 * request 5 s per try: the hung session must be cut off well within that.
 */

let postgres: TestPostgres;
let database: string;
const DATABASE = 'hung_transaction';
let hung: WorkerHandle;
let healthy: WorkerHandle;
const processes = new ProcessGroup();

beforeAll(async () => {
  postgres = await TestPostgres.start();
  database = await postgres.createDatabase(DATABASE);
  hung = await startWorker(database, { WORKER_ID: 'to-be-hung' });
  processes.add(hung.process);
  healthy = await startWorker(database, { WORKER_ID: 'healthy' });
  processes.add(healthy.process);
}, 120_000);

afterAll(async () => {
  if (hung.process.running) hung.process.signal('SIGCONT');
  await processes.stopAll();
  await postgres?.destroy();
});

async function increment(worker: WorkerHandle, name: string, key: string): Promise<{ status: number; ms: number; value?: number }> {
  const started = performance.now();
  const res = await request(`${worker.url}/v1/counters/${name}/increment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ by: 1 }),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const body = (await res.body.json()) as { value?: number };
  return { status: res.statusCode, ms: performance.now() - started, ...(body.value !== undefined ? { value: Number(body.value) } : {}) };
}

/** The worker's Postgres sessions whose `column` in pg_stat_activity has this value. */
async function sessionsOf(workerId: string, column: 'state' | 'wait_event_type', value: string): Promise<number> {
  const rows = await postgres.query<{ n: string }>(DATABASE, `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND ${column} = $2`, [`flotilla-worker-${workerId}`, value]);
  return Number(rows[0]?.n ?? 0);
}

describe('when a worker hangs while its transaction holds a row lock', () => {
  test('then Postgres ends the hung session within PG_IDLE_IN_TRANSACTION_TIMEOUT_MS, other workers write that row again well within the balancer per-try timeout, and the hung write is applied once', async () => {
    expect((await increment(healthy, 'hot', randomUUID())).status).toBe(200);

    // Hold the counter's row so that the next increment stops inside its transaction.
    const holder = new pg.Client({ connectionString: database, connectionTimeoutMillis: 5_000 });
    await holder.connect();
    let hungKey = '';
    let hungAnswer: Promise<{ status: number; value?: number }> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT value FROM counters WHERE name = 'hot' FOR UPDATE");
      hungKey = randomUUID();
      hungAnswer = increment(hung, 'hot', hungKey).catch(() => ({ status: 0 }));
      await waitFor('the increment waiting on the row lock', async () => ((await sessionsOf('to-be-hung', 'wait_event_type', 'Lock')) === 1 ? true : undefined), 10_000);
      hung.process.signal('SIGSTOP');
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    // Its statement has finished in Postgres; the stopped worker will never send the next one.
    await waitFor('the hung worker idle in transaction', async () => ((await sessionsOf('to-be-hung', 'state', 'idle in transaction')) === 1 ? true : undefined), 5_000, 20);

    const behind = await increment(healthy, 'hot', randomUUID());
    expect(behind.status).toBe(200);
    // The default is 2 s; the balancer gives a try 5 s.
    expect(behind.ms).toBeLessThan(4_000);
    expect(await sessionsOf('to-be-hung', 'state', 'idle in transaction')).toBe(0);

    // Woken up, the hung worker finds its session gone with the transaction
    // rolled back, and runs it again on a new connection: its increment
    // lands once, after the other one (1 + 1 + 1).
    hung.process.signal('SIGCONT');
    expect(await hungAnswer).toMatchObject({ status: 200, value: 3 });
    // The client's retry with the same key (its answer was late) replays it.
    expect(await increment(healthy, 'hot', hungKey)).toMatchObject({ status: 200, value: 3 });
    const [row] = await postgres.query<{ value: string }>(DATABASE, "SELECT value::text AS value FROM counters WHERE name = 'hot'");
    expect(row?.value).toBe('3');
  });
});
