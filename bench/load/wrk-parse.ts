/** What one wrk run measured, from the line our Lua `done` hook prints. */
export interface LoadResult {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly errors: {
    readonly connect: number;
    readonly read: number;
    readonly write: number;
    /** Responses outside 2xx/3xx. */
    readonly status: number;
    readonly timeout: number;
    readonly total: number;
  };
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly p999: number;
    readonly max: number;
    readonly mean: number;
  };
}

export const RESULT_MARKER = 'BENCH_RESULT ';

const FIELDS = ['requests', 'durationUs', 'connect', 'read', 'write', 'status', 'timeout', 'p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const;

export class WrkOutputError extends Error {
  override readonly name = 'WrkOutputError';
  readonly code = 'BENCH_ERR_WRK_OUTPUT';
}

/**
 * Parses wrk's stdout. wrk's own summary rounds latencies to two digits and
 * prints no p99.9, so the numbers come from the hook's JSON line instead
 * (latencies there are in microseconds).
 */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (line === undefined) throw new WrkOutputError(`no ${RESULT_MARKER.trim()} line in wrk output:\n${stdout.slice(-2_000)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(RESULT_MARKER.length));
  } catch (cause) {
    throw new WrkOutputError(`unparsable ${RESULT_MARKER.trim()} line: ${line}`, { cause });
  }
  const values: Record<string, number> = {};
  for (const field of FIELDS) {
    const value = (raw as Record<string, unknown> | null)?.[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new WrkOutputError(`field ${field} missing or not a non-negative number in: ${line}`);
    }
    values[field] = value;
  }
  const v = (field: (typeof FIELDS)[number]): number => values[field] ?? 0;
  const durationS = v('durationUs') / 1e6;
  const ms = (us: number): number => us / 1_000;
  const errors = { connect: v('connect'), read: v('read'), write: v('write'), status: v('status'), timeout: v('timeout') };
  return {
    requests: v('requests'),
    durationS,
    rps: durationS > 0 ? v('requests') / durationS : 0,
    errors: { ...errors, total: errors.connect + errors.read + errors.write + errors.status + errors.timeout },
    latencyMs: { p50: ms(v('p50')), p90: ms(v('p90')), p99: ms(v('p99')), p999: ms(v('p999')), max: ms(v('max')), mean: ms(v('mean')) },
  };
}
