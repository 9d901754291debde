/**
 * Request rate, error rate and latency over the last minutes, for the status
 * page. Prometheus holds the real history; this is what a person looking at
 * one balancer wants without one: a ring of one-second slots, each with a
 * request count, a 5xx count and a coarse latency histogram. Recording is a
 * few array writes; nothing is allocated per request.
 */

/** Latency bucket upper bounds in ms; a percentile is reported as its bucket's bound ("at most"). */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, Infinity] as const;

interface Slot {
  second: number;
  requests: number;
  errors: number;
  readonly latency: number[];
}

export interface TrafficPoint {
  /** Start of the interval, ms since the epoch. */
  readonly at: number;
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
  readonly ratePerSecond: number;
  readonly errorRatio: number;
  /** Upper bound of the bucket holding the percentile; null without requests (Infinity becomes null in JSON). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** One second of a RecentTraffic ring as plain data, for sending to a cluster primary. */
export interface TrafficSecond {
  readonly second: number;
  readonly requests: number;
  readonly errors: number;
  /** Counts per LATENCY_BOUNDS_MS bucket. */
  readonly latency: readonly number[];
}

export class RecentTraffic {
  private readonly slots: Slot[];

  constructor(
    private readonly windowSeconds = 300,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = Array.from({ length: windowSeconds }, () => ({ second: -1, requests: 0, errors: 0, latency: LATENCY_BOUNDS_MS.map(() => 0) }));
  }

  record(status: number, ms: number): void {
    const second = Math.floor(this.now() / 1000);
    const slot = this.slots[second % this.windowSeconds] as Slot;
    if (slot.second !== second) {
      slot.second = second;
      slot.requests = 0;
      slot.errors = 0;
      slot.latency.fill(0);
    }
    slot.requests += 1;
    if (status >= 500) slot.errors += 1;
    let bucket = 0;
    while (ms > (LATENCY_BOUNDS_MS[bucket] as number)) bucket += 1;
    slot.latency[bucket] = (slot.latency[bucket] as number) + 1;
  }

  /** The seconds of the window that saw requests, as plain data (a cluster worker's answer to its primary). */
  seconds(): TrafficSecond[] {
    const oldest = Math.floor(this.now() / 1000) - this.windowSeconds + 1;
    return this.slots.filter((s) => s.second >= oldest && s.requests > 0).map((s) => ({ second: s.second, requests: s.requests, errors: s.errors, latency: [...s.latency] }));
  }

  /** Adds another ring's seconds to this one (a cluster primary sums its workers'); seconds outside the window are dropped. */
  absorb(seconds: readonly TrafficSecond[]): void {
    const oldest = Math.floor(this.now() / 1000) - this.windowSeconds + 1;
    for (const incoming of seconds) {
      if (incoming.second < oldest) continue;
      const slot = this.slots[incoming.second % this.windowSeconds] as Slot;
      if (slot.second !== incoming.second) {
        slot.second = incoming.second;
        slot.requests = 0;
        slot.errors = 0;
        slot.latency.fill(0);
      }
      slot.requests += incoming.requests;
      slot.errors += incoming.errors;
      for (let i = 0; i < slot.latency.length; i++) slot.latency[i] = (slot.latency[i] as number) + (incoming.latency[i] ?? 0);
    }
  }

  /** The last `window` seconds (completed ones only) in intervals of `step` seconds, oldest first. */
  points(step = 10, window = this.windowSeconds - 1): TrafficPoint[] {
    const current = Math.floor(this.now() / 1000);
    const points: TrafficPoint[] = [];
    for (let end = current; end - step >= current - window; end -= step) points.unshift(this.summarize(end - step, end));
    return points;
  }

  /** Seconds [from, to): the current, unfinished second is left out by the callers. */
  private summarize(from: number, to: number): TrafficPoint {
    let requests = 0;
    let errors = 0;
    const latency = LATENCY_BOUNDS_MS.map(() => 0);
    for (let second = from; second < to; second++) {
      const slot = this.slots[((second % this.windowSeconds) + this.windowSeconds) % this.windowSeconds] as Slot;
      if (slot.second !== second) continue;
      requests += slot.requests;
      errors += slot.errors;
      slot.latency.forEach((count, i) => (latency[i] = (latency[i] as number) + count));
    }
    const seconds = to - from;
    return {
      at: from * 1000,
      seconds,
      requests,
      errors,
      ratePerSecond: requests / seconds,
      errorRatio: requests === 0 ? 0 : errors / requests,
      p50Ms: percentile(latency, requests, 0.5),
      p99Ms: percentile(latency, requests, 0.99),
    };
  }
}

function percentile(latency: readonly number[], total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    seen += latency[i] as number;
    if (seen >= rank) {
      const bound = LATENCY_BOUNDS_MS[i] as number;
      return Number.isFinite(bound) ? bound : null;
    }
  }
  return null;
}
