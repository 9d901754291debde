import type { Metric, Registry } from 'prom-client';

/**
 * Prometheus counters and histograms for per-request hot paths, registered
 * on a prom-client Registry beside prom-client's own metrics, with the same
 * text exposition and the same JSON (so cluster mode's AggregatorRegistry
 * adds the workers' series up as it does prom-client's; the tests compare
 * both with prom-client's output for the same observations).
 *
 * Why not prom-client's Counter and Histogram there: on every inc() or
 * observe() they validate the label names, build a hash string of the
 * labels and look it up as a property name, and a histogram finds and bumps
 * its bucket through properties keyed by the bound as a string (a number to
 * string conversion each time): ~3 µs an observe() and ~1.5 µs an inc() in
 * the balancer's small-GET profile, four calls a request. Here a series is
 * a Map lookup per label value and a bucket an array index. No
 * exemplars, timers or removal: the hot paths only count and observe.
 */

export interface HotMetricConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: readonly Registry[];
}

export type Labels<L extends string> = Readonly<Record<L, string>>;

/** One exposition value, in prom-client's shape (what Registry formats and AggregatorRegistry adds up). */
interface ExportedValue {
  readonly value: number;
  readonly metricName?: string;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly exemplar?: null;
}

interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: 'sum';
  readonly values: ExportedValue[];
}

/** The series of one metric, by label values. */
abstract class HotMetric<L extends string, S extends { readonly labels: Labels<L> }> {
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  readonly name: string;
  readonly help: string;
  /** Every series, in the order of first use (the exposition's order). */
  protected series: S[] = [];
  /**
   * The series by label value, one Map level per label in labelNames order,
   * the series at the last. A lookup hashes the values the caller already
   * holds; a key joined from them would be a new string to build and hash
   * on every call.
   */
  private index = new Map<string, unknown>();
  private readonly labelNames: readonly L[];

  constructor(config: HotMetricConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    // prom-client exposes a label-less series before its first use; these have no such case.
    if (config.labelNames.length === 0) throw new TypeError(`${config.name}: a hot metric has labels (use prom-client's own for one without)`);
    // prom-client's Registry takes any object of this shape (it reads name,
    // help, type, aggregator, get(), getForPromString() and reset()); its
    // type only lists prom-client's own classes.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  reset(): void {
    this.series = [];
    this.index = new Map();
  }

  /** What Registry.getMetricsAsJSON() gives (cluster mode sends it over IPC). */
  get(): Promise<Exported> {
    return Promise.resolve(this.exported(false));
  }

  protected exported(forText: boolean): Exported {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values(forText) };
  }

  protected abstract values(forText: boolean): ExportedValue[];

  protected abstract create(labels: Labels<L>): S;

  /** The series of these label values, created on first use. */
  protected seriesOf(labels: Labels<L>): S {
    const names = this.labelNames;
    const last = names.length - 1;
    let level = this.index;
    for (let i = 0; i < last; i++) {
      const next = level.get(labels[names[i] as L]) as Map<string, unknown> | undefined;
      if (next === undefined) return this.add(labels);
      level = next;
    }
    return (level.get(labels[names[last] as L]) as S | undefined) ?? this.add(labels);
  }

  /** A new series: its labels checked and copied, then filed under each value. */
  private add(labels: Labels<L>): S {
    const copy = this.copyLabels(labels);
    const names = this.labelNames;
    const last = names.length - 1;
    let level = this.index;
    for (let i = 0; i < last; i++) {
      const value = copy[names[i] as L];
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const series = this.create(copy);
    level.set(copy[names[last] as L], series);
    this.series.push(series);
    return series;
  }

  /** The first label set of a series, kept in the caller's key order as prom-client keeps it (the exposition follows it). */
  private copyLabels(labels: Labels<L>): Labels<L> {
    for (const name of this.labelNames) {
      if (typeof labels[name] !== 'string') throw new TypeError(`${this.name}: label ${name} is missing`);
    }
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name as L)) throw new TypeError(`${this.name}: unknown label ${name}`);
    }
    return { ...labels };
  }
}

interface CounterSeries<L extends string> {
  readonly labels: Labels<L>;
  value: number;
}

export class HotCounter<L extends string> extends HotMetric<L, CounterSeries<L>> {
  readonly type = 'counter';

  inc(labels: Labels<L>, value = 1): void {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`${this.name}: a counter only grows by a finite amount, not ${value}`);
    this.seriesOf(labels).value += value;
  }

  protected create(labels: Labels<L>): CounterSeries<L> {
    return { labels, value: 0 };
  }

  protected values(): ExportedValue[] {
    return this.series.map((s) => ({ value: s.value, labels: { ...s.labels } }));
  }
}

export interface HotHistogramConfig<L extends string> extends HotMetricConfig<L> {
  /** Upper bounds in ascending order; +Inf is implied. */
  readonly buckets: readonly number[];
}

interface HistogramSeries<L extends string> {
  readonly labels: Labels<L>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class HotHistogram<L extends string> extends HotMetric<L, HistogramSeries<L>> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(config: HotHistogramConfig<L>) {
    super(config);
    this.bounds = config.buckets;
  }

  observe(labels: Labels<L>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: value is not a finite number: ${value}`);
    const series = this.seriesOf(labels);
    // The first bucket whose bound is >= value (a value on a bound belongs to it).
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++;
    (series.counts[bucket] as number) += 1;
    series.sum += value;
    series.count += 1;
  }

  /** What Registry.metrics() formats: prom-client splits a value's labels into the series' (sharedLabels) and `le`. */
  getForPromString(): Promise<Exported> {
    return Promise.resolve(this.exported(true));
  }

  protected create(labels: Labels<L>): HistogramSeries<L> {
    return { labels, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected values(forText: boolean): ExportedValue[] {
    const out: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    const value = (metricName: string, v: number, own: Record<string, string | number>, series: HistogramSeries<L>, bucket: boolean): ExportedValue => {
      // get() gives each value's labels with `le` first, as prom-client's does.
      const labels = forText ? { labels: own, sharedLabels: { ...series.labels } } : { labels: { ...own, ...series.labels } };
      return bucket ? { value: v, metricName, ...labels, exemplar: null } : { value: v, metricName, ...labels };
    };
    for (const series of this.series) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i] as number;
        out.push(value(bucketName, cumulative, { le: bound }, series, true));
      });
      out.push(value(bucketName, series.count, { le: '+Inf' }, series, true));
      out.push(value(`${this.name}_sum`, series.sum, {}, series, false));
      out.push(value(`${this.name}_count`, series.count, {}, series, false));
    }
    return out;
  }
}
