/**
 * A retry budget as Envoy's circuit breakers define it: retries in progress
 * at once may not exceed `ratio` × requests in progress, but at least
 * `minConcurrent` are always allowed (so a quiet balancer can still retry).
 * It keeps a failing upstream from multiplying the load by the attempt count.
 */
export class RetryBudget {
  private active = 0;
  private retrying = 0;

  constructor(
    private readonly ratio: number,
    private readonly minConcurrent: number,
  ) {}

  /** How many retries may be in progress right now. */
  limit(): number {
    return Math.max(this.minConcurrent, Math.floor(this.ratio * this.active));
  }

  requestStarted(): void {
    this.active += 1;
  }

  requestFinished(): void {
    this.active = Math.max(0, this.active - 1);
  }

  /** Takes a retry slot; false when the budget is used up. Pair with release(). */
  tryAcquire(): boolean {
    if (this.retrying >= this.limit()) return false;
    this.retrying += 1;
    return true;
  }

  release(): void {
    this.retrying = Math.max(0, this.retrying - 1);
  }

  get inProgress(): number {
    return this.retrying;
  }

  get activeRequests(): number {
    return this.active;
  }
}
