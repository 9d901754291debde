import { AggregatorRegistry, type Aggregator, type Registry } from 'prom-client';

/** What registry.getMetricsAsJSON() gives, as it travels over IPC. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * Aggregation rules that differ from the metric's own (prom-client sums
 * unless a metric says otherwise). balancer_endpoint_state is a 0/1 gauge per
 * state in each worker: summed it would count workers, averaged it stays a
 * share that adds up to 1 per endpoint (0.5 ejected = one of two workers
 * ejected it). A file-descriptor limit is the same in every process. Each
 * worker loads the certificate itself: the soonest expiry is the one that
 * matters (a worker whose reload failed still serves the old one).
 */
export const AGGREGATOR_OVERRIDES: Readonly<Record<string, Aggregator>> = {
  balancer_endpoint_state: 'average',
  balancer_tls_certificate_expiry_timestamp_seconds: 'min',
  process_max_fds: 'max',
};

export function isMetricsJson(value: unknown): value is MetricsJson {
  return (
    Array.isArray(value) &&
    value.every((m: unknown) => typeof m === 'object' && m !== null && typeof (m as Record<string, unknown>).name === 'string' && Array.isArray((m as Record<string, unknown>).values))
  );
}

/**
 * Prometheus text for several registries' JSON (the workers' and the
 * primary's own), combined with prom-client's AggregatorRegistry.aggregate:
 * counters and histograms add up, so balancer_requests_total counts every
 * request any worker answered.
 */
export async function aggregateMetrics(registries: readonly MetricsJson[]): Promise<string> {
  const adjusted = registries.map((metrics) =>
    metrics.map((metric) => {
      const override = AGGREGATOR_OVERRIDES[metric.name];
      return override === undefined ? metric : { ...metric, aggregator: override };
    }),
  );
  return AggregatorRegistry.aggregate(adjusted).metrics();
}
