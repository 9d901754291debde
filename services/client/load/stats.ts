import { OPS, type Op } from './op-mix.js';

/** Request counts and the error breakdown; an error is named by status (http_503) or transport failure (timeout, connection_reset). */
export class LoadStats {
  requests = 0;
  /** When the first and the last error were recorded, in ms since the run started (the error window). */
  firstErrorMs: number | undefined;
  lastErrorMs: number | undefined;
  errors = 0;
  /** Extra tries of an uncertain write with its same Idempotency-Key, to learn whether it applied. */
  resolutionRetries = 0;
  readonly byOp: Record<Op, { requests: number; errors: number }> = Object.fromEntries(
    OPS.map((op) => [op, { requests: 0, errors: 0 }]),
  ) as Record<Op, { requests: number; errors: number }>;
  readonly errorKinds = new Map<string, number>();

  /** `elapsedMs`: ms since the run started, for the error window. */
  constructor(private readonly elapsedMs: () => number = () => 0) {}

  record(op: Op, errorKind: string | undefined): void {
    this.requests += 1;
    this.byOp[op].requests += 1;
    if (errorKind === undefined) return;
    const at = Math.round(this.elapsedMs());
    this.firstErrorMs ??= at;
    this.lastErrorMs = at;
    this.errors += 1;
    this.byOp[op].errors += 1;
    this.errorKinds.set(errorKind, (this.errorKinds.get(errorKind) ?? 0) + 1);
  }

  /** From the first error to the last, or null when there was none. */
  errorWindow(): { readonly firstMs: number; readonly lastMs: number } | null {
    return this.firstErrorMs === undefined || this.lastErrorMs === undefined ? null : { firstMs: this.firstErrorMs, lastMs: this.lastErrorMs };
  }

  errorBreakdown(): Record<string, number> {
    return Object.fromEntries([...this.errorKinds.entries()].sort((a, b) => b[1] - a[1]));
  }
}
