import fc from 'fast-check';
import { request } from 'undici';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
let worker: WorkerHandle;
const processes = new ProcessGroup();

beforeAll(async () => {
  postgres = await TestPostgres.start();
  worker = await startWorker(await postgres.createDatabase('fuzz'), { VALUE_MAX_BYTES: '4096', JSON_MAX_DEPTH: '8' });
  processes.add(worker.process);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

async function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  const res = await request(`${worker.url}${path}`, {
    method: method as 'GET',
    headers,
    ...(body !== undefined ? { body } : {}),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Bounded: a fixed number of runs per property, with a fixed seed for reproducible CI runs. */
const RUNS = { numRuns: 150, seed: 20261125 };

describe('when the worker API gets arbitrary input (fast-check, bounded)', () => {
  test('then any key and any JSON value either round-trip exactly or get a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 0, maxLength: 40 }), fc.jsonValue({ maxDepth: 10, stringUnit: 'binary' }), async (key, value) => {
        const path = `/v1/kv/${encodeURIComponent(key)}`;
        const put = await send('PUT', path, { 'content-type': 'application/json' }, JSON.stringify({ value }));
        expect(put.status).toBeLessThan(500);
        if (put.status >= 400) {
          expect(JSON.parse(put.text)).toMatchObject({ error: { code: expect.stringMatching(/^WRK_ERR_/) } });
          return;
        }
        const get = await send('GET', path, {});
        expect(get.status).toBe(200);
        expect(JSON.parse(get.text).value).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      RUNS,
    );
  });

  test('then arbitrary bodies, content types and precondition headers never cause a 5xx', async () => {
    const header = fc.string({ unit: fc.constantFrom(...'"*W/,0123456789 abc'.split('')), maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('PUT', 'POST', 'DELETE', 'GET'),
        fc.constantFrom('/v1/kv/fz', '/v1/counters/fz/increment', '/v1/counters/fz', '/v1/kv?limit=3', '/v1/kv/fz?x=1'),
        fc.string({ maxLength: 200 }),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded'),
        fc.option(header, { nil: undefined }),
        fc.option(header, { nil: undefined }),
        fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
        async (method, path, body, contentType, ifMatch, ifNoneMatch, idempotencyKey) => {
          const headers: Record<string, string> = { 'content-type': contentType };
          if (ifMatch !== undefined) headers['if-match'] = ifMatch;
          if (ifNoneMatch !== undefined) headers['if-none-match'] = ifNoneMatch;
          // undici refuses header values with control characters; HTTP forbids them anyway.
          // eslint-disable-next-line no-control-regex -- the point is to find control characters
          if (idempotencyKey !== undefined && !/[\u0000-\u001f\u007f]/.test(idempotencyKey)) headers['idempotency-key'] = idempotencyKey;
          const res = await send(method, path, headers, method === 'GET' ? undefined : body);
          expect(res.status).toBeLessThan(500);
        },
      ),
      RUNS,
    );
  });

  test('then after the fuzzing the worker still serves and is ready', async () => {
    const ready = await request(`${worker.adminUrl}/readyz`);
    await ready.body.dump();
    expect(ready.statusCode).toBe(200);
    expect(worker.process.running).toBe(true);
  });
});
