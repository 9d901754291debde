import { withoutExcluded, type Pickable, type PickContext, type Picker, type RandomSource } from './picker.js';

/** Points per endpoint on the ring; more points, more even spread. */
const VIRTUAL_NODES = 160;

/** FNV-1a with the murmur3 finalizer: cheap, and good enough spread for a ring. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Ring {
  readonly key: string;
  readonly points: Uint32Array;
  readonly owners: readonly string[];
}

/**
 * Consistent hashing (a hash ring with virtual nodes) on a header value or
 * path segment: the same key lands on the same endpoint while the set is
 * stable, and only ~1/N of keys move when an endpoint comes or goes.
 * Excluded endpoints (already tried, or full) are skipped clockwise, so a
 * retry goes to the key's next endpoint. Requests without a key are spread
 * at random.
 */
export class ConsistentHashPicker implements Picker {
  readonly name = 'consistent-hash';
  private ring: Ring | undefined;

  constructor(private readonly random: RandomSource = Math.random) {}

  pick<T extends Pickable>(candidates: readonly T[], context?: PickContext): T | undefined {
    if (context?.hashKey === undefined) {
      const pool = withoutExcluded(candidates, context);
      return pool[Math.floor(this.random() * pool.length)];
    }
    const ring = this.ringFor(candidates);
    if (ring.points.length === 0) return undefined;
    const byId = new Map(candidates.map((c) => [c.id, c]));
    const h = hash32(context.hashKey);
    let lo = 0;
    let hi = ring.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ring.points[mid] ?? 0) < h) lo = mid + 1;
      else hi = mid;
    }
    for (let step = 0; step < ring.points.length; step++) {
      const owner = ring.owners[(lo + step) % ring.points.length];
      if (owner !== undefined && !context.exclude?.has(owner)) return byId.get(owner);
    }
    return undefined;
  }

  private ringFor(candidates: readonly Pickable[]): Ring {
    const ids = candidates.map((c) => c.id).sort();
    const key = ids.join(',');
    if (this.ring?.key === key) return this.ring;
    const entries: Array<[number, string]> = [];
    for (const id of ids) for (let v = 0; v < VIRTUAL_NODES; v++) entries.push([hash32(`${id}#${v}`), id]);
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    this.ring = { key, points: Uint32Array.from(entries.map((e) => e[0])), owners: entries.map((e) => e[1]) };
    return this.ring;
  }
}
