import { randomUUID } from 'node:crypto';
import { apiPaths, asCounterValue } from '../api.js';
import { transportErrorKind, type HttpClient, type HttpResponse } from '../http-client.js';
import { ABSENT, type CheckLedger, type KeyState } from './ledger.js';
import type { LatencyRecorder } from './latency.js';
import type { Op } from './op-mix.js';
import type { LoadStats } from './stats.js';

export interface VirtualUserDeps {
  readonly client: HttpClient;
  readonly stats: LoadStats;
  readonly latency: LatencyRecorder;
  /** Present with --check. */
  readonly ledger: CheckLedger | undefined;
  readonly runId: string;
  readonly keysPerUser: number;
  readonly counters: number;
  /** Extra tries (same Idempotency-Key) that settle whether an uncertain write applied. */
  readonly resolveAttempts: number;
  readonly random: () => number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

type Outcome = 'acked' | 'rejected' | 'uncertain';

/**
 * 2xx applied; a 4xx is a definite refusal, except the statuses that mean
 * "try again" (408, 409 idempotency key in progress, 425, 429); a 5xx or a
 * transport failure may or may not have applied.
 */
function outcomeOf(status: number | undefined): Outcome {
  if (status === undefined) return 'uncertain';
  if (status >= 200 && status < 300) return 'acked';
  if (status >= 400 && status < 500 && ![408, 409, 425, 429].includes(status)) return 'rejected';
  return 'uncertain';
}

interface Attempt {
  readonly response: HttpResponse | undefined;
  readonly errorKind: string | undefined;
}

/** Write values carry their run and sequence number, so a read shows exactly which write it sees. */
function stateOf(json: unknown, runId: string): KeyState {
  if (typeof json === 'object' && json !== null && 'value' in json) {
    const value = (json as { value: unknown }).value;
    if (typeof value === 'object' && value !== null && (value as { run?: unknown }).run === runId) {
      const seq = (value as { seq?: unknown }).seq;
      if (typeof seq === 'number') return { kind: 'value', seq };
    }
  }
  return { kind: 'value', seq: -1 };
}

export { stateOf as keyStateOf };

/**
 * One simulated client, issuing one request at a time. It owns its keys (no
 * other user writes them), which makes every read of them checkable; after a
 * write with an unknown outcome, the key is retired and a fresh one takes its
 * slot, so at most one uncertain write exists per key.
 */
export class VirtualUser {
  private readonly slots: string[] = [];
  private seq = 0;
  private generation = 0;
  /** Acknowledged increments (name, by, key, value) kept for deliberate replays. */
  private readonly acked: { name: string; by: number; key: string; value: number }[] = [];

  constructor(
    private readonly index: number,
    private readonly deps: VirtualUserDeps,
  ) {
    for (let slot = 0; slot < deps.keysPerUser; slot += 1) this.slots.push(this.keyName(slot));
  }

  private keyName(slot: number): string {
    return `load-${this.deps.runId}-u${this.index}-k${slot}-g${this.generation}`;
  }

  private pickSlot(): number {
    return Math.floor(this.deps.random() * this.slots.length);
  }

  private counterName(): string {
    return `load-${this.deps.runId}-c${Math.floor(this.deps.random() * this.deps.counters)}`;
  }

  async run(op: Op): Promise<void> {
    switch (op) {
      case 'put':
        return this.write('put');
      case 'del':
        return this.write('del');
      case 'get':
        return this.read();
      case 'incr':
        return this.increment();
      case 'cget':
        return this.readCounter();
    }
  }

