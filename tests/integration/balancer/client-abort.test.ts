import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';

const BIG = Buffer.alloc(4 * 1024 * 1024, 'x');
let upstream: Server;
let balancer: BalancerHandle;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
      res.end(BIG);
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  balancer = await startBalancer([`http://127.0.0.1:${port}`]);
}, 30_000);

afterAll(async () => {
  await balancer?.process.stop();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

/** Sends a GET for the big body, reads its first bytes, then drops the connection mid-body. */
function abortMidBody(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
    socket.setTimeout(5_000, () => reject(new Error('no response bytes')));
  });
}

describe('when clients drop their connection in the middle of a large response body', () => {
  test('then the balancer stops relaying, stays up and serves the next client', async () => {
    for (let i = 0; i < 20; i++) await abortMidBody(balancer.port);
    // Give late stream errors (undici's RequestAbortedError on the upstream body) time to surface.
    await new Promise((r) => setTimeout(r, 300));
    expect(balancer.process.running).toBe(true);
    const res = await request(`${balancer.url}/small`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('ok');
  });
});
