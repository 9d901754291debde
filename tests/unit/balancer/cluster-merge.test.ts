import { Registry } from 'prom-client';
import { RecentTraffic } from '../../../services/balancer/admin/recent-traffic.js';
import type { UpstreamsReport } from '../../../services/balancer/admin/upstreams-route.js';
import { isTrafficSeconds, isUpstreamsReport, mergeTraffic, mergeUpstreamReports } from '../../../services/balancer/cluster/merge.js';
import { aggregateMetrics, isMetricsJson } from '../../../services/balancer/cluster/metrics-aggregation.js';
import { BalancerMetrics } from '../../../services/balancer/metrics.js';
import type { UpstreamSnapshot } from '../../../services/balancer/upstream/upstream-endpoint.js';

function snapshot(endpoint: string, fields: Partial<UpstreamSnapshot> = {}): UpstreamSnapshot {
  return {
    endpoint,
    state: 'healthy',
    ready: true,
    serving: true,
    terminating: false,
    inFlight: 0,
    ewmaMs: null,
    weight: 1,
    consecutiveFailures: 0,
    ejections: 0,
    ejectedForMs: 0,
    activeHealth: 'unknown',
    lastError: null,
    lastErrorAt: null,
    ...fields,
  };
}

function report(upstreams: UpstreamSnapshot[], fields: Partial<UpstreamsReport> = {}): UpstreamsReport {
  return { picker: 'p2c-ewma', draining: false, inFlight: 0, tunnels: 0, panic: false, upstreams, ...fields };
}

describe('merging the workers’ /admin/upstreams', () => {
  it('when two workers report the same endpoints, then counts add up, the worst state and latest error show, and the shape stays', () => {
    const a = report(
      [
        snapshot('10.0.0.1:8080', { inFlight: 3, ewmaMs: 10, ejections: 1, consecutiveFailures: 2, lastError: 'old', lastErrorAt: '2026-01-01T00:00:00.000Z' }),
        snapshot('10.0.0.2:8080', { inFlight: 1, ewmaMs: null }),
      ],
      { inFlight: 4, tunnels: 1 },
    );
    const b = report(
      [
        snapshot('10.0.0.1:8080', { inFlight: 2, ewmaMs: 20, ejections: 2, state: 'ejected', ejectedForMs: 4_000, consecutiveFailures: 5, lastError: 'new', lastErrorAt: '2026-01-01T00:00:05.000Z', weight: 0.5 }),
        snapshot('10.0.0.2:8080', { inFlight: 4, ewmaMs: 7, activeHealth: 'healthy' }),
      ],
      { inFlight: 6, tunnels: 2, panic: true },
    );
    const merged = mergeUpstreamReports([a, b], false);
    expect(merged).toMatchObject({ picker: 'p2c-ewma', draining: false, inFlight: 10, tunnels: 3, panic: true, workers: 2 });
    expect(merged.upstreams).toEqual([
      snapshot('10.0.0.1:8080', { inFlight: 5, ewmaMs: 15, ejections: 3, state: 'ejected', ejectedForMs: 4_000, consecutiveFailures: 5, lastError: 'new', lastErrorAt: '2026-01-01T00:00:05.000Z', weight: 0.5 }),
      snapshot('10.0.0.2:8080', { inFlight: 5, ewmaMs: 7, activeHealth: 'healthy' }),
    ]);
    expect(isUpstreamsReport(merged)).toBe(true);
  });

  it('when three workers have latency samples, then the EWMA shown is their mean; the primary’s drain shows even if no worker drains yet', () => {
    const merged = mergeUpstreamReports([10, 20, 60].map((ewmaMs) => report([snapshot('e:1', { ewmaMs })])), true);
    expect(merged.upstreams[0]?.ewmaMs).toBe(30);
    expect(merged.draining).toBe(true);
  });

  it('when a worker has no latency sample yet, then the EWMA shown is the mean of the workers that have one', () => {
    const merged = mergeUpstreamReports([null, 10, 20].map((ewmaMs) => report([snapshot('e:1', { ewmaMs })])), false);
    expect(merged.upstreams[0]?.ewmaMs).toBe(15);
  });

  it('when a worker answer is malformed, then the check rejects it', () => {
    expect(isUpstreamsReport({ picker: 'x' })).toBe(false);
    expect(isUpstreamsReport({ ...report([]), upstreams: [{ endpoint: 1 }] })).toBe(false);
  });
});

describe('merging the workers’ /admin/traffic', () => {
  it('when two workers saw traffic, then requests and errors add up and percentiles come from the summed histograms', () => {
    let now = 1_000_000_000;
    const clock = (): number => now;
    const fast = new RecentTraffic(300, clock);
    const slow = new RecentTraffic(300, clock);
    for (let i = 0; i < 60; i++) fast.record(200, 3); // ≤ 5 ms
    for (let i = 0; i < 40; i++) slow.record(i < 2 ? 502 : 200, 300); // ≤ 500 ms
    now += 1_000;
    expect(isTrafficSeconds(fast.seconds())).toBe(true);
    const merged = mergeTraffic([fast.seconds(), slow.seconds()], clock);
    expect(merged.last).toMatchObject({ requests: 100, errors: 2, errorRatio: 0.02, p50Ms: 5, p99Ms: 500 });
    expect(merged.intervalSeconds).toBe(10);
    expect(merged.points).toHaveLength(29);
    expect(isTrafficSeconds([{ second: 1, requests: 1, errors: 0, latency: ['x'] }])).toBe(false);
  });
});

describe('aggregating the workers’ metrics', () => {
  it('when two workers counted requests, then the aggregate sums counters and histograms and averages the endpoint state', async () => {
    const workers = [new Registry(), new Registry()];
    const metrics = workers.map((r) => new BalancerMetrics(r));
    metrics[0]?.requests.inc({ upstream: 'e:1', method: 'GET', status_class: '2xx' }, 3);
    metrics[1]?.requests.inc({ upstream: 'e:1', method: 'GET', status_class: '2xx' }, 4);
    metrics[0]?.duration.observe({ method: 'GET', status_class: '2xx' }, 0.002);
    metrics[1]?.duration.observe({ method: 'GET', status_class: '2xx' }, 0.002);
    metrics[0]?.setEndpointState('e:1', 'ejected');
    metrics[1]?.setEndpointState('e:1', 'healthy');
    const jsons = await Promise.all(workers.map((r) => r.getMetricsAsJSON()));
    // As it arrives over IPC: plain JSON.
    const overIpc: unknown[] = jsons.map((j) => JSON.parse(JSON.stringify(j)));
    expect(overIpc.every(isMetricsJson)).toBe(true);
    const text = await aggregateMetrics(overIpc.filter(isMetricsJson));
    expect(text).toContain('balancer_requests_total{upstream="e:1",method="GET",status_class="2xx"} 7');
    expect(text).toContain('balancer_request_duration_seconds_count{method="GET",status_class="2xx"} 2');
    expect(text).toContain('balancer_endpoint_state{upstream="e:1",state="ejected"} 0.5');
    expect(text).toContain('balancer_endpoint_state{upstream="e:1",state="healthy"} 0.5');
    expect(isMetricsJson([{ name: 'x' }])).toBe(false);
  });
});
