import { connect } from 'node:net';
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listen } from '../../../services/shared/index.js';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { ChaosUpstream, fixtureLauncher, startUpstreams } from '../../helpers/chaos-upstream.js';
import { ProcessGroup } from '../../helpers/service-process.js';

const processes = new ProcessGroup();
let upstreams: ChaosUpstream[] = [];
let balancer: BalancerHandle;

beforeAll(async () => {
  upstreams = await startUpstreams(3, fixtureLauncher({ LOG_REQUESTS: '1' }));
  for (const u of upstreams) processes.add(u.process);
  balancer = await startBalancer(
    upstreams.map((u) => u.entry),
    { PER_TRY_TIMEOUT_MS: '2000', OUTLIER_CONSECUTIVE_FAILURES: '100' },
  );
  processes.add(balancer.process);
}, 60_000);

afterAll(async () => {
  await processes.stopAll();
});

/** The write token each try of a request carried, in the order the upstreams logged them. */
function tokensOf(requestId: string): (string | null)[] {
  const tokens: (string | null)[] = [];
  for (const u of upstreams) {
    for (const entry of u.process.entries()) if (entry.msg === 'request' && entry.requestId === requestId) tokens.push(entry.writeToken as string | null);
  }
  return tokens;
}

/** How many upstream processes logged a request with this id, and which. */
function seenBy(requestId: string): string[] {
  const names: string[] = [];
  for (const u of upstreams) {
    for (const entry of u.process.entries()) if (entry.msg === 'request' && entry.requestId === requestId) names.push(String(entry.name));
  }
  return names;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

/** Sends raw bytes and resolves with everything the server sent before closing. */
function raw(port: number, payload: string, waitMs = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(data);
    }, waitMs);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on('error', () => undefined);
  });
}

describe('retries', () => {
  it('when a POST without Idempotency-Key was sent and the upstream connection then dies, then it is not retried: seen exactly once, client gets 502', async () => {
    const res = await request(`${balancer.url}/reset`, { method: 'POST', headers: { 'x-request-id': 'post-once-1' }, body: '{"by":1}' });
    const body = (await res.body.json()) as { error: { code: string } };
    expect(res.statusCode).toBe(502);
    expect(body.error.code).toBe('LB_ERR_UPSTREAM_FAILED');
    await settle();
    expect(seenBy('post-once-1')).toHaveLength(1);
  });

  it('when a POST without Idempotency-Key gets a 503 from the upstream, then that answer is passed on and not retried', async () => {
    const res = await request(`${balancer.url}/status?code=503`, { method: 'POST', headers: { 'x-request-id': 'post-once-2' }, body: 'x' });
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    expect(res.headers['x-flotilla-balancer-error']).toBeUndefined();
    await settle();
    expect(seenBy('post-once-2')).toHaveLength(1);
  });

  it('when a POST carries an Idempotency-Key, then it is retried, each try on a different endpoint', async () => {
    const res = await request(`${balancer.url}/reset`, { method: 'POST', headers: { 'x-request-id': 'post-key-1', 'idempotency-key': 'k-1' }, body: 'x' });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
    await settle();
    const seen = seenBy('post-key-1');
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
  });

  it('when a PUT dies after it was sent, then it is retried, every try with the same write token of the balancer (not the client\'s)', async () => {
    const res = await request(`${balancer.url}/reset`, {
      method: 'PUT',
      headers: { 'x-request-id': 'put-token-1', 'flotilla-write-token': '00000000-0000-4000-8000-000000000000' },
      body: 'x',
    });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
    await settle();
    const tokens = tokensOf('put-token-1');
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(tokens[0]).not.toBe('00000000-0000-4000-8000-000000000000');
    // Another request gets another token.
    const next = await request(`${balancer.url}/echo`, { method: 'DELETE', headers: { 'x-request-id': 'delete-token-1' } });
    const echoed = (await next.body.json()) as { headers: Record<string, string> };
    expect(echoed.headers['flotilla-write-token']).toMatch(/^[0-9a-f-]{36}$/);
    expect(echoed.headers['flotilla-write-token']).not.toBe(tokens[0]);
  });

  it('when a request is a read, or carries its own Idempotency-Key, then it gets no write token', async () => {
    for (const [method, headers] of [['GET', {}], ['PUT', { 'idempotency-key': 'own-key' }], ['POST', {}]] as const) {
      const res = await request(`${balancer.url}/echo`, { method, headers: { ...headers, 'flotilla-write-token': '00000000-0000-4000-8000-000000000000' }, body: method === 'GET' ? undefined : 'x' });
      const echoed = (await res.body.json()) as { headers: Record<string, string> };
      expect({ method, token: echoed.headers['flotilla-write-token'] }).toEqual({ method, token: undefined });
    }
  });

  it('when a GET gets 503 everywhere, then it is tried on every endpoint once and the last answer is passed on', async () => {
    const res = await request(`${balancer.url}/status?code=503`, { headers: { 'x-request-id': 'get-503' } });
    await res.body.dump();
    expect(res.statusCode).toBe(503);
    await settle();
    expect(new Set(seenBy('get-503')).size).toBe(3);
    expect(seenBy('get-503')).toHaveLength(3);
  });
});

