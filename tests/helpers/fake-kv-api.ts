import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Deliberate faults, one per guarantee the load checker must catch. */
export type Fault = 'none' | 'lose-writes' | 'apply-increments-twice' | 'ignore-idempotency-key' | 'stale-reads';

interface Item {
  value: unknown;
  version: number;
  previous?: { value: unknown; version: number };
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/**
 * A tiny in-memory stand-in for the worker API with one injected fault, so a
 * test can show that `load --check` fails when a guarantee is broken (a
 * checker that never fails proves nothing).
 */
export async function startFakeKvApi(fault: Fault): Promise<{ url: string; close: () => Promise<void> }> {
  const items = new Map<string, Item>();
  const counters = new Map<string, number>();
  const replies = new Map<string, { status: number; body: unknown }>();
  let version = 0;
  // lose-writes: every fourth key name seen (the first one included) keeps
  // its first stored value for good; later PUTs and DELETEs on it are
  // acknowledged and dropped. Per key rather than per request, so the final
  // read-back of such a key always disagrees with its last acknowledged write
  // (a lost write that a later write happens to cover is invisible at the end).
  const doomedKeys = new Set<string>();
  let keysSeen = 0;
  const seen = new Set<string>();
  const losesWritesTo = (name: string, item: Item | undefined): boolean => {
    if (fault !== 'lose-writes') return false;
    if (!seen.has(name)) {
      if (keysSeen % 4 === 0) doomedKeys.add(name);
      keysSeen += 1;
      seen.add(name);
    }
    return doomedKeys.has(name) && item !== undefined;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const key = req.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' && fault !== 'ignore-idempotency-key' ? key : undefined;
      const stored = idempotencyKey !== undefined ? replies.get(idempotencyKey) : undefined;
      if (stored !== undefined && req.method !== 'GET') {
        send(res, stored.status, stored.body, { 'idempotent-replayed': 'true' });
        return;
      }
      const remember = (status: number, body: unknown): void => {
        if (idempotencyKey !== undefined) replies.set(idempotencyKey, { status, body });
        send(res, status, body);
      };
      const kv = /^\/v1\/kv\/([^/]+)$/.exec(url.pathname);
      const increment = /^\/v1\/counters\/([^/]+)\/increment$/.exec(url.pathname);
      const counter = /^\/v1\/counters\/([^/]+)$/.exec(url.pathname);
      if (url.pathname === '/v1/kv' && req.method === 'GET') {
        send(res, 200, { items: [], next: null });
      } else if (kv?.[1] !== undefined) {
        const name = decodeURIComponent(kv[1]);
        const item = items.get(name);
        if (req.method === 'GET') {
          const shown = fault === 'stale-reads' && item?.previous !== undefined ? item.previous : item;
          if (shown === undefined) send(res, 404, { error: { code: 'WRK_ERR_NOT_FOUND', message: 'no such key' } });
          else send(res, 200, { key: name, value: shown.value, version: String(shown.version), updatedAt: new Date().toISOString() });
        } else if (req.method === 'PUT') {
          const body = await readJson(req);
          version += 1;
          if (!losesWritesTo(name, item)) {
            items.set(name, { value: body.value, version, ...(item !== undefined ? { previous: { value: item.value, version: item.version } } : {}) });
          }
          remember(item === undefined ? 201 : 200, { key: name, value: body.value, version: String(version), updatedAt: new Date().toISOString() });
        } else if (req.method === 'DELETE') {
          if (item === undefined) remember(404, { error: { code: 'WRK_ERR_NOT_FOUND', message: 'no such key' } });
          else {
            if (!losesWritesTo(name, item)) items.delete(name);
            remember(204, undefined);
          }
        } else send(res, 405);
      } else if (increment?.[1] !== undefined && req.method === 'POST') {
        const name = decodeURIComponent(increment[1]);
        const by = Number((await readJson(req)).by ?? 1);
        const value = (counters.get(name) ?? 0) + by * (fault === 'apply-increments-twice' ? 2 : 1);
        counters.set(name, value);
        remember(200, { name, value });
      } else if (counter?.[1] !== undefined && req.method === 'GET') {
        const name = decodeURIComponent(counter[1]);
        send(res, 200, { name, value: counters.get(name) ?? 0 });
      } else {
        send(res, 404, { error: { code: 'NOT_FOUND', message: 'no route' } });
      }
    })().catch(() => send(res, 500, { error: { code: 'FAKE', message: 'fake server failure' } }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
