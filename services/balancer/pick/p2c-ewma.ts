import { withoutExcluded, type Pickable, type PickContext, type Picker, type RandomSource } from './picker.js';

/**
 * Power of two choices over peak-EWMA latency × (in-flight + 1), divided by
 * the slow-start weight (Finagle/Linkerd "P2C-PeakEWMA"). Two random
 * endpoints are compared, never all: that keeps a herd of balancers from
 * piling onto the one endpoint that looks best to all of them.
 */
export class P2cEwmaPicker implements Picker {
  readonly name = 'p2c-ewma';

  constructor(private readonly random: RandomSource = Math.random) {}

  pick<T extends Pickable>(candidates: readonly T[], context?: PickContext): T | undefined {
    const pool = withoutExcluded(candidates, context);
    if (pool.length <= 1) return pool[0];
    // An endpoint without samples yet is assumed to be as fast as the average
    // of the others: 0 would flood it, a large default would starve it.
    const known = pool.map((c) => c.latencyMs()).filter((l): l is number => l !== undefined);
    const fallback = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
    const cost = (c: T): number => (Math.max(c.latencyMs() ?? fallback, 0.01) * (c.inFlight + 1)) / c.weight();
    const i = Math.floor(this.random() * pool.length);
    let j = Math.floor(this.random() * (pool.length - 1));
    if (j >= i) j += 1;
    const a = pool[i];
    const b = pool[j];
    if (a === undefined || b === undefined) return a ?? b;
    const ca = cost(a);
    const cb = cost(b);
    if (ca === cb) return this.random() < 0.5 ? a : b;
    return ca < cb ? a : b;
  }
}