  /** One request, timed; the first try of each operation is what the report counts. */
  private async attempt(op: Op | undefined, method: 'GET' | 'PUT' | 'DELETE' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<Attempt> {
    const started = this.deps.now();
    let attempt: Attempt;
    try {
      const response = await this.deps.client.request(method, path, { ...(body !== undefined ? { body } : {}), ...(headers !== undefined ? { headers } : {}) });
      attempt = { response, errorKind: undefined };
    } catch (err) {
      attempt = { response: undefined, errorKind: transportErrorKind(err) };
    }
    if (op !== undefined) this.deps.latency.record(op, (this.deps.now() - started) * 1_000);
    return attempt;
  }

  /** Repeats an uncertain request with the same Idempotency-Key until its outcome is known or tries run out. */
  private async settle(first: Attempt, again: () => Promise<Attempt>): Promise<{ outcome: Outcome; attempt: Attempt }> {
    let attempt = first;
    let outcome = outcomeOf(attempt.response?.status);
    for (let i = 0; outcome === 'uncertain' && i < this.deps.resolveAttempts; i += 1) {
      await this.deps.sleep(Math.min(2_000, 100 * 2 ** i));
      this.deps.stats.resolutionRetries += 1;
      attempt = await again();
      outcome = outcomeOf(attempt.response?.status);
    }
    return { outcome, attempt };
  }

  private async write(kind: 'put' | 'del'): Promise<void> {
    const slot = this.pickSlot();
    const key = this.slots[slot] ?? this.keyName(slot);
    const seq = (this.seq += 1);
    const headers = { 'idempotency-key': randomUUID() };
    const path = apiPaths.kv(key);
    const send = (op: Op | undefined): Promise<Attempt> =>
      kind === 'put'
        ? this.attempt(op, 'PUT', path, { value: { run: this.deps.runId, seq, user: this.index } }, headers)
        : this.attempt(op, 'DELETE', path, undefined, headers);
    const first = await send(kind);
    const firstOk = kind === 'put' ? outcomeOf(first.response?.status) === 'acked' : [204, 404].includes(first.response?.status ?? 0);
    this.deps.stats.record(kind, firstOk ? undefined : (first.errorKind ?? `http_${first.response?.status ?? 0}`));
    const ledger = this.deps.ledger;
    if (ledger === undefined) return;
    const target: KeyState = kind === 'put' ? { kind: 'value', seq } : ABSENT;
    const { outcome, attempt } = await this.settle(first, () => send(undefined));
    // A DELETE of an absent key answers 404: the key is absent either way.
    if (outcome === 'acked' || (kind === 'del' && attempt.response?.status === 404)) ledger.writeAcked(key, target);
    else if (outcome === 'uncertain') {
      ledger.writeUncertain(key, target);
      this.generation += 1;
      this.slots[slot] = this.keyName(slot);
    }
  }

  private async read(): Promise<void> {
    const key = this.slots[this.pickSlot()] ?? '';
    const first = await this.attempt('get', 'GET', apiPaths.kv(key));
    const status = first.response?.status;
    const ok = status === 200 || status === 404;
    this.deps.stats.record('get', ok ? undefined : (first.errorKind ?? `http_${status ?? 0}`));
    if (ok && this.deps.ledger !== undefined) {
      this.deps.ledger.readObserved(key, status === 404 ? ABSENT : stateOf(first.response?.json, this.deps.runId));
    }
  }

  private async increment(): Promise<void> {
    const ledger = this.deps.ledger;
    // With --check, one increment in twenty repeats an acknowledged one on purpose: it must replay, not apply.
    const previous = this.acked[Math.floor(this.deps.random() * this.acked.length)];
    if (ledger !== undefined && previous !== undefined && this.deps.random() < 0.05) {
      const replay = await this.attempt('incr', 'POST', apiPaths.increment(previous.name), { by: previous.by }, { 'idempotency-key': previous.key });
      const status = replay.response?.status;
      this.deps.stats.record('incr', status === 200 ? undefined : (replay.errorKind ?? `http_${status ?? 0}`));
      if (status === 200) {
        const replayed = replay.response?.headers['idempotent-replayed'] === 'true';
        ledger.replayObserved(previous.name, previous.value, safeCounterValue(replay.response?.json), replayed);
      }
      return;
    }
    const name = this.counterName();
    const by = 1 + Math.floor(this.deps.random() * 3);
    const key = randomUUID();
    const send = (op: Op | undefined): Promise<Attempt> => this.attempt(op, 'POST', apiPaths.increment(name), { by }, { 'idempotency-key': key });
    const first = await send('incr');
    this.deps.stats.record('incr', first.response?.status === 200 ? undefined : (first.errorKind ?? `http_${first.response?.status ?? 0}`));
    if (ledger === undefined) return;
    const { outcome, attempt } = await this.settle(first, () => send(undefined));
    if (outcome === 'acked') {
      ledger.incrementAcked(name, by);
      const value = safeCounterValue(attempt.response?.json);
      if (value !== undefined && this.acked.length < 1_000) this.acked.push({ name, by, key, value });
    } else if (outcome === 'uncertain') {
      ledger.incrementUncertain(name, by);
    }
  }

  private async readCounter(): Promise<void> {
    const name = this.counterName();
    const floor = this.deps.ledger?.counterFloor(name) ?? 0;
    const first = await this.attempt('cget', 'GET', apiPaths.counter(name));
    const ok = first.response?.status === 200;
    this.deps.stats.record('cget', ok ? undefined : (first.errorKind ?? `http_${first.response?.status ?? 0}`));
    const value = safeCounterValue(first.response?.json);
    if (ok && value !== undefined) this.deps.ledger?.counterReadObserved(name, floor, value);
  }
}

function safeCounterValue(json: unknown): number | undefined {
  try {
    return asCounterValue(json);
  } catch {
    return undefined;
  }
}
