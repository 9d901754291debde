import type { ClientHttp2Session } from 'node:http2';
import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { curl, metricValue } from '../../helpers/curl.js';
import { freePort } from '../../helpers/free-port.js';
import { closeSession, h2Request, openSession } from '../../helpers/http2-client.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { TestPki } from '../../helpers/test-pki.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

// TLS and HTTP/2 at the balancer (issue 17), against real workers on a real
// (embedded) Postgres: curl over h2 and http/1.1, Node's http2 client, the
// limits, retries after a worker is SIGKILLed, the redirect listener.
const processes = new ProcessGroup();
let postgres: TestPostgres;
let pki: TestPki;
let workers: WorkerHandle[] = [];
let balancer: BalancerHandle;
let redirectPort: number;
let session: ClientHttp2Session;

const metrics = async (): Promise<string> => (await request(`${balancer.adminUrl}/metrics`, { headersTimeout: 5_000, bodyTimeout: 5_000 })).body.text();
const curlTls = (args: readonly string[]): ReturnType<typeof curl> => curl(['--cacert', pki.caCertFile, ...args]);

beforeAll(async () => {
  pki = TestPki.create();
  const server = pki.issue('server');
  postgres = await TestPostgres.start();
  const databaseUrl = await postgres.createDatabase('balancer_tls');
  workers = await Promise.all([startWorker(databaseUrl, { LOG_LEVEL: 'debug' }), startWorker(databaseUrl, { LOG_LEVEL: 'debug' })]);
  for (const w of workers) processes.add(w.process);
  const port = await freePort();
  redirectPort = await freePort();
  balancer = await startBalancer(
    workers.map((w) => w.entry),
    {
      BALANCER_PORT: String(port),
      BALANCER_TLS_CERT_FILE: server.certFile,
      BALANCER_TLS_KEY_FILE: server.keyFile,
      BALANCER_HTTP_REDIRECT_PORT: String(redirectPort),
      BALANCER_HTTP_REDIRECT_HTTPS_PORT: String(port),
      MAX_BODY_BYTES: '65536',
      RETRY_BUFFER_BYTES: '65536',
      MAX_HEADER_COUNT: '50',
      OUTLIER_CONSECUTIVE_FAILURES: '100',
      CONNECT_TIMEOUT_MS: '500',
    },
  );
  processes.add(balancer.process);
  session = await openSession(balancer.port, { ca: pki.caCert });
}, 90_000);

afterAll(async () => {
  if (session !== undefined) await closeSession(session);
  await processes.stopAll();
  await postgres?.destroy();
  pki?.remove();
});

