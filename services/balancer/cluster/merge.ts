import { RecentTraffic, type TrafficSecond } from '../admin/recent-traffic.js';
import { trafficReport, type TrafficReport } from '../admin/traffic-route.js';
import type { UpstreamsReport } from '../admin/upstreams-route.js';
import type { EndpointStateName } from '../metrics.js';
import type { UpstreamSnapshot } from '../upstream/upstream-endpoint.js';

/**
 * How a cluster primary turns its workers' answers into one /admin/upstreams
 * and one /admin/traffic of the usual shape (the status page reads them
 * unchanged). Each worker has its own upstream table, so per-endpoint
 * figures are combined: counts add up, a streak or a remaining ejection takes
 * the largest, and when workers disagree on an endpoint's state the worst
 * one is shown (one worker ejecting an endpoint is worth seeing).
 */

/** Worst first; discovery states (terminating, not_ready) come from the same set in every worker. */
const STATE_SEVERITY: readonly EndpointStateName[] = ['terminating', 'not_ready', 'unhealthy', 'ejected', 'slow_start', 'healthy'];

function worseState(a: EndpointStateName, b: EndpointStateName): EndpointStateName {
  return STATE_SEVERITY.indexOf(a) <= STATE_SEVERITY.indexOf(b) ? a : b;
}

/** Everything but the EWMA, which is the mean over the workers with a sample (see mergeUpstreamReports). */
function mergeSnapshot(a: UpstreamSnapshot, b: UpstreamSnapshot): UpstreamSnapshot {
  const laterError = (b.lastErrorAt ?? '') > (a.lastErrorAt ?? '') ? b : a;
  return {
    ...a,
    state: worseState(a.state, b.state),
    inFlight: a.inFlight + b.inFlight,
    weight: Math.min(a.weight, b.weight),
    consecutiveFailures: Math.max(a.consecutiveFailures, b.consecutiveFailures),
    ejections: a.ejections + b.ejections,
    ejectedForMs: Math.max(a.ejectedForMs, b.ejectedForMs),
    activeHealth: a.activeHealth === 'unhealthy' || b.activeHealth === 'unhealthy' ? 'unhealthy' : a.activeHealth === 'healthy' || b.activeHealth === 'healthy' ? 'healthy' : 'unknown',
    lastError: laterError.lastError,
    lastErrorAt: laterError.lastErrorAt,
  };
}

/** One report from several workers' reports; `draining` is the primary's own state. */
export function mergeUpstreamReports(reports: readonly UpstreamsReport[], draining: boolean): UpstreamsReport {
  const byEndpoint = new Map<string, { snapshot: UpstreamSnapshot; ewmaSum: number; ewmaCount: number }>();
  for (const report of reports) {
    for (const snapshot of report.upstreams) {
      const known = byEndpoint.get(snapshot.endpoint);
      const merged = known === undefined ? { snapshot, ewmaSum: 0, ewmaCount: 0 } : { ...known, snapshot: mergeSnapshot(known.snapshot, snapshot) };
      if (snapshot.ewmaMs !== null) {
        merged.ewmaSum += snapshot.ewmaMs;
        merged.ewmaCount += 1;
      }
      byEndpoint.set(snapshot.endpoint, merged);
    }
  }
  const mean = (sum: number, count: number): number | null => (count === 0 ? null : Math.round((sum / count) * 100) / 100);
  return {
    picker: reports[0]?.picker ?? 'unknown',
    draining: draining || reports.some((r) => r.draining),
    inFlight: reports.reduce((sum, r) => sum + r.inFlight, 0),
    tunnels: reports.reduce((sum, r) => sum + r.tunnels, 0),
    panic: reports.some((r) => r.panic),
    upstreams: [...byEndpoint.values()].map((v) => ({ ...v.snapshot, ewmaMs: mean(v.ewmaSum, v.ewmaCount) })).sort((x, y) => x.endpoint.localeCompare(y.endpoint)),
    workers: reports.length,
  };
}

/** One /admin/traffic from the workers' raw seconds: counts add up and percentiles come from the summed histograms. */
export function mergeTraffic(perWorker: readonly (readonly TrafficSecond[])[], now: () => number = Date.now): TrafficReport {
  const merged = new RecentTraffic(300, now);
  for (const seconds of perWorker) merged.absorb(seconds);
  return trafficReport(merged);
}

/** A loose check of a worker's /admin/upstreams answer (the worker runs our own code; this guards against a mixed-version rollout). */
export function isUpstreamsReport(value: unknown): value is UpstreamsReport {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.picker === 'string' &&
    typeof r.draining === 'boolean' &&
    typeof r.inFlight === 'number' &&
    typeof r.tunnels === 'number' &&
    typeof r.panic === 'boolean' &&
    Array.isArray(r.upstreams) &&
    r.upstreams.every((u: unknown) => typeof u === 'object' && u !== null && typeof (u as Record<string, unknown>).endpoint === 'string' && typeof (u as Record<string, unknown>).inFlight === 'number')
  );
}

export function isTrafficSeconds(value: unknown): value is TrafficSecond[] {
  return (
    Array.isArray(value) &&
    value.every((s: unknown) => {
      if (typeof s !== 'object' || s === null) return false;
      const r = s as Record<string, unknown>;
      return Number.isInteger(r.second) && typeof r.requests === 'number' && typeof r.errors === 'number' && Array.isArray(r.latency) && r.latency.every((n) => typeof n === 'number');
    })
  );
}
