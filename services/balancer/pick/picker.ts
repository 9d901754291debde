/** What a picker needs to know about an endpoint; UpstreamEndpoint satisfies it, tests may use plain objects. */
export interface Pickable {
  readonly id: string;
  readonly inFlight: number;
  /** Slow-start share in (0, 1]. */
  weight(): number;
  /** Peak-EWMA latency in milliseconds, undefined before the first sample. */
  latencyMs(): number | undefined;
}

export interface PickContext {
  /** Endpoints this request must not use: already tried, or at their concurrency limit. */
  readonly exclude?: ReadonlySet<string>;
  /** The consistent-hash key (header value or path segment), when the picker uses one. */
  readonly hashKey?: string;
}

export interface Picker {
  readonly name: string;
  pick<T extends Pickable>(candidates: readonly T[], context?: PickContext): T | undefined;
}

export type RandomSource = () => number;

/** The candidates minus the excluded ones; the same array (not a copy) when nothing is excluded, as on most first tries. */
export function withoutExcluded<T extends Pickable>(candidates: readonly T[], context?: PickContext): readonly T[] {
  const exclude = context?.exclude;
  if (exclude === undefined || exclude.size === 0) return candidates;
  return candidates.filter((c) => !exclude.has(c.id));
}
