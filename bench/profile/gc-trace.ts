/**
 * What V8's `--trace-gc-nvp` says about a window of a process's life: one
 * line per collection, `name=value` pairs, `gc=s` a scavenge (young
 * generation), `gc=mms` a minor mark-sweep (young, with --minor-ms),
 * `gc=mc` a mark-compact (whole heap). `pause` is the main thread's stop in
 * ms; `promoted` the bytes moved from the young to the old generation.
 *
 * Bytes promoted per request are the figure to watch for a proxy: a request
 * lives a few milliseconds, far less than the time between two young
 * collections, so nearly nothing of it should survive one. What does
 * survive is kept by something longer-lived, and costs twice: copied by the
 * young collection, then found and freed by a full one.
 */
export interface GcTotals {
  readonly young: number;
  readonly youngPauseMs: number;
  readonly full: number;
  readonly fullPauseMs: number;
  /** Moved to the old generation by the young collections (a full one moves whatever young objects are alive at that moment, in flight or not). */
  readonly promotedBytes: number;
}

const YOUNG = new Set(['s', 'mms']);
/** `[pid:isolate:n]   6098 ms: pause=…`: how every --trace-gc-nvp line starts. */
const GC_LINE = /^\[\d+:0x[0-9a-f]+(?::\d+)?\]\s+[\d.]+ ms: pause=/;

/** Sums the collections in `lines`; lines that are not --trace-gc-nvp output are skipped. */
export function sumGcTrace(lines: Iterable<string>): GcTotals {
  let young = 0;
  let youngPauseMs = 0;
  let full = 0;
  let fullPauseMs = 0;
  let promotedBytes = 0;
  for (const line of lines) {
    if (!GC_LINE.test(line)) continue;
    const kind = / gc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    const pause = Number(/ pause=([\d.]+)/.exec(line)?.[1] ?? 0);
    if (YOUNG.has(kind)) {
      young += 1;
      youngPauseMs += pause;
      promotedBytes += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    } else if (kind === 'mc') {
      full += 1;
      fullPauseMs += pause;
    }
  }
  return { young, youngPauseMs, full, fullPauseMs, promotedBytes };
}
