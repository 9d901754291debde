import type { RequestRecord } from './fixed-concurrency.js';

export interface FailoverSummary {
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  /** Error code (or `status <n>`) → count. */
  readonly errorKinds: Readonly<Record<string, number>>;
  /** From the kill to the end of the last failed request; null with no errors. */
  readonly lastErrorAfterKillMs: number | null;
  /** Slowest request that was in flight at the kill or started within 2 s after it: the cost of retries and detection. */
  readonly maxLatencyAroundKillMs: number;
  readonly p99Ms: number;
}

/** Nearest-rank percentile of an ascending array; 0 for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

export function summarizeFailover(records: readonly RequestRecord[], killAtMs: number, durationMs: number): FailoverSummary {
  const errorKinds: Record<string, number> = {};
  let lastError: number | null = null;
  let maxAround = 0;
  for (const r of records) {
    if (r.error !== undefined) {
      errorKinds[r.error] = (errorKinds[r.error] ?? 0) + 1;
      if (r.end >= killAtMs) lastError = Math.max(lastError ?? 0, r.end - killAtMs);
    }
    if (r.end >= killAtMs && r.start <= killAtMs + 2_000) maxAround = Math.max(maxAround, r.end - r.start);
  }
  const latencies = records.map((r) => r.end - r.start).sort((a, b) => a - b);
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  return {
    requests: records.length,
    rps: durationMs > 0 ? records.length / (durationMs / 1_000) : 0,
    errors,
    errorKinds,
    lastErrorAfterKillMs: lastError,
    maxLatencyAroundKillMs: maxAround,
    p99Ms: percentile(latencies, 99),
  };
}
