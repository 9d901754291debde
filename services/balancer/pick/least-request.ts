import { withoutExcluded, type Pickable, type PickContext, type Picker, type RandomSource } from './picker.js';

/** The endpoint with the fewest in-flight requests (per unit of slow-start weight); ties broken at random. */
export class LeastRequestPicker implements Picker {
  readonly name = 'least-request';

  constructor(private readonly random: RandomSource = Math.random) {}

  pick<T extends Pickable>(candidates: readonly T[], context?: PickContext): T | undefined {
    const pool = withoutExcluded(candidates, context);
    let best: T[] = [];
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const c of pool) {
      const load = (c.inFlight + 1) / c.weight();
      if (load < bestLoad) {
        best = [c];
        bestLoad = load;
      } else if (load === bestLoad) {
        best.push(c);
      }
    }
    return best[Math.floor(this.random() * best.length)];
  }
}
