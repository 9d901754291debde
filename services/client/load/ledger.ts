/** What a key holds: nothing, or the value written by one numbered write. */
export type KeyState = { readonly kind: 'absent' } | { readonly kind: 'value'; readonly seq: number };

export const ABSENT: KeyState = { kind: 'absent' };

export type ViolationKind = 'lost-write' | 'stale-read' | 'lost-increment' | 'duplicate-increment' | 'replay-mismatch' | 'unverified';

export interface Violation {
  readonly kind: ViolationKind;
  readonly target: string;
  readonly expected: string;
  readonly observed: string;
  readonly atMs: number;
}

interface KeyHistory {
  /** The state after the last acknowledged write (or the initial absence). */
  acked: KeyState;
  /** A later write whose outcome stayed unknown; it may or may not have applied. The key is retired after one. */
  uncertain: KeyState | undefined;
}

interface CounterTally {
  acked: number;
  uncertain: number;
  ackedIncrements: number;
}

export function describeState(state: KeyState): string {
  return state.kind === 'absent' ? 'absent' : `write #${state.seq}`;
}

function sameState(a: KeyState, b: KeyState): boolean {
  return a.kind === b.kind && (a.kind === 'absent' || (b.kind === 'value' && a.seq === b.seq));
}

/**
 * The `load --check` bookkeeping. Each key is written by one virtual user
 * only, one request at a time, so its expected content is exact: the last
 * acknowledged write, or (after a write whose outcome stayed unknown) that
 * write. Counters are shared; their expected value is the sum of the
 * acknowledged increments, plus at most the uncertain ones.
 */
export class CheckLedger {
  private readonly keys = new Map<string, KeyHistory>();
  private readonly counters = new Map<string, CounterTally>();
  readonly violations: Violation[] = [];
  readonly counts: Record<ViolationKind, number> = {
    'lost-write': 0,
    'stale-read': 0,
    'lost-increment': 0,
    'duplicate-increment': 0,
    'replay-mismatch': 0,
    unverified: 0,
  };
  ackedWrites = 0;
  uncertainWrites = 0;
  ackedIncrements = 0;
  uncertainIncrements = 0;
  replays = 0;

  constructor(
    private readonly now: () => number,
    /** Details kept for at most this many violations; the counts stay exact. */
    private readonly maxDetails = 50,
  ) {}

  private history(key: string): KeyHistory {
    let history = this.keys.get(key);
    if (history === undefined) {
      history = { acked: ABSENT, uncertain: undefined };
      this.keys.set(key, history);
    }
    return history;
  }

  private tally(name: string): CounterTally {
    let tally = this.counters.get(name);
    if (tally === undefined) {
      tally = { acked: 0, uncertain: 0, ackedIncrements: 0 };
      this.counters.set(name, tally);
    }
    return tally;
  }

  violation(kind: ViolationKind, target: string, expected: string, observed: string): void {
    this.counts[kind] += 1;
    if (this.violations.length < this.maxDetails) this.violations.push({ kind, target, expected, observed, atMs: Math.round(this.now()) });
  }

  writeAcked(key: string, state: KeyState): void {
    this.history(key).acked = state;
    this.ackedWrites += 1;
  }

  writeUncertain(key: string, state: KeyState): void {
    this.history(key).uncertain = state;
    this.uncertainWrites += 1;
  }

  /** A read of a key with no uncertain write must see exactly the last acknowledged state. */
  readObserved(key: string, observed: KeyState): void {
    const history = this.history(key);
    if (history.uncertain !== undefined) return;
    if (!sameState(history.acked, observed)) {
      this.violation('stale-read', key, describeState(history.acked), describeState(observed));
    }
  }

  keyNames(): string[] {
    return [...this.keys.keys()];
  }

  /** The end-of-run read-back of one key. */
  verifyKey(key: string, observed: KeyState): void {
    const history = this.history(key);
    if (sameState(history.acked, observed)) return;
    if (history.uncertain !== undefined && sameState(history.uncertain, observed)) return;
    const expected = describeState(history.acked) + (history.uncertain !== undefined ? ` or ${describeState(history.uncertain)}` : '');
    this.violation('lost-write', key, expected, describeState(observed));
  }

  incrementAcked(name: string, by: number): void {
    const tally = this.tally(name);
    tally.acked += by;
    tally.ackedIncrements += 1;
    this.ackedIncrements += 1;
  }

  incrementUncertain(name: string, by: number): void {
    this.tally(name).uncertain += by;
    this.uncertainIncrements += 1;
  }

  /** Everything acknowledged so far; a read that starts now must see at least this. */
  counterFloor(name: string): number {
    return this.tally(name).acked;
  }

  counterReadObserved(name: string, floor: number, value: number): void {
    if (value < floor) this.violation('stale-read', name, `>= ${floor}`, String(value));
  }

  replayObserved(name: string, firstValue: number, replayValue: number | undefined, replayed: boolean): void {
    this.replays += 1;
    if (!replayed || replayValue !== firstValue) {
      this.violation('replay-mismatch', name, `replay of the response ${firstValue}`, `${replayValue ?? 'no value'}${replayed ? '' : ' (applied again)'}`);
    }
  }

  counterNames(): string[] {
    return [...this.counters.keys()];
  }

  /** The end-of-run read-back of one counter: acked <= value <= acked + uncertain. */
  verifyCounter(name: string, value: number): void {
    const tally = this.tally(name);
    if (value < tally.acked) {
      this.violation('lost-increment', name, `>= ${tally.acked}`, String(value));
    } else if (value > tally.acked + tally.uncertain) {
      this.violation('duplicate-increment', name, `<= ${tally.acked + tally.uncertain} (acked ${tally.acked} + uncertain ${tally.uncertain})`, String(value));
    }
  }

  unverified(target: string, reason: string): void {
    this.violation('unverified', target, 'a final read', reason);
  }

  get passed(): boolean {
    return Object.values(this.counts).every((count) => count === 0);
  }
}
