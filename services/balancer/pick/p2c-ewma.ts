import { withoutExcluded, type Pickable, type PickContext, type Picker, type RandomSource } from './picker.js';

/**
 * Power of two choices over peak-EWMA latency × (in-flight + 1), divided by
 * the slow-start weight (Finagle/Linkerd "P2C-PeakEWMA"). Two random
 * endpoints are compared, never all: that keeps a herd of balancers from
 * piling onto the one endpoint that looks best to all of them.
 */
function cost(c: Pickable, latencyMs: number): number {
  return (Math.max(latencyMs, 0.01) * (c.inFlight + 1)) / c.weight();
}

/** The mean latency of the endpoints that have samples, 1 ms when none has. */
function averageLatency(pool: readonly Pickable[]): number {
  let sum = 0;
  let count = 0;
  for (const c of pool) {
    const latency = c.latencyMs();
    if (latency === undefined) continue;
    sum += latency;
    count += 1;
  }
  return count > 0 ? sum / count : 1;
}

export class P2cEwmaPicker implements Picker {
  readonly name = 'p2c-ewma';

  constructor(private readonly random: RandomSource = Math.random) {}

  pick<T extends Pickable>(candidates: readonly T[], context?: PickContext): T | undefined {
    const pool = withoutExcluded(candidates, context);
    if (pool.length <= 1) return pool[0];
    // An endpoint without samples yet is assumed to be as fast as the average
    // of the others: 0 would flood it, a large default would starve it.
    const i = Math.floor(this.random() * pool.length);
    let j = Math.floor(this.random() * (pool.length - 1));
    if (j >= i) j += 1;
    const a = pool[i];
    const b = pool[j];
    if (a === undefined || b === undefined) return a ?? b;
    const la = a.latencyMs();
    const lb = b.latencyMs();
    // Computed only when one of the two has no samples (rare after warm-up).
    const fallback = la === undefined || lb === undefined ? averageLatency(pool) : 1;
    const ca = cost(a, la ?? fallback);
    const cb = cost(b, lb ?? fallback);
    if (ca === cb) return this.random() < 0.5 ? a : b;
    return ca < cb ? a : b;
  }
}
