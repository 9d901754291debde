import fc from 'fast-check';
import { Registry } from 'prom-client';
import { BalancerMetrics, OutlierDetector, UpstreamTable, type UpstreamEndpoint } from '../../../services/balancer/index.js';
import { StaticEndpointSource, createLogger, type Endpoint } from '../../../services/shared/index.js';

const options = { consecutiveFailures: 3, baseEjectionMs: 1_000, maxEjectionMs: 3_500 };

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('outlier detector', () => {
  it('when failures stay below the threshold, then the endpoint stays healthy', () => {
    const c = clock();
    const d = new OutlierDetector(options, c.now);
    expect(d.recordFailure()).toBe(false);
    expect(d.recordFailure()).toBe(false);
    d.recordSuccess();
    expect(d.recordFailure()).toBe(false);
    expect(d.state()).toBe('healthy');
  });

  it('when failures reach the threshold in a row, then it qualifies and is ejected for the base time', () => {
    const c = clock();
    const d = new OutlierDetector(options, c.now);
    d.recordFailure();
    d.recordFailure();
    expect(d.recordFailure()).toBe(true);
    expect(d.eject()).toBe(1_000);
    expect(d.state()).toBe('ejected');
    c.advance(999);
    expect(d.state()).toBe('ejected');
    c.advance(1);
    expect(d.state()).toBe('healthy');
  });

  it('when it is ejected again soon after, then the ejection time grows up to the cap', () => {
    const c = clock();
    const d = new OutlierDetector(options, c.now);
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      durations.push(d.eject());
      c.advance(d.remainingMs());
    }
    expect(durations).toEqual([1_000, 2_000, 3_000, 3_500, 3_500]);
    expect(d.ejections).toBe(5);
  });

  it('when it behaved for longer than the max ejection time, then the next ejection starts at the base time again', () => {
    const c = clock();
    const d = new OutlierDetector(options, c.now);
    d.eject();
    c.advance(1_000);
    d.eject();
    c.advance(2_000 + 3_501);
    expect(d.eject()).toBe(1_000);
  });

  it('when ejected, then further failures do not re-qualify it until it is back', () => {
    const c = clock();
    const d = new OutlierDetector(options, c.now);
    d.eject();
    expect(d.recordFailure()).toBe(false);
    expect(d.recordFailure()).toBe(false);
    expect(d.recordFailure()).toBe(false);
  });
});

