import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';

/**
 * The upstream fails after the response head has been relayed: the status is
 * already on its way, so the only honest signal left to the client is a
 * connection cut before the declared length (never a short body that looks
 * complete, never a hang). The balancer itself must stay up and serve.
 */
const DECLARED = 1_000_000;
let upstream: Server;
let balancer: BalancerHandle;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/cut' || req.url === '/stall') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': DECLARED });
      res.write(Buffer.alloc(10_000, 'a'));
      // /cut: the worker dies mid-body; /stall: it stops sending and keeps the connection.
      if (req.url === '/cut') setTimeout(() => req.socket.destroy(), 50);
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  balancer = await startBalancer([`http://127.0.0.1:${port}`], { UPSTREAM_BODY_IDLE_TIMEOUT_MS: '500', OUTLIER_CONSECUTIVE_FAILURES: '100' });
}, 30_000);

afterAll(async () => {
  await balancer?.process.stop();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

/** Raw GET; resolves with the status line, the body bytes received and how long until the connection closed. */
function fetchRaw(path: string): Promise<{ statusLine: string; bodyBytes: number; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let data = Buffer.alloc(0);
    const socket = connect(balancer.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
    socket.on('close', () => {
      const headEnd = data.indexOf('\r\n\r\n');
      resolve({ statusLine: data.subarray(0, data.indexOf('\r\n')).toString('latin1'), bodyBytes: headEnd < 0 ? 0 : data.length - headEnd - 4, closedAfterMs: Date.now() - started });
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error('the balancer neither finished nor cut the response')));
  });
}

describe('when the upstream breaks off in the middle of a response body', () => {
  test('then the client gets the head and part of the body, and its connection is cut short of the declared length', async () => {
    const answer = await fetchRaw('/cut');
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
    expect(answer.bodyBytes).toBeGreaterThan(0);
    expect(answer.bodyBytes).toBeLessThan(DECLARED);
  });

  test('then a body that stops arriving is cut after the upstream body idle timeout, not left hanging', async () => {
    const answer = await fetchRaw('/stall');
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
    expect(answer.bodyBytes).toBeLessThan(DECLARED);
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(400);
  });

  test('then the balancer stays up and serves the next request', async () => {
    expect(balancer.process.running).toBe(true);
    const res = await request(`${balancer.url}/ok`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('ok');
  });
});
