import { Pool, request } from 'undici';
import { startBalancer } from '../../helpers/balancer-process.js';
import { fixtureLauncher, startUpstreams } from '../../helpers/chaos-upstream.js';
import { ProcessGroup } from '../../helpers/service-process.js';

const processes = new ProcessGroup();
afterAll(async () => {
  await processes.stopAll();
});

describe('balancer drain', () => {
  it('when the balancer gets SIGTERM with requests in flight, then readiness fails, it keeps serving for the drain delay, every request completes and it exits 0', async () => {
    const upstreams = await startUpstreams(2, fixtureLauncher({ LOG_REQUESTS: '0' }));
    for (const u of upstreams) processes.add(u.process);
    const balancer = await startBalancer(
      upstreams.map((u) => u.entry),
      { DRAIN_DELAY_MS: '1000', SHUTDOWN_TIMEOUT_MS: '15000' },
    );
    processes.add(balancer.process);
    const client = new Pool(balancer.url, { connections: 5 });
    try {
      const inFlight = Array.from({ length: 5 }, async (_, i) => {
        const res = await client.request({ path: `/slow-${i}?delay=2500`, method: 'GET', headersTimeout: 10_000 });
        return { status: res.statusCode, body: await res.body.text() };
      });
      await new Promise((r) => setTimeout(r, 300));
      const signalledAt = performance.now();
      balancer.process.signal('SIGTERM');
      await balancer.process.waitForLog((e) => e.msg === 'draining: readiness off, still serving', 5_000);

      const ready = await request(`${balancer.adminUrl}/readyz`);
      expect(ready.statusCode).toBe(503);
      expect(((await ready.body.json()) as { reason: string }).reason).toBe('draining');

      // Still serving during the drain delay, but telling clients to reconnect elsewhere.
      const during = await request(`${balancer.url}/during-drain`);
      await during.body.dump();
      expect(during.statusCode).toBe(200);
      expect(during.headers['connection']).toBe('close');

      const results = await Promise.all(inFlight);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const exit = await balancer.process.waitForExit(15_000);
      expect(exit).toEqual({ code: 0, signal: null });
      // Exit came after the drain delay and after the slow requests, not before.
      expect(performance.now() - signalledAt).toBeGreaterThan(1_000);
      const order = balancer.process.entries().map((e) => e.msg);
      expect(order.indexOf('listener closed; waiting for in-flight requests')).toBeLessThan(order.indexOf('balancer stopped'));
    } finally {
      await client.close();
    }
  });
});
