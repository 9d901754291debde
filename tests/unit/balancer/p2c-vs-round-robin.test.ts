import { createServer, type Server } from 'node:http';
import { Pool } from 'undici';
import { buildBalancer, parseBalancerConfig, type Balancer } from '../../../services/balancer/index.js';
import { StaticEndpointSource, closeServer, createLogger, listen } from '../../../services/shared/index.js';

/** A real upstream that answers after `delayMs` and counts what it served. */
async function slowServer(delayMs: number): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    setTimeout(() => res.end('ok'), delayMs);
  });
  const port = await listen(server, 0, '127.0.0.1');
  return { server, port, hits: () => hits };
}

async function runThrough(picker: string, ports: number[], requests: number, concurrency: number): Promise<void> {
  const config = parseBalancerConfig({
    BALANCER_HOST: '127.0.0.1',
    BALANCER_PORT: '0',
    BALANCER_ADMIN_PORT: '0',
    UPSTREAMS: ports.map((p) => `http://127.0.0.1:${p}`).join(','),
    BALANCER_PICKER: picker,
    DRAIN_DELAY_MS: '0',
  });
  const balancer: Balancer = buildBalancer(config, { source: new StaticEndpointSource(config.discovery.kind === 'static' ? config.discovery.entries : []), logger: createLogger('test', 'silent') });
  const { port } = await balancer.start();
  const client = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency });
  try {
    let sent = 0;
    const loop = async (): Promise<void> => {
      while (sent < requests) {
        sent += 1;
        const res = await client.request({ path: '/', method: 'GET' });
        await res.body.text();
        expect(res.statusCode).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    await client.close();
    await balancer.shutdown();
  }
}

describe('P2C-EWMA against round-robin with one slow endpoint', () => {
  const servers: Array<Awaited<ReturnType<typeof slowServer>>> = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => closeServer(s.server)));
    servers.length = 0;
  });

  it('when one of three endpoints is 10x slower, then P2C-EWMA sends it clearly fewer requests than round-robin', async () => {
    const requests = 450;
    const shares: Record<string, number> = {};
    for (const picker of ['round-robin', 'p2c-ewma']) {
      // Delays large enough that scheduling noise on a busy CI machine does not blur the 10x.
      const fast1 = await slowServer(10);
      const fast2 = await slowServer(10);
      const slow = await slowServer(100);
      servers.push(fast1, fast2, slow);
      await runThrough(picker, [fast1.port, fast2.port, slow.port], requests, 6);
      shares[picker] = slow.hits() / (fast1.hits() + fast2.hits() + slow.hits());
    }
    if (process.env.BALANCER_TEST_REPORT === '1') process.stdout.write(`${JSON.stringify({ slowShare: shares })}\n`);
    // Round-robin gives the slow endpoint its third regardless of latency.
    expect(shares['round-robin']).toBeGreaterThan(0.3);
    // P2C-EWMA should cut it to occasional probes (about 5% on an idle machine).
    expect(shares['p2c-ewma']).toBeLessThan(0.15);
    expect(shares['p2c-ewma']).toBeLessThan((shares['round-robin'] ?? 0) / 2.5);
  });
});