describe('upstream table health', () => {
  const endpoints = (n: number, overrides: Partial<Endpoint> = {}): Endpoint[] =>
    new StaticEndpointSource(Array.from({ length: n }, (_, i) => `http://127.0.0.1:${20001 + i}`)).current().map((e) => ({ ...e, ...overrides }));

  function table(maxEjectionPercent: number, panicThresholdPercent = 50, c = clock()): UpstreamTable {
    const source = new StaticEndpointSource([]);
    return new UpstreamTable(
      source,
      {
        pool: { connections: 1, connectTimeoutMs: 100, idleTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 },
        outlier: options,
        ewmaDecayMs: 1_000,
        slowStartMs: 10_000,
        maxEjectionPercent,
        panicThresholdPercent,
        now: c.now,
      },
      new BalancerMetrics(new Registry()),
      createLogger('test', 'silent'),
    );
  }
  const fail = (t: UpstreamTable, id: string, times: number): void => {
    const u = t.get(id);
    if (!u) throw new Error(`no ${id}`);
    for (let i = 0; i < times; i++) t.recordFailure(u, 'ECONNREFUSED');
  };
  const tables: UpstreamTable[] = [];
  afterEach(async () => {
    await Promise.all(tables.map((t) => t.close()));
    tables.length = 0;
  });

  it('when more endpoints fail than the max ejection share allows, then only that share is ejected', () => {
    const t = table(50);
    tables.push(t);
    t.apply(endpoints(4));
    for (const u of t.all()) fail(t, u.id, 3);
    expect(t.all().filter((u) => u.stateName() === 'ejected')).toHaveLength(2);
    expect(t.candidates().endpoints).toHaveLength(2);
    expect(t.candidates().panic).toBe(false);
  });

  it('when the max ejection share rounds to zero, then one endpoint may still be ejected', () => {
    const t = table(10);
    tables.push(t);
    t.apply(endpoints(3));
    for (const u of t.all()) fail(t, u.id, 3);
    expect(t.all().filter((u) => u.stateName() === 'ejected')).toHaveLength(1);
  });

  it('when fewer than the panic threshold are healthy, then every eligible endpoint is a candidate (panic mode)', () => {
    const t = table(100, 50);
    tables.push(t);
    t.apply(endpoints(3));
    fail(t, '127.0.0.1:20001', 3);
    expect(t.candidates()).toMatchObject({ panic: false });
    expect(t.candidates().endpoints).toHaveLength(2);
    fail(t, '127.0.0.1:20002', 3);
    expect(t.candidates().panic).toBe(true);
    expect(t.candidates().endpoints).toHaveLength(3);
  });

  it('when an ejection ends, then the endpoint returns in slow start', () => {
    const c = clock();
    const t = table(50, 50, c);
    tables.push(t);
    t.apply(endpoints(3));
    fail(t, '127.0.0.1:20001', 3);
    c.advance(1_000);
    const u = t.get('127.0.0.1:20001');
    expect(u?.stateName()).toBe('slow_start');
    expect(u?.weight()).toBeCloseTo(0.1);
    c.advance(5_000);
    expect(u?.weight()).toBeCloseTo(0.55);
    c.advance(5_000);
    expect(u?.stateName()).toBe('healthy');
  });

  it('when an endpoint is added after the first view, then it warms up; the first view starts warm', () => {
    const c = clock();
    const t = table(50, 50, c);
    tables.push(t);
    t.apply(endpoints(2));
    expect(t.all().map((u) => u.weight())).toEqual([1, 1]);
    t.apply(endpoints(3));
    expect(t.get('127.0.0.1:20003')?.stateName()).toBe('slow_start');
  });

  it('when an endpoint is ready again in discovery, then its latency history is forgotten, late results of its old tries are ignored, and it warms up', () => {
    const c = clock();
    const t = table(50, 50, c);
    tables.push(t);
    const list = endpoints(3);
    t.apply(list);
    const u = t.get('127.0.0.1:20001');
    if (!u) throw new Error('missing');
    // The last tries of a process about to be killed: slow.
    t.recordSuccess(u, 900);
    const oldEpoch = u.latencyEpoch;
    // Listed again, still ready: nothing is forgotten.
    t.apply(list);
    expect(u.latencyMs()).toBeCloseTo(900, 0);
    t.apply(list.map((e) => (e.id === u.id ? { ...e, ready: false } : e)));
    expect(u.stateName()).toBe('not_ready');
    c.advance(3_000);
    t.apply(list);
    expect(u.latencyMs()).toBeUndefined();
    expect(u.stateName()).toBe('slow_start');
    expect(u.weight()).toBeCloseTo(0.1);
    // A timeout of a try sent to the old process, landing now.
    t.recordFailure(u, 'timeout', 5_000, oldEpoch);
    expect(u.latencyMs()).toBeUndefined();
    c.advance(10_000);
    expect(u.stateName()).toBe('healthy');
  });

  it('when an endpoint becomes terminating, then it does not count as returning', () => {
    const c = clock();
    const t = table(50, 50, c);
    tables.push(t);
    const [a] = endpoints(1) as [Endpoint];
    t.apply([a]);
    const u = t.get(a.id);
    if (!u) throw new Error('missing');
    t.recordSuccess(u, 40);
    t.apply([{ ...a, ready: false, serving: true, terminating: true }]);
    t.apply([{ ...a, ready: true, serving: true, terminating: true }]);
    expect(u.latencyMs()).toBeCloseTo(40, 0);
    expect(u.stateName()).toBe('terminating');
  });

  it('when no endpoint is ready, then serving-but-terminating ones take traffic; when one is ready, terminating ones get none', () => {
    const t = table(50);
    tables.push(t);
    const [a, b] = endpoints(2) as [Endpoint, Endpoint];
    t.apply([{ ...a, ready: false, serving: true, terminating: true }, { ...b, ready: true }]);
    expect(t.candidates().endpoints.map((u) => u.id)).toEqual([b.id]);
    t.apply([{ ...a, ready: false, serving: true, terminating: true }, { ...b, ready: false, serving: false, terminating: true }]);
    expect(t.candidates().endpoints.map((u) => u.id)).toEqual([a.id]);
  });

  it('when results of tries started before the endpoint was judged afresh arrive, then they neither count as failures nor set its latency', () => {
    const t = table(50);
    tables.push(t);
    t.apply(endpoints(3));
    const u = t.get('127.0.0.1:20001');
    if (!u) throw new Error('missing');
    const before = u.latencyEpoch;
    u.resetLatency();
    for (let i = 0; i < 5; i++) t.recordFailure(u, 'timeout', 1_000, before);
    expect(u.stateName()).toBe('healthy');
    expect(u.latencyMs()).toBeUndefined();
    t.recordSuccess(u, 4, before);
    expect(u.latencyMs()).toBeUndefined();
    t.recordSuccess(u, 4);
    expect(u.latencyMs()).toBeCloseTo(4, 0);
  });

  it('when an endpoint disappears from discovery, then it is dropped and listed once even if reported twice', () => {
    const t = table(50);
    tables.push(t);
    const list = endpoints(3);
    t.apply([...list, list[0] as Endpoint]);
    expect(t.size).toBe(3);
    t.apply(list.slice(1));
    expect(t.all().map((u) => u.id)).toEqual(['127.0.0.1:20002', '127.0.0.1:20003']);
  });

  /**
   * candidates() is cached between changes (upstream-table.ts). The model:
   * the same rule computed afresh from every endpoint's current state, which
   * is never cached. Any change the cache misses (an ejection ending by the
   * clock, an active verdict, new conditions from discovery) shows as a
   * difference after some sequence of steps.
   */
  it('when endpoints change, fail, get active verdicts and ejections run out in any order, then the candidates are always those computed afresh', () => {
    const fresh = (all: readonly UpstreamEndpoint[], panicPercent: number): { ids: string[]; panic: boolean } => {
      let eligible = all.filter((u) => u.ready);
      if (eligible.length === 0) eligible = all.filter((u) => u.endpoint.serving);
      const healthy = eligible.filter((u) => u.isHealthy());
      if (eligible.length === 0) return { ids: [], panic: false };
      if (healthy.length === 0 || healthy.length < (eligible.length * panicPercent) / 100) return { ids: eligible.map((u) => u.id), panic: true };
      return { ids: healthy.map((u) => u.id), panic: false };
    };
    const condition = fc.constantFrom({ ready: true, serving: true, terminating: false }, { ready: false, serving: true, terminating: true }, { ready: false, serving: false, terminating: true });
    const step = fc.oneof(
      fc.record({ kind: fc.constant('apply' as const), present: fc.array(fc.option(condition), { minLength: 5, maxLength: 5 }) }),
      fc.record({ kind: fc.constant('fail' as const), index: fc.nat(4) }),
      fc.record({ kind: fc.constant('verdict' as const), index: fc.nat(4), healthy: fc.option(fc.boolean()) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 4_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.constantFrom(0, 50, 100), (steps, panicPercent) => {
        const c = clock();
        const t = table(100, panicPercent, c);
        const all = endpoints(5);
        t.apply(all);
        try {
          for (const s of steps) {
            const ids = t.all();
            if (s.kind === 'apply') {
              t.apply(all.flatMap((e, i) => (s.present[i] ? [{ ...e, ...s.present[i] }] : [])));
            } else if (s.kind === 'fail') {
              const u = ids[s.index % Math.max(1, ids.length)];
              if (u) for (let i = 0; i < 3; i++) t.recordFailure(u, 'ECONNREFUSED');
            } else if (s.kind === 'verdict') {
              const u = ids[s.index % Math.max(1, ids.length)];
              if (u) u.activeHealthy = s.healthy ?? undefined;
            } else {
              c.advance(s.ms);
            }
            const got = t.candidates();
            expect({ ids: got.endpoints.map((u) => u.id), panic: got.panic }).toEqual(fresh(t.all(), panicPercent));
          }
        } finally {
          void t.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
