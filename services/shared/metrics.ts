import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per service instance (no global default registry), so tests
 * can run several services in one process without metric name clashes.
 * Default process metrics (CPU, memory, event-loop lag, GC) are included.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // These three are gauges named like counters, which `promtool check
  // metrics` rejects; the per-type gauges (nodejs_active_handles{type}, …)
  // carry the same information.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  return registry;
}

/** Latency buckets in seconds, from 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