describe('malformed requests', () => {
  const cases: Array<[string, string, number, string]> = [
    ['conflicting Content-Length and Transfer-Encoding', 'POST /smuggle-1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggle-1b HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'LB_ERR_BAD_REQUEST'],
    ['two different Content-Lengths', 'POST /smuggle-2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'LB_ERR_BAD_REQUEST'],
    ['a bad chunk size', 'POST /smuggle-3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400, 'LB_ERR_BAD_REQUEST'],
    ['a bad chunk after a good one', 'POST /smuggle-4 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nqq\r\n', 400, 'LB_ERR_BAD_REQUEST'],
    ['oversized headers', `GET /smuggle-5 HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'LB_ERR_HEADERS_TOO_LARGE'],
    ['an obsolete line folding', 'GET /smuggle-6 HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n', 400, 'LB_ERR_BAD_REQUEST'],
  ];

  it.each(cases)('when a request has %s, then it gets the expected 4xx and is never forwarded', async (_what, payload, status, code) => {
    const answer = await raw(balancer.port, payload);
    expect(answer.split('\r\n', 1)[0]).toBe(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Request Header Fields Too Large'}`);
    expect(answer.toLowerCase()).toContain(`x-flotilla-balancer-error: ${code.toLowerCase()}`);
    expect(answer.toLowerCase()).toContain('connection: close');
    await settle();
    const forwarded = upstreams.flatMap((u) => u.process.entries()).filter((e) => e.msg === 'request' && String(e.path).startsWith('/smuggle'));
    expect(forwarded).toEqual([]);
  });

  it('when malformed requests have been answered, then the balancer still serves others', async () => {
    const res = await request(`${balancer.url}/after-malformed`);
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    expect(balancer.process.running).toBe(true);
  });
});

describe('headers and bodies', () => {
  it('when a request passes through, then hop-by-hop fields are dropped, forwarding fields set and the request id kept', async () => {
    // Raw bytes: HTTP clients refuse to send a Connection header naming other fields.
    const answer = await raw(
      balancer.port,
      `GET /echo HTTP/1.1\r\nHost: 127.0.0.1:${balancer.port}\r\nConnection: close, X-Private\r\nX-Private: secret\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\nX-Request-Id: keep-me\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n`,
    );
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    const echo = JSON.parse(body) as { headers: Record<string, string> };
    expect(head.toLowerCase()).toContain('x-request-id: keep-me');
    expect(head.toLowerCase()).toContain('via: 1.1 flotilla-balancer');
    expect(echo.headers['keep-alive']).toBeUndefined();
    expect(echo.headers['x-request-id']).toBe('keep-me');
    expect(echo.headers['x-private']).toBeUndefined();
    expect(echo.headers['te']).toBeUndefined();
    expect(echo.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(echo.headers['x-forwarded-host']).toBe(`127.0.0.1:${balancer.port}`);
    expect(echo.headers['via']).toBe('1.1 flotilla-balancer');
  });

  it('when the client sends no usable request id, then one is generated and sent both ways', async () => {
    const res = await request(`${balancer.url}/echo`, { headers: { 'x-request-id': 'bad id with spaces' } });
    const echo = (await res.body.json()) as { headers: Record<string, string> };
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(echo.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('when bodies are larger than the retry buffer, then they stream through whole in both directions', async () => {
    const upload = Buffer.alloc(3 * 1024 * 1024, 7);
    const res = await request(`${balancer.url}/echo`, { method: 'PUT', body: upload });
    expect(((await res.body.json()) as { bodyLength: number }).bodyLength).toBe(upload.length);
    const down = await request(`${balancer.url}/big?bytes=5000000`);
    expect((await down.body.arrayBuffer()).byteLength).toBe(5_000_000);
  });
});

describe('response relay', () => {
  it('when the upstream sets a field twice and names one in Connection, then both values arrive as separate fields and the named one does not', async () => {
    const answer = await raw(balancer.port, `GET /cookies HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const head = (answer.split('\r\n\r\n')[0] ?? '').toLowerCase();
    expect(head.match(/^set-cookie: .*$/gm)).toEqual(['set-cookie: a=1; path=/', 'set-cookie: b=2; path=/']);
    expect(head).not.toContain('x-upstream-private');
  });

  it('when the client reads a large body slowly, then it still gets every byte through the pause-and-resume path, and others are served meanwhile', async () => {
    const size = 8_000_000;
    let received = 0;
    let headerEnd = -1;
    let head = '';
    const done = new Promise<void>((resolve, reject) => {
      const socket = connect(balancer.port, '127.0.0.1', () => socket.write(`GET /big?bytes=${size} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
      socket.once('data', () => {
        // Stop reading long enough for every buffer between the upstream and us to fill.
        socket.pause();
        setTimeout(() => socket.resume(), 1_000);
      });
      socket.on('data', (chunk: Buffer) => {
        if (headerEnd < 0) {
          head += chunk.toString('latin1');
          headerEnd = head.indexOf('\r\n\r\n');
          if (headerEnd >= 0) received += Buffer.byteLength(head, 'latin1') - headerEnd - 4;
        } else received += chunk.length;
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const other = await request(`${balancer.url}/echo`);
    expect(other.statusCode).toBe(200);
    await other.body.dump();
    await done;
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(received).toBe(size);
  }, 30_000);
});

interface LimitAnswer {
  readonly status: number;
  readonly servedBy: string | undefined;
  readonly code: string | string[] | undefined;
  readonly retryAfter: string | string[] | undefined;
  /** Since the first request was sent. */
  readonly ms: number;
}

/** `count` requests sent at once (for the limits), each answer with the upstream that served it and the balancer's error code. */
async function sendAtOnce(count: number, url: string, headersOf: (i: number) => Record<string, string> = () => ({})): Promise<LimitAnswer[]> {
  const started = performance.now();
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await request(url, { headers: headersOf(i) });
      const body = (await res.body.json()) as { servedBy?: string };
      return { status: res.statusCode, servedBy: body.servedBy, code: res.headers['x-flotilla-balancer-error'], retryAfter: res.headers['retry-after'], ms: performance.now() - started };
    }),
  );
}

describe('limits', () => {
  let limited: BalancerHandle;
  beforeAll(async () => {
    limited = await startBalancer(upstreams.map((u) => u.entry), {
      MAX_IN_FLIGHT: '2',
      MAX_BODY_BYTES: '1000',
      RETRY_BUFFER_BYTES: '500',
      CLIENT_HEADER_TIMEOUT_MS: '500',
    });
    processes.add(limited.process);
  }, 30_000);

  it('when more requests arrive than the overall limit, then the excess gets a fast 503 with Retry-After, counted as shed', async () => {
    const answers = await sendAtOnce(6, `${limited.url}/?delay=2000`);
    const shed = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    expect(shed).toHaveLength(4);
    for (const a of shed) {
      expect(a.code).toBe('LB_ERR_OVERLOADED');
      expect(a.retryAfter).toBe('1');
      // Answered at once, not queued behind the admitted requests (2 s).
      expect(a.ms).toBeLessThan(1_000);
    }
    const metrics = await (await request(`${limited.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/balancer_shed_total\{reason="max_in_flight"\} 4/);
  });

  it('when a body is over the limit, then it gets 413 whether its length is declared or chunked', async () => {
    const declared = await request(`${limited.url}/echo`, { method: 'PUT', body: Buffer.alloc(2_000) });
    await declared.body.dump();
    expect(declared.statusCode).toBe(413);
    expect(declared.headers['x-flotilla-balancer-error']).toBe('LB_ERR_BODY_TOO_LARGE');
    // A stream without a length goes out chunked.
    const chunks = Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(300, 1)));
    const chunked = await request(`${limited.url}/echo`, { method: 'PUT', body: chunks });
    await chunked.body.dump();
    expect(chunked.statusCode).toBe(413);
  });

  it('when a client sends its headers too slowly (slowloris), then it gets 408 and the connection closes', async () => {
    const started = performance.now();
    const answer = await raw(limited.port, 'GET /slow HTTP/1.1\r\nHost: a\r\nX-Drip: 1\r\n', 5_000);
    expect(answer.split('\r\n', 1)[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe('the per-endpoint limit (MAX_IN_FLIGHT_PER_ENDPOINT)', () => {
  let perEndpoint: BalancerHandle;
  beforeAll(async () => {
    // Every request has the same hash key: the picker's first choice is
    // always the same endpoint, so the others get traffic only if the
    // balancer steps past an endpoint at its limit.
    perEndpoint = await startBalancer(upstreams.map((u) => u.entry), {
      MAX_IN_FLIGHT_PER_ENDPOINT: '2',
      BALANCER_PICKER: 'consistent-hash',
      HASH_KEY: 'header:x-tenant',
    });
    processes.add(perEndpoint.process);
  }, 30_000);

  it('when the chosen endpoint is at its limit, then the request goes to another; when all are, then a fast 503 with Retry-After, counted as shed', async () => {
    const answers = await sendAtOnce(7, `${perEndpoint.url}/?delay=1500`, (i) => ({ 'x-tenant': 'one', 'x-request-id': `per-endpoint-${i}` }));
    const served = answers.filter((a) => a.status === 200);
    // Two at a time on each of the three endpoints, none over.
    expect(served).toHaveLength(6);
    const perUpstream = new Map<string, number>();
    for (const a of served) perUpstream.set(a.servedBy ?? '', (perUpstream.get(a.servedBy ?? '') ?? 0) + 1);
    expect([...perUpstream.values()]).toEqual([2, 2, 2]);
    const [shed, ...more] = answers.filter((a) => a.status === 503);
    expect(more).toEqual([]);
    expect(shed).toMatchObject({ code: 'LB_ERR_UPSTREAMS_SATURATED', retryAfter: '1' });
    expect(shed?.ms).toBeLessThan(1_000);
    const metrics = await (await request(`${perEndpoint.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/balancer_shed_total\{reason="endpoint_limit"\} 1/);
  });
});

describe('upgrade tunnelling', () => {
  let wsUpstream: Server;
  let wsBalancer: BalancerHandle;
  beforeAll(async () => {
    wsUpstream = createServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ server: wsUpstream });
    wss.on('connection', (socket, req) => {
      socket.send(`hello ${String(req.headers['x-forwarded-for'])}`);
      socket.on('message', (data) => socket.send(`echo:${String(data)}`));
    });
    const port = await listen(wsUpstream, 0, '127.0.0.1');
    wsBalancer = await startBalancer([`http://127.0.0.1:${port}`]);
    processes.add(wsBalancer.process);
  }, 30_000);
  afterAll(async () => {
    wsUpstream.closeAllConnections();
    await closeServer(wsUpstream);
  });

  it('when a client opens a WebSocket through the balancer, then messages flow both ways', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${wsBalancer.port}/chat`);
    const received: string[] = [];
    ws.on('message', (data) => received.push(String(data)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('ping');
    const deadline = Date.now() + 3_000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual(['hello 127.0.0.1', 'echo:ping']);
    const closed = new Promise((r) => ws.once('close', r));
    ws.close();
    await closed;
  });
});

describe('admin port', () => {
  it('when scraped, then /readyz, /metrics and /admin/upstreams describe the balancer', async () => {
    expect((await request(`${balancer.adminUrl}/readyz`)).statusCode).toBe(200);
    const metrics = await (await request(`${balancer.adminUrl}/metrics`)).body.text();
    for (const name of [
      'balancer_requests_total',
      'balancer_request_duration_seconds_bucket',
      'balancer_retries_total',
      'balancer_retry_budget_exhausted_total',
      'balancer_ejections_total',
      'balancer_endpoint_state',
      'balancer_in_flight',
      'balancer_shed_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/balancer_endpoint_state\{upstream="127\.0\.0\.1:\d+",state="healthy"\} 1/);
    const page = await request(`${balancer.adminUrl}/admin/status`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(await page.body.text()).toContain('/admin/upstreams');
    const table = (await (await request(`${balancer.adminUrl}/admin/upstreams`)).body.json()) as { upstreams: Array<Record<string, unknown>> };
    expect(table.upstreams).toHaveLength(3);
    for (const row of table.upstreams) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(['endpoint', 'state', 'inFlight', 'ewmaMs', 'ejections', 'lastError']));
    }
  });
});
