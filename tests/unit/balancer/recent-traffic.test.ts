import { RecentTraffic } from '../../../services/balancer/admin/recent-traffic.js';

describe('when the status page summarises recent traffic', () => {
  test('then rate, error ratio and latency percentiles come from the completed seconds of each interval', () => {
    let now = 1_000_000_000;
    const traffic = new RecentTraffic(300, () => now);
    for (let i = 0; i < 98; i++) traffic.record(200, 3); // ≤ 5 ms bucket
    traffic.record(503, 40); // ≤ 50 ms bucket
    traffic.record(200, 700); // ≤ 1000 ms bucket
    now += 1_000; // that second is now complete
    const last = traffic.points(10).at(-1);
    expect(last).toMatchObject({ requests: 100, errors: 1, ratePerSecond: 10, errorRatio: 0.01, p50Ms: 5, p99Ms: 50 });
  });

  test('then the unfinished current second is not counted, and old seconds fall out of the window', () => {
    let now = 2_000_000_000;
    const traffic = new RecentTraffic(60, () => now);
    traffic.record(200, 1);
    expect(traffic.points(10).at(-1)?.requests).toBe(0);
    now += 1_000;
    expect(traffic.points(10).at(-1)?.requests).toBe(1);
    now += 61_000;
    expect(traffic.points(10).reduce((sum, p) => sum + p.requests, 0)).toBe(0);
  });

  test('then a slot reused after the ring wraps starts from zero', () => {
    let now = 3_000_000_000;
    const traffic = new RecentTraffic(10, () => now);
    traffic.record(500, 1);
    now += 10_000; // same slot, ten seconds later
    traffic.record(200, 1);
    now += 1_000;
    const total = traffic.points(9).reduce((sum, p) => sum + p.errors, 0);
    expect(total).toBe(0);
  });

  test('then a latency beyond every finite bound gives no finite percentile', () => {
    let now = 4_000_000_000;
    const traffic = new RecentTraffic(60, () => now);
    traffic.record(200, 60_000);
    now += 1_000;
    expect(traffic.points(10).at(-1)?.p99Ms).toBeNull();
  });
});
