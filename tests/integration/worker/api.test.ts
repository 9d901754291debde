import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
let worker: WorkerHandle;
/** In front of the worker, for the cases that must read the same through the balancer. */
let balancer: BalancerHandle;
const processes = new ProcessGroup();

beforeAll(async () => {
  postgres = await TestPostgres.start();
  const url = await postgres.createDatabase('api');
  worker = await startWorker(url, { VALUE_MAX_BYTES: "1024", LOG_LEVEL: "debug" });
  processes.add(worker.process);
  balancer = await startBalancer([worker.entry]);
  processes.add(balancer.process);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

async function call(method: string, path: string, options: { body?: unknown; raw?: string; headers?: Record<string, string>; base?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let payload: string | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  const res = await request(`${options.base ?? worker.url}${path}`, {
    method: method as 'GET',
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  let body: unknown = undefined;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.statusCode, headers: res.headers, body, text };
}

function errorCodeOf(reply: Reply): string | undefined {
  return (reply.body as { error?: { code?: string } } | undefined)?.error?.code;
}

describe('when a client uses the key-value API', () => {
  test('then a PUT creates (201) and a second PUT updates (200) with a new ETag', async () => {
    const created = await call('PUT', '/v1/kv/alpha', { body: { value: { n: 1 } } });
    expect(created.status).toBe(201);
    const etag1 = created.headers.etag;
    expect(etag1).toMatch(/^"\d+"$/);
    expect(created.body).toMatchObject({ key: 'alpha', value: { n: 1 } });

    const updated = await call('PUT', '/v1/kv/alpha', { body: { value: 'two' } });
    expect(updated.status).toBe(200);
    expect(updated.headers.etag).not.toBe(etag1);

    const read = await call('GET', '/v1/kv/alpha');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ key: 'alpha', value: 'two', version: expect.any(String), updatedAt: expect.any(String) });
    expect(read.headers.etag).toBe(updated.headers.etag);
  });

  test('then any JSON value round-trips, null included', async () => {
    for (const value of [null, 0, -1.5, true, 'text', [1, [2]], { a: { b: [null] } }, 'ünïcödé ✓']) {
      expect((await call('PUT', '/v1/kv/any', { body: { value } })).status).toBeLessThan(300);
      expect((await call('GET', '/v1/kv/any')).body).toMatchObject({ value });
    }
  });

  test('then compare-and-set with If-Match succeeds on the current version and fails with 412 otherwise', async () => {
    const first = await call('PUT', '/v1/kv/cas', { body: { value: 1 } });
    const etag = String(first.headers.etag);
    const ok = await call('PUT', '/v1/kv/cas', { body: { value: 2 }, headers: { 'if-match': etag } });
    expect(ok.status).toBe(200);
    const stale = await call('PUT', '/v1/kv/cas', { body: { value: 3 }, headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);
    expect(errorCodeOf(stale)).toBe('WRK_ERR_PRECONDITION_FAILED');
    expect((await call('GET', '/v1/kv/cas')).body).toMatchObject({ value: 2 });
    const missing = await call('PUT', '/v1/kv/cas-missing', { body: { value: 1 }, headers: { 'if-match': '*' } });
    expect(missing.status).toBe(412);
  });

  test('then If-None-Match: * creates once and answers 412 when the key exists', async () => {
    expect((await call('PUT', '/v1/kv/once', { body: { value: 1 }, headers: { 'if-none-match': '*' } })).status).toBe(201);
    const again = await call('PUT', '/v1/kv/once', { body: { value: 2 }, headers: { 'if-none-match': '*' } });
    expect(again.status).toBe(412);
    expect((await call('GET', '/v1/kv/once')).body).toMatchObject({ value: 1 });
  });

  test('then a GET with the current ETag in If-None-Match answers 304', async () => {
    const put = await call('PUT', '/v1/kv/cached', { body: { value: 1 } });
    const res = await call('GET', '/v1/kv/cached', { headers: { 'if-none-match': String(put.headers.etag) } });
    expect(res.status).toBe(304);
  });

  test('then DELETE answers 204, then 404, and 412 on a stale If-Match', async () => {
    const put = await call('PUT', '/v1/kv/gone', { body: { value: 1 } });
    const stale = await call('DELETE', '/v1/kv/gone', { headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    const ok = await call('DELETE', '/v1/kv/gone', { headers: { 'if-match': String(put.headers.etag) } });
    expect(ok.status).toBe(204);
    expect((await call('DELETE', '/v1/kv/gone')).status).toBe(404);
    const read = await call('GET', '/v1/kv/gone');
    expect(read.status).toBe(404);
    expect(errorCodeOf(read)).toBe('WRK_ERR_NOT_FOUND');
  });

  test('then a key deleted and created again never matches an old ETag', async () => {
    const old = await call('PUT', '/v1/kv/aba', { body: { value: 1 } });
    await call('DELETE', '/v1/kv/aba');
    await call('PUT', '/v1/kv/aba', { body: { value: 2 } });
    const res = await call('PUT', '/v1/kv/aba', { body: { value: 3 }, headers: { 'if-match': String(old.headers.etag) } });
    expect(res.status).toBe(412);
  });

  test('then paging through 1,000 keys returns each exactly once, in order', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `page-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => call('PUT', `/v1/kv/${key}`, { body: { value: key } })));
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const query: string = `prefix=page-&limit=77${after !== null ? `&after=${encodeURIComponent(after)}` : ''}`;
      const res = await call('GET', `/v1/kv?${query}`);
      expect(res.status).toBe(200);
      const page = res.body as { items: { key: string; value: string }[]; next: string | null };
      for (const item of page.items) {
        expect(item.value).toBe(item.key);
        seen.push(item.key);
      }
      after = page.next;
      pages++;
    } while (after !== null && pages < 100);
    expect(seen).toEqual(keys);
    expect(pages).toBe(Math.ceil(1000 / 77));
  });

  test('then a prefix with LIKE wildcards matches literally', async () => {
    expect((await call('PUT', `/v1/kv/${encodeURIComponent('100%_a')}`, { body: { value: 1 } })).status).toBe(201);
    expect((await call('PUT', '/v1/kv/100xya', { body: { value: 2 } })).status).toBe(201);
    const res = await call('GET', `/v1/kv?prefix=${encodeURIComponent('100%_')}`);
    expect((res.body as { items: { key: string }[] }).items.map((i) => i.key)).toEqual(['100%_a']);
  });

  test('then keys with spaces and unicode work when URL-encoded', async () => {
    const key = 'a key ✓:1';
    expect((await call('PUT', `/v1/kv/${encodeURIComponent(key)}`, { body: { value: 1 } })).status).toBe(201);
    expect((await call('GET', `/v1/kv/${encodeURIComponent(key)}`)).body).toMatchObject({ key });
  });
});

describe.each([
  ['straight to the worker', () => worker.url],
  ['through the balancer', () => balancer.url],
])('when a client sends entity-tags that are well-formed but not current (%s)', (_via, base) => {
  test('then If-Match on a PUT or DELETE fails with 412 and changes nothing, whatever the tag looks like', async () => {
    const key = `opaque-${_via.split(' ')[0]}`;
    const created = await call('PUT', `/v1/kv/${key}`, { body: { value: 1 }, base: base() });
    const current = String(created.headers.etag);
    for (const tag of ['"abc"', `W/${current}`, '"99999999999999999999"', '"0"', '""', '"x", "y"']) {
      const put = await call('PUT', `/v1/kv/${key}`, { body: { value: 2 }, headers: { 'if-match': tag }, base: base() });
      expect({ tag, status: put.status, code: errorCodeOf(put) }).toEqual({ tag, status: 412, code: 'WRK_ERR_PRECONDITION_FAILED' });
      const del = await call('DELETE', `/v1/kv/${key}`, { headers: { 'if-match': tag }, base: base() });
      expect({ tag, status: del.status }).toEqual({ tag, status: 412 });
    }
    // One matching tag in the list is enough.
    const listed = await call('PUT', `/v1/kv/${key}`, { body: { value: 3 }, headers: { 'if-match': `"abc", ${current}` }, base: base() });
    expect(listed.status).toBe(200);
    expect((await call('GET', `/v1/kv/${key}`, { base: base() })).body).toMatchObject({ value: 3 });
  });

  test('then If-None-Match on a GET answers 304 only when a tag matches', async () => {
    const key = `opaque-get-${_via.split(' ')[0]}`;
    const etag = String((await call('PUT', `/v1/kv/${key}`, { body: { value: 1 }, base: base() })).headers.etag);
    expect((await call('GET', `/v1/kv/${key}`, { headers: { 'if-none-match': '"abc"' }, base: base() })).status).toBe(200);
    expect((await call('GET', `/v1/kv/${key}`, { headers: { 'if-none-match': `"abc", W/${etag}` }, base: base() })).status).toBe(304);
  });

  test('then a field that is no entity-tag list at all is a 400', async () => {
    const bad = await call('PUT', '/v1/kv/opaque-bad', { body: { value: 1 }, headers: { 'if-match': 'abc' }, base: base() });
    expect(bad.status).toBe(400);
    expect(errorCodeOf(bad)).toBe('WRK_ERR_BAD_PRECONDITION');
  });
});

describe.each([
  ['straight to the worker', () => worker.url],
  ['through the balancer', () => balancer.url],
])('when a client uses hierarchical keys (%s)', (via, base) => {
  const root = via.startsWith('straight') ? 'h-direct' : 'h-balancer';

  test('then a key with "/" raw in the path and the same key percent-encoded are one key', async () => {
    const created = await call('PUT', `/v1/kv/${root}/app/config/db`, { body: { value: 'pg' }, base: base() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: `${root}/app/config/db` });
    const encoded = await call('GET', `/v1/kv/${encodeURIComponent(`${root}/app/config/db`)}`, { base: base() });
    expect(encoded.status).toBe(200);
    expect(encoded.body).toMatchObject({ key: `${root}/app/config/db`, value: 'pg' });
    const updated = await call('PUT', `/v1/kv/${root}%2Fapp%2Fconfig/db`, { body: { value: 'pg2' }, base: base() });
    expect(updated.status).toBe(200);
    expect((await call('DELETE', `/v1/kv/${root}/app/config/db`, { base: base() })).status).toBe(204);
    expect((await call('GET', `/v1/kv/${encodeURIComponent(`${root}/app/config/db`)}`, { base: base() })).status).toBe(404);
  });

  test('then listing a prefix that ends in "/" returns exactly the keys below it, in byte order, across pages', async () => {
    const below = ['a', 'b/c', 'b/d', 'z', 'é'].map((k) => `${root}/cfg/${k}`);
    const beside = [`${root}/cfg`, `${root}/cfgx`, `${root}/cf/g`];
    for (const key of [...beside, ...below]) expect((await call('PUT', `/v1/kv/${key}`, { body: { value: key }, base: base() })).status).toBe(201);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query = new URLSearchParams({ prefix: `${root}/cfg/`, limit: '2', ...(after !== null ? { after } : {}) });
      const res = await call('GET', `/v1/kv?${query}`, { base: base() });
      const body = res.body as { items: { key: string }[]; next: string | null };
      seen.push(...body.items.map((i) => i.key));
      after = body.next;
      if (after === null) break;
    }
    expect(seen).toEqual([...below].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  });

  test.each([
    ['an empty segment', 'a//b'],
    ['a trailing "/"', 'a/'],
    ['an encoded empty segment', 'a%2F%2Fb'],
    ['a control character', 'a/%01b'],
  ])('then a key with %s is a 400 and nothing is written', async (_what, path) => {
    const res = await call('PUT', `/v1/kv/${root}/${path}`, { body: { value: 1 }, base: base() });
    expect(res.status).toBe(400);
    expect(errorCodeOf(res)).toBe('WRK_ERR_VALIDATION');
  });
});

describe('when the balancer sends the same write token on several tries of one request', () => {
  const token = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const rows = async (t: string): Promise<number> =>
    (await postgres.query('api', 'SELECT 1 FROM write_tokens WHERE token = $1::uuid', [t])).length;

  test('then a PUT applies once: a second try gets the first answer (same ETag), marked replayed, and writes no version', async () => {
    const first = await call('PUT', '/v1/kv/tok-put', { body: { value: 'a' }, headers: { 'flotilla-write-token': token(1) } });
    expect(first.status).toBe(201);
    await call('PUT', '/v1/kv/tok-put', { body: { value: 'b' } });
    const retry = await call('PUT', '/v1/kv/tok-put', { body: { value: 'a' }, headers: { 'flotilla-write-token': token(1) } });
    expect(retry.status).toBe(201);
    expect(retry.headers.etag).toBe(first.headers.etag);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    // The other writer's value stays: the retry did not overwrite it.
    expect((await call('GET', '/v1/kv/tok-put')).body).toMatchObject({ value: 'b' });
    expect(await rows(token(1))).toBe(1);
  });

  test('then a conditional PUT whose first try committed is answered 200, not 412', async () => {
    const created = await call('PUT', '/v1/kv/tok-cas', { body: { value: 1 } });
    const ifMatch = String(created.headers.etag);
    const first = await call('PUT', '/v1/kv/tok-cas', { body: { value: 2 }, headers: { 'if-match': ifMatch, 'flotilla-write-token': token(2) } });
    expect(first.status).toBe(200);
    const retry = await call('PUT', '/v1/kv/tok-cas', { body: { value: 2 }, headers: { 'if-match': ifMatch, 'flotilla-write-token': token(2) } });
    expect(retry.status).toBe(200);
    expect(retry.headers.etag).toBe(first.headers.etag);
  });

  test('then a try that found the precondition failed stays failed: a later try applies nothing even once it would hold', async () => {
    await call('PUT', '/v1/kv/tok-late', { body: { value: 'there' } });
    const first = await call('PUT', '/v1/kv/tok-late', { body: { value: 'mine' }, headers: { 'if-none-match': '*', 'flotilla-write-token': token(3) } });
    expect(first.status).toBe(412);
    expect((await call('DELETE', '/v1/kv/tok-late')).status).toBe(204);
    // A paused worker waking up with the same try: the client was told 412.
    const late = await call('PUT', '/v1/kv/tok-late', { body: { value: 'mine' }, headers: { 'if-none-match': '*', 'flotilla-write-token': token(3) } });
    expect(late.status).toBe(412);
    expect((await call('GET', '/v1/kv/tok-late')).status).toBe(404);
  });

  test('then a DELETE whose first try committed is answered 204 again, not 404, and deletes nothing created since', async () => {
    await call('PUT', '/v1/kv/tok-del', { body: { value: 1 } });
    expect((await call('DELETE', '/v1/kv/tok-del', { headers: { 'flotilla-write-token': token(4) } })).status).toBe(204);
    await call('PUT', '/v1/kv/tok-del', { body: { value: 2 } });
    const retry = await call('DELETE', '/v1/kv/tok-del', { headers: { 'flotilla-write-token': token(4) } });
    expect(retry.status).toBe(204);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((await call('GET', '/v1/kv/tok-del')).body).toMatchObject({ value: 2 });
  });

  test('then a DELETE that deleted nothing deletes nothing on a later try either', async () => {
    expect((await call('DELETE', '/v1/kv/tok-del-none', { headers: { 'flotilla-write-token': token(5) } })).status).toBe(404);
    await call('PUT', '/v1/kv/tok-del-none', { body: { value: 1 } });
    expect((await call('DELETE', '/v1/kv/tok-del-none', { headers: { 'flotilla-write-token': token(5) } })).status).toBe(404);
    expect((await call('GET', '/v1/kv/tok-del-none')).status).toBe(200);
  });

  test('then a token that is not a UUID is a 400 and writes nothing', async () => {
    const bad = await call('PUT', '/v1/kv/tok-bad', { body: { value: 1 }, headers: { 'flotilla-write-token': 'not-a-uuid' } });
    expect(bad.status).toBe(400);
    expect((await call('GET', '/v1/kv/tok-bad')).status).toBe(404);
  });
});

describe('when a client uses counters', () => {
  test('then a counter never incremented reads 0 and increments add up', async () => {
    expect((await call('GET', '/v1/counters/fresh')).body).toEqual({ name: 'fresh', value: 0 });
    expect((await call('POST', '/v1/counters/fresh/increment', { body: { by: 5 } })).body).toEqual({ name: 'fresh', value: 5 });
    expect((await call('POST', '/v1/counters/fresh/increment', { body: { by: -2 } })).body).toEqual({ name: 'fresh', value: 3 });
    expect((await call('POST', '/v1/counters/fresh/increment')).body).toEqual({ name: 'fresh', value: 4 });
  });

  test('then a repeated Idempotency-Key replays the first response and applies once', async () => {
    const headers = { 'idempotency-key': 'inc-repeat-1' };
    const first = await call('POST', '/v1/counters/idem/increment', { body: { by: 10 }, headers });
    const second = await call('POST', '/v1/counters/idem/increment', { body: { by: 10 }, headers });
    expect(first.status).toBe(200);
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect((await call('GET', '/v1/counters/idem')).body).toEqual({ name: 'idem', value: 10 });
  });

  test('then 50 concurrent increments with the same Idempotency-Key apply once', async () => {
    const headers = { 'idempotency-key': 'inc-concurrent-50' };
    const replies = await Promise.all(Array.from({ length: 50 }, () => call('POST', '/v1/counters/race/increment', { body: { by: 1 }, headers })));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ name: 'race', value: 1 });
    }
    expect(replies.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    expect((await call('GET', '/v1/counters/race')).body).toEqual({ name: 'race', value: 1 });
  });

  test('then the same Idempotency-Key for a different request is refused with 422', async () => {
    const headers = { 'idempotency-key': 'inc-reused' };
    await call('POST', '/v1/counters/reuse/increment', { body: { by: 1 }, headers });
    const other = await call('POST', '/v1/counters/reuse/increment', { body: { by: 2 }, headers });
    expect(other.status).toBe(422);
    expect(errorCodeOf(other)).toBe('WRK_ERR_IDEMPOTENCY_KEY_REUSED');
    expect((await call('GET', '/v1/counters/reuse')).body).toEqual({ name: 'reuse', value: 1 });
  });

  test('then an idempotent PUT replays its first response, ETag included', async () => {
    const headers = { 'idempotency-key': 'put-once-1', 'if-none-match': '*' };
    const first = await call('PUT', '/v1/kv/idem-put', { body: { value: 1 }, headers });
    const second = await call('PUT', '/v1/kv/idem-put', { body: { value: 1 }, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.etag).toBe(first.headers.etag);
  });
});

describe('when a client sends bad input', () => {
  test.each([
    ['invalid JSON', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_BAD_JSON', { raw: '{"value": ' }],
    ['a body without value', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_VALIDATION', { body: { nope: 1 } }],
    ['extra body fields', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_VALIDATION', { body: { value: 1, extra: 2 } }],
    ['a non-object body', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_VALIDATION', { raw: '[1,2]' }],
    ['a text body', 'PUT', '/v1/kv/x', 415, 'WRK_ERR_UNSUPPORTED_MEDIA_TYPE', { raw: 'hello', headers: { 'content-type': 'text/plain' } }],
    ['an oversized value', 'PUT', '/v1/kv/x', 413, 'WRK_ERR_VALUE_TOO_LARGE', { body: { value: 'x'.repeat(2000) } }],
    ['an oversized body', 'PUT', '/v1/kv/x', 413, 'WRK_ERR_VALUE_TOO_LARGE', { body: { value: 'x'.repeat(20_000) } }],
    ['a too deeply nested value', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_JSON_TOO_DEEP', { raw: `{"value":${'['.repeat(40)}${']'.repeat(40)}}` }],
    ['a NUL character in a string value', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_VALIDATION', { raw: '{"value":{"s":"a\\u0000b"}}' }],
    ['a __proto__ key', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_BAD_JSON', { raw: '{"value":{"__proto__":{"polluted":true}}}' }],
    ['a key that is too long', 'GET', `/v1/kv/${'k'.repeat(300)}`, 400, 'WRK_ERR_VALIDATION', {}],
    ['a key with a control character', 'GET', '/v1/kv/a%01b', 400, 'WRK_ERR_VALIDATION', {}],
    ['a bad If-Match', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_BAD_PRECONDITION', { body: { value: 1 }, headers: { 'if-match': 'v1' } }],
    ['If-None-Match with a tag on a write', 'PUT', '/v1/kv/x', 400, 'WRK_ERR_BAD_PRECONDITION', { body: { value: 1 }, headers: { 'if-none-match': '"3"' } }],
    ['a page size over the limit', 'GET', '/v1/kv?limit=5000', 400, 'WRK_ERR_VALIDATION', {}],
    ['a page size that is not a number', 'GET', '/v1/kv?limit=ten', 400, 'WRK_ERR_VALIDATION', {}],
    ['an unknown query parameter', 'GET', '/v1/kv?colour=red', 400, 'WRK_ERR_VALIDATION', {}],
    ['a non-integer increment', 'POST', '/v1/counters/c/increment', 400, 'WRK_ERR_VALIDATION', { body: { by: 1.5 } }],
    ['an increment beyond the limit', 'POST', '/v1/counters/c/increment', 400, 'WRK_ERR_VALIDATION', { body: { by: 1e12 } }],
    ['an empty Idempotency-Key', 'POST', '/v1/counters/c/increment', 400, 'WRK_ERR_VALIDATION', { body: { by: 1 }, headers: { 'idempotency-key': ' ' } }],
    ['an unknown route', 'GET', '/v2/nothing', 404, 'WRK_ERR_ROUTE_NOT_FOUND', {}],
    ['an unknown method on a known path', 'PATCH', '/v1/kv/x', 404, 'WRK_ERR_ROUTE_NOT_FOUND', {}],
  ] as const)('then %s (%s %s) gets %i %s and nothing is written', async (_name, method, path, status, code, options) => {
    const res = await call(method, path, options as { body?: unknown; raw?: string; headers?: Record<string, string> });
    expect(res.status).toBe(status);
    expect(errorCodeOf(res)).toBe(code);
    expect((res.body as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    expect(res.text).not.toMatch(/at .*\.js:\d+/); // no stack traces
  });

  test('then nothing was written by any refused request and the worker still serves', async () => {
    expect((await call('GET', '/v1/kv/x')).status).toBe(404);
    expect((await call('GET', '/v1/counters/c')).body).toEqual({ name: 'c', value: 0 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('when a client asks about the cluster and the admin port', () => {
  test('then /v1/cluster names the worker', async () => {
    const res = await call('GET', '/v1/cluster');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ self: { id: expect.any(String) }, peers: [], discovery: 'static(0)' });
  });

  test('then X-Request-Id is kept when sent and generated when not', async () => {
    const kept = await call('GET', '/v1/kv/alpha', { headers: { 'x-request-id': 'req-abc.123' } });
    expect(kept.headers['x-request-id']).toBe('req-abc.123');
    const made = await call('GET', '/v1/kv/alpha');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await call('GET', '/v1/kv/alpha', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(hostile.headers['x-request-id']).not.toBe('bad id with spaces');
  });

  test('then /livez, /readyz and /metrics answer on the admin port', async () => {
    expect((await request(`${worker.adminUrl}/livez`)).statusCode).toBe(200);
    const ready = await request(`${worker.adminUrl}/readyz`);
    expect(ready.statusCode).toBe(200);
    await ready.body.dump();
    const metrics = await request(`${worker.adminUrl}/metrics`);
    const text = await metrics.body.text();
    expect(text).toContain('http_request_duration_seconds_bucket{');
    expect(text).toMatch(/http_request_duration_seconds_count\{method="PUT",route="\/v1\/kv\/:key",status_code="201"\} \d+/);
    expect(text).toMatch(/pg_pool_clients \d+/);
    expect(text).toMatch(/pg_pool_idle_clients \d+/);
    expect(text).toMatch(/pg_pool_waiting_requests \d+/);
    expect(text).toMatch(/worker_idempotent_replays_total\{route="\/v1\/counters\/:name\/increment"\} [1-9]/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  test('then its logs are JSON lines that carry the request id', async () => {
    await call('GET', '/v1/kv/missing-for-log', { headers: { 'x-request-id': 'trace-me-42' } });
    const entries = await worker.process.waitForLog((e) => e.requestId === 'trace-me-42', 5_000);
    expect(entries).toMatchObject({ service: 'worker', requestId: 'trace-me-42' });
  });
});
