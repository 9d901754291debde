/**
 * Passive outlier detection for one endpoint, in the spirit of Envoy's
 * consecutive-gateway-failure detector: N failures in a row (connect errors,
 * timeouts, 502/503/504) eject the endpoint for base × k, where k counts
 * recent ejections, capped at the maximum. The cap on the share of ejected
 * endpoints is enforced by the caller (the table), which knows all of them;
 * `shouldEject` only says that this endpoint qualifies.
 */
export type OutlierState = 'healthy' | 'ejected';

export interface OutlierOptions {
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
}

export class OutlierDetector {
  private consecutive = 0;
  private ejectedUntil = 0;
  private lastEjectionEnd = 0;
  /** Ejections counted for the growing ejection time; decays after a quiet period. */
  private multiplier = 0;
  /** All ejections ever, for the admin table and metrics. */
  ejections = 0;

  constructor(
    private readonly options: OutlierOptions,
    private readonly now: () => number = () => Date.now(),
  ) {}

  state(): OutlierState {
    return this.now() < this.ejectedUntil ? 'ejected' : 'healthy';
  }

  /** Milliseconds until the current ejection ends, 0 when not ejected. */
  remainingMs(): number {
    return Math.max(0, this.ejectedUntil - this.now());
  }

  /** When the last ejection ends or ended (0 if never ejected). */
  ejectionEnd(): number {
    return this.ejectedUntil;
  }

  consecutiveFailures(): number {
    return this.consecutive;
  }

  recordSuccess(): void {
    this.consecutive = 0;
  }

  /** Counts a gateway failure; true when the endpoint now qualifies for ejection. */
  recordFailure(): boolean {
    this.consecutive += 1;
    return this.state() === 'healthy' && this.consecutive >= this.options.consecutiveFailures;
  }

  /** Ejects the endpoint; returns the ejection time in milliseconds. */
  eject(): number {
    const t = this.now();
    // An endpoint that behaved for a full max-ejection period starts over at the base time.
    if (this.lastEjectionEnd > 0 && t - this.lastEjectionEnd > this.options.maxEjectionMs) this.multiplier = 0;
    this.multiplier += 1;
    this.ejections += 1;
    const duration = Math.min(this.options.baseEjectionMs * this.multiplier, this.options.maxEjectionMs);
    this.ejectedUntil = t + duration;
    this.lastEjectionEnd = this.ejectedUntil;
    // It comes back with a clean slate: one more failure must not eject it again at once.
    this.consecutive = 0;
    return duration;
  }
}
