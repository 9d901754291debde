import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

/**
 * The worker prepares its statements once per connection (named statements).
 * A prepared plan is tied to the table it was planned on: these tests change
 * the table under running workers, as a rolling upgrade's migration would,
 * and check every route still answers from connections that prepared before.
 */

let postgres: TestPostgres;
let worker: WorkerHandle;
const processes = new ProcessGroup();
const DATABASE = 'prepared';

beforeAll(async () => {
  postgres = await TestPostgres.start();
  // One pooled connection, so every request below runs on the connection that prepared first.
  worker = await startWorker(await postgres.createDatabase(DATABASE), { PG_POOL_MAX: '1' });
  processes.add(worker.process);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; etag?: string }> {
  const res = await request(`${worker.url}${path}`, {
    method: method as 'GET',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  await res.body.dump();
  const etag = res.headers.etag;
  return { status: res.statusCode, ...(typeof etag === 'string' ? { etag } : {}) };
}

/** Every statement the worker prepares, once: plain and tokened PUTs of each precondition, DELETEs, reads, lists, counters. */
async function everyRoute(key: string): Promise<number[]> {
  const statuses: number[] = [];
  const put = await call('PUT', `/v1/kv/${key}`, { value: 1 });
  statuses.push(put.status);
  statuses.push((await call('PUT', `/v1/kv/${key}`, { value: 2 }, { 'if-match': put.etag ?? '"0"' })).status);
  statuses.push((await call('PUT', `/v1/kv/${key}`, { value: 3 }, { 'if-match': '*', 'flotilla-write-token': randomUUID() })).status);
  statuses.push((await call('PUT', `/v1/kv/${key}-new`, { value: 4 }, { 'if-none-match': '*', 'flotilla-write-token': randomUUID() })).status);
  statuses.push((await call('GET', `/v1/kv/${key}`)).status);
  statuses.push((await call('GET', `/v1/kv?prefix=${key}`)).status);
  statuses.push((await call('DELETE', `/v1/kv/${key}-new`, undefined, { 'if-match': '"1"' })).status);
  statuses.push((await call('DELETE', `/v1/kv/${key}-new`, undefined, { 'flotilla-write-token': randomUUID() })).status);
  statuses.push((await call('DELETE', `/v1/kv/${key}`)).status);
  statuses.push((await call('POST', `/v1/counters/${key}/increment`, { by: 2 })).status);
  statuses.push((await call('GET', `/v1/counters/${key}`)).status);
  return statuses;
}

const EXPECTED = [201, 200, 200, 201, 200, 200, 412, 204, 204, 200, 200];

describe('when a migration adds and then drops a column of the tables while the worker runs', () => {
  test('then every route keeps answering on the connection that prepared its statements before', async () => {
    expect(await everyRoute('before')).toEqual(EXPECTED);
    await postgres.query(DATABASE, 'ALTER TABLE kv ADD COLUMN note text');
    await postgres.query(DATABASE, 'ALTER TABLE counters ADD COLUMN note text');
    await postgres.query(DATABASE, 'ALTER TABLE write_tokens ADD COLUMN note text');
    expect(await everyRoute('added')).toEqual(EXPECTED);
    await postgres.query(DATABASE, 'ALTER TABLE kv DROP COLUMN note');
    await postgres.query(DATABASE, 'ALTER TABLE counters DROP COLUMN note');
    await postgres.query(DATABASE, 'ALTER TABLE write_tokens DROP COLUMN note');
    expect(await everyRoute('dropped')).toEqual(EXPECTED);
  });
});
