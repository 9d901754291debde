import fc from 'fast-check';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../../services/shared/hot-metrics.js';
import { LATENCY_BUCKETS } from '../../../services/shared/metrics.js';

const METHODS = ['GET', 'PUT', 'POST'];
const CLASSES = ['2xx', '4xx', '5xx'];

interface Observation {
  readonly method: string;
  readonly status_class: string;
  readonly value: number;
}

/** Values around and on every bound (a value equal to a bound belongs to that bucket), and past the last. */
const observation = fc.record({
  method: fc.constantFrom(...METHODS),
  status_class: fc.constantFrom(...CLASSES),
  value: fc.oneof(fc.constantFrom(...LATENCY_BUCKETS, 0, 20), fc.double({ min: 0, max: 15, noNaN: true })),
});

/**
 * The same observations into prom-client's Histogram and Counter and into
 * HotHistogram and HotCounter, each pair on a registry of its own.
 */
function both(observations: readonly Observation[]): { reference: Registry; hot: Registry } {
  const reference = new Registry();
  const hot = new Registry();
  const histogram = { name: 'test_duration_seconds', help: 'Test durations', labelNames: ['method', 'status_class'] as const, buckets: LATENCY_BUCKETS };
  const counter = { name: 'test_requests_total', help: 'Test requests', labelNames: ['status_class', 'method'] as const };
  const expected = new Histogram({ ...histogram, labelNames: [...histogram.labelNames], registers: [reference] });
  const expectedCount = new Counter({ ...counter, labelNames: [...counter.labelNames], registers: [reference] });
  const actual = new HotHistogram({ ...histogram, registers: [hot] });
  const actualCount = new HotCounter({ ...counter, registers: [hot] });
  for (const o of observations) {
    const labels = { method: o.method, status_class: o.status_class };
    expected.observe(labels, o.value);
    actual.observe(labels, o.value);
    expectedCount.inc(labels, o.value);
    actualCount.inc(labels, o.value);
  }
  return { reference, hot };
}

describe('HotHistogram and HotCounter, against prom-client Histogram and Counter fed the same observations', () => {
  test('then the text exposition is the same, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 200 }), async (observations) => {
        const { reference, hot } = both(observations);
        expect(await hot.metrics()).toBe(await reference.metrics());
      }),
      { numRuns: 100, seed: 15 },
    );
  });

  test('then label values that join alike (empty, prefixes of each other, control characters) stay separate series, as in prom-client', async () => {
    // Values from a tiny alphabet collide often if a series were found by a key joined from its values.
    const value = fc.string({ unit: fc.constantFrom('a', 'b', '\u0001', '|'), maxLength: 3 });
    const labelled = fc.record({ method: value, status_class: value, value: fc.constantFrom(0.001, 1, 7) });
    await fc.assert(
      fc.asyncProperty(fc.array(labelled, { maxLength: 60 }), async (observations) => {
        const { reference, hot } = both(observations);
        expect(await hot.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
      }),
      { numRuns: 200, seed: 16 },
    );
  });

  test('then the JSON (what cluster workers send) is the same, and two registries aggregate to the same text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 100 }), fc.array(observation, { maxLength: 100 }), async (first, second) => {
        const [a, b] = [both(first), both(second)];
        const json = async (r: Registry): Promise<unknown> => JSON.parse(JSON.stringify(await r.getMetricsAsJSON()));
        expect(await json(a.hot)).toEqual(await json(a.reference));
        const hotSum = AggregatorRegistry.aggregate([await a.hot.getMetricsAsJSON(), await b.hot.getMetricsAsJSON()]);
        const referenceSum = AggregatorRegistry.aggregate([await a.reference.getMetricsAsJSON(), await b.reference.getMetricsAsJSON()]);
        expect(await hotSum.metrics()).toBe(await referenceSum.metrics());
      }),
      { numRuns: 50, seed: 16 },
    );
  });

  test('when reset, then it exposes no series, as prom-client does', async () => {
    const { reference, hot } = both([{ method: 'GET', status_class: '2xx', value: 0.003 }]);
    reference.resetMetrics();
    hot.resetMetrics();
    expect(await hot.metrics()).toBe(await reference.metrics());
  });

  test('when a counter is given a negative or non-finite amount, then inc() throws', () => {
    const counter = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['a'], registers: [new Registry()] });
    expect(() => counter.inc({ a: 'x' }, -1)).toThrow(TypeError);
    expect(() => counter.inc({ a: 'x' }, Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  test('when a value is not a finite number or a label is missing, then observe() throws and records nothing', async () => {
    const registry = new Registry();
    const histogram = new HotHistogram({ name: 'h', help: 'h', labelNames: ['a', 'b'], buckets: [1], registers: [registry] });
    expect(() => histogram.observe({ a: 'x', b: 'y' }, Number.NaN)).toThrow(TypeError);
    expect(() => histogram.observe({ a: 'x' } as unknown as { a: string; b: string }, 1)).toThrow(/label b/);
    expect(await registry.metrics()).not.toContain('h_count');
  });
});
