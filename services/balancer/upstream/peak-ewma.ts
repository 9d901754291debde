/**
 * Peak-sensitive exponentially weighted moving average of latency, as in
 * Finagle's and Linkerd's P2C-EWMA balancers: a sample above the average
 * replaces it at once (react fast to a slow endpoint), a sample below decays
 * it with time constant `decayMs` (recover gradually). Reading also decays
 * towards zero, so an endpoint that stopped getting traffic because it was
 * slow is eventually probed again instead of being starved forever.
 */
export class PeakEwma {
  private value: number | undefined;
  private stamp: number;

  constructor(
    private readonly decayMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.stamp = this.now();
  }

  /** Records one observed latency in milliseconds. */
  observe(latencyMs: number): void {
    const t = this.now();
    if (this.value === undefined || latencyMs > this.value) {
      this.value = latencyMs;
    } else {
      const w = Math.exp(-Math.max(0, t - this.stamp) / this.decayMs);
      this.value = this.value * w + latencyMs * (1 - w);
    }
    this.stamp = t;
  }

  /** Forgets all samples: the endpoint is judged afresh (after an ejection, say). */
  reset(): void {
    this.value = undefined;
    this.stamp = this.now();
  }

  /** The current average in milliseconds, decayed for the time since the last sample; undefined before any sample. */
  get(): number | undefined {
    if (this.value === undefined) return undefined;
    const w = Math.exp(-Math.max(0, this.now() - this.stamp) / this.decayMs);
    return this.value * w;
  }
}