describe('when the balancer serves TLS on its data port', () => {
  test('then curl --http2 and curl --http1.1 both reach a worker, write and read back, over the protocol they asked for', async () => {
    const put = await curlTls(['--http2', '-X', 'PUT', '-H', 'content-type: application/json', '-d', '{"value":"over h2"}', '-w', '\\n%{http_version} %{http_code}', `https://localhost:${balancer.port}/v1/kv/tls-a`]);
    expect(put.code).toBe(0);
    expect(put.stdout.trim().split('\n').pop()).toBe('2 201');
    const get = await curlTls(['--http1.1', '-w', '\\n%{http_version} %{http_code}', `https://localhost:${balancer.port}/v1/kv/tls-a`]);
    expect(get.code).toBe(0);
    const lines = get.stdout.trim().split('\n');
    expect(lines.pop()).toBe('1.1 200');
    expect(JSON.parse(lines.join('\n'))).toMatchObject({ key: 'tls-a', value: 'over h2' });
    const text = await metrics();
    expect(metricValue(text, 'balancer_protocol_requests_total{protocol="h2",scheme="https"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'balancer_protocol_requests_total{protocol="http/1.1",scheme="https"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'balancer_tls_handshakes_total{result="ok"}')).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'balancer_tls_certificate_expiry_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 + 6 * 86_400);
  });

  test('then TLS 1.1 is refused in the handshake and counted as a failed handshake', async () => {
    const before = metricValue(await metrics(), 'balancer_tls_handshakes_total{result="failed"}');
    const old = await curlTls(['--tlsv1.1', '--tls-max', '1.1', `https://localhost:${balancer.port}/v1/kv/tls-a`]);
    // 35: SSL connect error (the server's protocol_version alert).
    expect(old.code).toBe(35);
    expect(metricValue(await metrics(), 'balancer_tls_handshakes_total{result="failed"}')).toBe(before + 1);
  });

  test('then Node\'s http2 client gets the same answers, request ids and access lines as HTTP/1.1; :authority becomes Host and a body without Content-Length is forwarded', async () => {
    const put = await h2Request(session, { method: 'PUT', path: '/v1/kv/tls-b', headers: { 'content-type': 'application/json', 'x-request-id': 'h2-put-1' }, body: '{"value":{"n":1}}' });
    expect(put.status).toBe(201);
    expect(put.headers['x-request-id']).toBe('h2-put-1');
    expect(put.headers.etag).toMatch(/^"\d+"$/);
    expect(put.headers.via).toBe('1.1 flotilla-balancer');
    for (const name of ['connection', 'keep-alive', 'transfer-encoding']) expect(put.headers[name]).toBeUndefined();
    const get = await h2Request(session, { path: '/v1/kv/tls-b' });
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body)).toMatchObject({ value: { n: 1 } });
    const incr = await h2Request(session, { method: 'POST', path: '/v1/counters/tls-c/increment', headers: { 'content-type': 'application/json', 'idempotency-key': 'tls-c-1' }, body: '{"by":5}' });
    expect(incr.status).toBe(200);
    expect(JSON.parse(incr.body)).toMatchObject({ value: 5 });
    const access = await balancer.process.waitForLog((e) => e.msg === 'access' && e.requestId === 'h2-put-1', 5_000);
    expect(access).toMatchObject({ method: 'PUT', path: '/v1/kv/tls-b', status: 201, attempts: 1 });
    // The worker that served it logs the same request id.
    await Promise.any(workers.map((w) => w.process.waitForLog((e) => e.msg === 'request completed' && e.requestId === 'h2-put-1', 5_000)));
    const cluster = await h2Request(session, { path: '/v1/cluster' });
    expect(cluster.status).toBe(200);
  });

  test('then the HTTP/1.1 limits hold over HTTP/2: a body over MAX_BODY_BYTES is 413, too many fields 431, and the session goes on', async () => {
    const big = await h2Request(session, { method: 'PUT', path: '/v1/kv/tls-big', headers: { 'content-type': 'application/json' }, body: `{"value":"${'x'.repeat(100_000)}"}` });
    expect(big.status).toBe(413);
    expect(big.headers['x-flotilla-balancer-error']).toBe('LB_ERR_BODY_TOO_LARGE');
    const fields: Record<string, string> = {};
    for (let i = 0; i < 60; i++) fields[`x-field-${i}`] = 'v';
    const many = await h2Request(session, { path: '/v1/kv/tls-a', headers: fields });
    expect(many.status).toBe(431);
    expect((await h2Request(session, { path: '/v1/kv/tls-a' })).status).toBe(200);
  });

  test('then the redirect listener answers 308 to the https URL, for any method, and never proxies', async () => {
    const res = await curl(['-X', 'PUT', '-d', 'x', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `http://localhost:${redirectPort}/v1/kv/tls-a?x=1`]);
    expect(res.stdout).toBe(`308 https://localhost:${balancer.port}/v1/kv/tls-a?x=1`);
    const bad = await curl(['-H', 'Host: evil.example/@x', '-o', '/dev/null', '-w', '%{http_code}', `http://localhost:${redirectPort}/`]);
    expect(bad.stdout).toBe('400');
  });

  test('when a worker is SIGKILLed, then HTTP/2 requests are retried on the other one as HTTP/1.1 requests are: every GET and PUT succeeds', async () => {
    const victim = workers[0] as WorkerHandle;
    victim.process.signal('SIGKILL');
    await victim.process.waitForExit(10_000);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 2 === 0
          ? h2Request(session, { method: 'PUT', path: `/v1/kv/tls-kill-${i}`, headers: { 'content-type': 'application/json' }, body: `{"value":${i}}` })
          : h2Request(session, { path: '/v1/kv/tls-a' }),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s >= 300)).toEqual([]);
    const h1 = await curlTls(['--http1.1', '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${balancer.port}/v1/kv/tls-a`]);
    expect(h1.stdout).toBe('200');
  });
});
