import { withoutExcluded, type Pickable, type PickContext, type Picker } from './picker.js';

/**
 * Smooth weighted round-robin (the nginx algorithm): each endpoint gains its
 * weight per pick, the richest is chosen and pays the total. With equal
 * weights it is plain round-robin; during slow start a new endpoint gets its
 * share evenly spread instead of in bursts.
 */
export class RoundRobinPicker implements Picker {
  readonly name = 'round-robin';
  private readonly credit = new Map<string, number>();

  pick<T extends Pickable>(candidates: readonly T[], context?: PickContext): T | undefined {
    const pool = withoutExcluded(candidates, context);
    if (pool.length <= 1) return pool[0];
    let best: T | undefined;
    let bestCredit = Number.NEGATIVE_INFINITY;
    let total = 0;
    for (const c of pool) {
      const w = c.weight();
      total += w;
      const credit = (this.credit.get(c.id) ?? 0) + w;
      this.credit.set(c.id, credit);
      if (credit > bestCredit) {
        best = c;
        bestCredit = credit;
      }
    }
    if (best !== undefined) this.credit.set(best.id, bestCredit - total);
    // Forget endpoints that are gone so the map stays bounded.
    if (this.credit.size > candidates.length * 2) {
      const live = new Set(candidates.map((c) => c.id));
      for (const id of this.credit.keys()) if (!live.has(id)) this.credit.delete(id);
    }
    return best;
  }
}
