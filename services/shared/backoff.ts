/**
 * Restart delays for a crashing process, as Kubernetes does for a pod in
 * CrashLoopBackOff: the delay doubles per crash up to a cap, and resets once
 * the process has stayed up for a while.
 */
export class CrashBackoff {
  private crashes = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    /** A process that ran at least this long counts as healthy again. */
    private readonly stableAfterMs: number,
  ) {}

  /** The delay before the next start, given how long the last run lasted. */
  next(ranForMs: number): number {
    if (ranForMs >= this.stableAfterMs) this.crashes = 0;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.crashes, 30));
    this.crashes += 1;
    return delay;
  }
}
