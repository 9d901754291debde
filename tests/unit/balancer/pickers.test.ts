import { ConsistentHashPicker, LeastRequestPicker, P2cEwmaPicker, RoundRobinPicker, type Pickable } from '../../../services/balancer/index.js';

class FakeEndpoint implements Pickable {
  inFlight = 0;
  constructor(
    readonly id: string,
    private readonly latency: number | undefined = 5,
    private readonly w = 1,
  ) {}
  weight(): number {
    return this.w;
  }
  latencyMs(): number | undefined {
    return this.latency;
  }
}

/** A seeded generator so spreads are reproducible. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function spread(pick: () => Pickable | undefined, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const chosen = pick();
    if (chosen) counts.set(chosen.id, (counts.get(chosen.id) ?? 0) + 1);
  }
  return counts;
}

const three = (): FakeEndpoint[] => [new FakeEndpoint('a'), new FakeEndpoint('b'), new FakeEndpoint('c')];

describe('round-robin picker', () => {
  it('when endpoints are equal, then each gets exactly its turn', () => {
    const picker = new RoundRobinPicker();
    const endpoints = three();
    expect(spread(() => picker.pick(endpoints), 300)).toEqual(new Map([['a', 100], ['b', 100], ['c', 100]]));
  });

  it('when an endpoint is in slow start at weight 0.1, then it gets about a tenth of a full share, spread evenly', () => {
    const picker = new RoundRobinPicker();
    const endpoints = [new FakeEndpoint('a'), new FakeEndpoint('b'), new FakeEndpoint('new', 5, 0.1)];
    const order = Array.from({ length: 210 }, () => picker.pick(endpoints)?.id);
    expect(order.filter((id) => id === 'new')).toHaveLength(10);
    // Smooth: the new endpoint never gets two picks in a row.
    expect(order.some((id, i) => id === 'new' && order[i + 1] === 'new')).toBe(false);
  });

  it('when an endpoint is excluded, then it is skipped', () => {
    const picker = new RoundRobinPicker();
    const counts = spread(() => picker.pick(three(), { exclude: new Set(['b']) }), 100);
    expect(counts.get('b')).toBeUndefined();
    expect((counts.get('a') ?? 0) + (counts.get('c') ?? 0)).toBe(100);
  });
});

describe('least-request picker', () => {
  it('when endpoints are idle, then ties are spread at random', () => {
    const picker = new LeastRequestPicker(seeded(1));
    const counts = spread(() => picker.pick(three()), 3000);
    for (const id of ['a', 'b', 'c']) expect(counts.get(id)).toBeGreaterThan(850);
  });

  it('when one endpoint has fewer requests in flight, then it is chosen', () => {
    const picker = new LeastRequestPicker(seeded(2));
    const [a, b, c] = three() as [FakeEndpoint, FakeEndpoint, FakeEndpoint];
    a.inFlight = 4;
    b.inFlight = 1;
    c.inFlight = 3;
    expect(picker.pick([a, b, c])?.id).toBe('b');
  });

  it('when requests accumulate, then in-flight counts stay level', () => {
    const picker = new LeastRequestPicker(seeded(3));
    const endpoints = three();
    for (let i = 0; i < 30; i++) {
      const chosen = picker.pick(endpoints) as FakeEndpoint;
      chosen.inFlight += 1;
    }
    expect(endpoints.map((e) => e.inFlight)).toEqual([10, 10, 10]);
  });
});

describe('p2c-ewma picker', () => {
  it('when endpoints are equal, then the spread is even', () => {
    const picker = new P2cEwmaPicker(seeded(4));
    const counts = spread(() => picker.pick(three()), 3000);
    for (const id of ['a', 'b', 'c']) expect(counts.get(id)).toBeGreaterThan(850);
  });

  it('when one endpoint is ten times slower and nothing is in flight, then it never wins a comparison', () => {
    const picker = new P2cEwmaPicker(seeded(5));
    const endpoints = [new FakeEndpoint('fast1', 5), new FakeEndpoint('fast2', 5), new FakeEndpoint('slow', 50)];
    const counts = spread(() => picker.pick(endpoints), 3000);
    expect(counts.get('slow')).toBeUndefined();
  });

  it('when an endpoint has no latency sample yet, then it is costed like the average, not as free', () => {
    const picker = new P2cEwmaPicker(seeded(6));
    const fresh = new FakeEndpoint('fresh', undefined);
    const busy = new FakeEndpoint('busy', 5);
    fresh.inFlight = 5;
    expect(picker.pick([fresh, busy])?.id).toBe('busy');
  });

  it('when only one candidate is left after exclusions, then it is returned', () => {
    const picker = new P2cEwmaPicker(seeded(7));
    expect(picker.pick(three(), { exclude: new Set(['a', 'b']) })?.id).toBe('c');
    expect(picker.pick(three(), { exclude: new Set(['a', 'b', 'c']) })).toBeUndefined();
  });
});

describe('consistent-hash picker', () => {
  it('when the same key is picked again, then it lands on the same endpoint', () => {
    const picker = new ConsistentHashPicker(seeded(8));
    const endpoints = three();
    for (let k = 0; k < 50; k++) {
      const first = picker.pick(endpoints, { hashKey: `user-${k}` })?.id;
      expect(picker.pick(endpoints, { hashKey: `user-${k}` })?.id).toBe(first);
    }
  });

  it('when many keys are hashed, then every endpoint gets a fair share', () => {
    const picker = new ConsistentHashPicker(seeded(9));
    const endpoints = three();
    let k = 0;
    const counts = spread(() => picker.pick(endpoints, { hashKey: `key-${k++}` }), 6000);
    for (const id of ['a', 'b', 'c']) {
      expect(counts.get(id)).toBeGreaterThan(1400);
      expect(counts.get(id)).toBeLessThan(2600);
    }
  });

  it('when an endpoint is removed, then only its keys move', () => {
    const picker = new ConsistentHashPicker(seeded(10));
    const endpoints = [...three(), new FakeEndpoint('d')];
    const before = new Map<string, string | undefined>();
    for (let k = 0; k < 2000; k++) before.set(`k${k}`, picker.pick(endpoints, { hashKey: `k${k}` })?.id);
    const remaining = endpoints.filter((e) => e.id !== 'd');
    let moved = 0;
    for (const [key, owner] of before) {
      const now = picker.pick(remaining, { hashKey: key })?.id;
      if (owner !== 'd' && now !== owner) moved += 1;
    }
    expect(moved).toBe(0);
  });

  it('when the key owner is excluded (a retry), then the next endpoint on the ring is used', () => {
    const picker = new ConsistentHashPicker(seeded(11));
    const endpoints = three();
    const owner = picker.pick(endpoints, { hashKey: 'k' })?.id ?? '';
    const next = picker.pick(endpoints, { hashKey: 'k', exclude: new Set([owner]) })?.id;
    expect(next).toBeDefined();
    expect(next).not.toBe(owner);
  });

  it('when a request has no key, then it is spread at random', () => {
    const picker = new ConsistentHashPicker(seeded(12));
    const counts = spread(() => picker.pick(three()), 3000);
    for (const id of ['a', 'b', 'c']) expect(counts.get(id)).toBeGreaterThan(850);
  });
});
