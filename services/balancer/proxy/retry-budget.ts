/**
 * A retry budget as Envoy's circuit breakers define it: retries in progress
 * at once may not exceed `ratio` × requests in progress, but at least
 * `minConcurrent` are always allowed (so a quiet balancer can still retry).
 * It keeps a failing upstream from multiplying the load by the attempt count.
 *
 * A retry may wait a short while for a slot (`acquire`): when a worker dies,
 * all its in-flight requests fail in the same millisecond, and each of their
 * retries takes milliseconds on a healthy worker. Waiting briefly keeps the
 * bound on concurrent retries intact while not failing requests that a slot
 * freed a moment later would have saved; in a real retry storm the waits run
 * out and the budget refuses, as it should.
 */
export class RetryBudget {
  private active = 0;
  private retrying = 0;
  private readonly waiters: Array<(granted: boolean) => void> = [];

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
    // More active requests may raise the limit.
    this.grant();
  }

  requestFinished(): void {
    this.active = Math.max(0, this.active - 1);
  }

  /** Takes a retry slot; false when the budget is used up. Pair with release(). */
  tryAcquire(): boolean {
    if (this.waiters.length > 0 || this.retrying >= this.limit()) return false;
    this.retrying += 1;
    return true;
  }

  /** Takes a slot, waiting up to `waitMs` (first come, first served); false when none freed up in time. */
  acquire(waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    if (waitMs <= 0 || signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (granted: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      const giveUp = (): void => {
        const index = this.waiters.indexOf(settle);
        if (index >= 0) this.waiters.splice(index, 1);
        settle(false);
      };
      const onAbort = (): void => giveUp();
      const timer = setTimeout(giveUp, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(settle);
    });
  }

  release(): void {
    this.retrying = Math.max(0, this.retrying - 1);
    this.grant();
  }

  /** Hands free slots to waiters in arrival order. */
  private grant(): void {
    while (this.waiters.length > 0 && this.retrying < this.limit()) {
      const next = this.waiters.shift();
      this.retrying += 1;
      next?.(true);
    }
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get inProgress(): number {
    return this.retrying;
  }

  get activeRequests(): number {
    return this.active;
  }
}
