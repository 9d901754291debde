import { build, type Histogram } from 'hdr-histogram-js';

/** Latencies in microseconds, up to one hour, 3 significant digits (HdrHistogram). */
function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

const round = (us: number): number => Math.round(us) / 1_000;

/** One histogram for all operations plus one per operation. */
export class LatencyRecorder {
  readonly all = newHistogram();
  private readonly byName = new Map<string, Histogram>();

  record(name: string, micros: number): void {
    const value = Math.max(1, Math.round(micros));
    this.all.recordValue(value);
    let histogram = this.byName.get(name);
    if (histogram === undefined) {
      histogram = newHistogram();
      this.byName.set(name, histogram);
    }
    histogram.recordValue(value);
  }

  summary(name?: string): LatencySummary {
    const histogram = name === undefined ? this.all : this.byName.get(name);
    if (histogram === undefined || histogram.totalCount === 0) {
      return { count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 };
    }
    return {
      count: histogram.totalCount,
      p50Ms: round(histogram.getValueAtPercentile(50)),
      p90Ms: round(histogram.getValueAtPercentile(90)),
      p99Ms: round(histogram.getValueAtPercentile(99)),
      p999Ms: round(histogram.getValueAtPercentile(99.9)),
      maxMs: round(histogram.maxValue),
      meanMs: round(histogram.mean),
    };
  }

  /** The classic HdrHistogram percentile table, in milliseconds. */
  distribution(): string {
    return this.all.totalCount === 0 ? '(no samples)\n' : this.all.outputPercentileDistribution(1, 1_000);
  }

  destroy(): void {
    this.all.destroy();
    for (const histogram of this.byName.values()) histogram.destroy();
  }
}
