import type { Dispatcher } from 'undici';
import type { Writable } from 'node:stream';
import { needsDrain } from './client-protocol.js';

/** The upstream's answer up to its head, or why there is none. */
export type CallHead = { readonly ok: true; readonly status: number; readonly rawHeaders: readonly Buffer[] } | { readonly ok: false; readonly error: Error };

/** What a discarded body may cost before the connection is dropped instead (undici's dump() limit is 128 KiB). */
const DISCARD_LIMIT_BYTES = 64 * 1024;

/**
 * Body bytes kept while the caller decides what to do with a response (relay
 * it, or drop it and retry). Usually one socket read; past this the upstream
 * socket is paused.
 */
const HOLD_LIMIT_BYTES = 64 * 1024;

type Phase = 'head' | 'held' | 'piping' | 'discarding' | 'ended';

/**
 * One request to one upstream as an undici dispatch handler (the callback
 * API under undici's request()). Compared with request(), the response body
 * goes from the upstream parser straight into the client's response (HTTP/1.1
 * or HTTP/2: both are Writables),
 * with backpressure by pausing the parser, instead of through a Readable
 * and pipe(); and aborting needs no AbortController: undici hands the
 * handler an abort function when the request gets a socket.
 *
 * Lifecycle: `head` settles once (response head, or failure); then the
 * owner calls exactly one of pipeTo() or discard(). `onFinish` runs once,
 * when the exchange with the upstream is over, however it ended.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  /** Until takeHead(): the call keeps no reference to the head once its reader has it. */
  private head: Promise<CallHead> | undefined;
  /** Until the head is settled. */
  private settleHead: ((head: CallHead) => void) | undefined;
  private phase: Phase = 'head';
  private abortUpstream: ((err: Error) => void) | undefined;
  private cancelled: Error | undefined;
  private resumeUpstream: (() => void) | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private pausedWhileHeld = false;
  private heldEnd = false;
  private heldError: Error | undefined;
  private discarded = 0;
  private res: Writable | undefined;
  private settleBody: ((err?: Error) => void) | undefined;
  private onFinish: (() => void) | undefined;

  constructor(onFinish: () => void) {
    this.onFinish = onFinish;
    this.head = new Promise((resolve) => {
      this.settleHead = resolve;
    });
  }

  /**
   * The response head, or why there is none; for its one reader, who takes
   * it before dispatching (a dispatch can fail at once). See forgetExchange()
   * for why the call does not keep it.
   */
  takeHead(): Promise<CallHead> {
    const head = this.head;
    if (head === undefined) throw new Error('takeHead() called twice');
    this.head = undefined;
    return head;
  }

  /**
   * Stops the exchange (per-try timeout, client gone). A request still queued
   * in the pool has no socket and so no abort function yet: its head fails
   * now, and undici's abort runs when it is dispatched.
   */
  cancel(reason: Error): void {
    if (this.phase === 'ended' || this.cancelled !== undefined) return;
    this.cancelled = reason;
    if (this.abortUpstream !== undefined) this.abortUpstream(reason);
    else if (this.phase === 'head') this.end(reason);
  }

  /** Streams the body into `res`, whose head the caller has written. Rejects when either side broke off. */
  pipeTo(res: Writable): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.phase !== 'held') {
        reject(new Error(`pipeTo() in phase ${this.phase}`));
        return;
      }
      this.settleBody = (err) => (err === undefined ? resolve() : reject(err));
      this.res = res;
      this.phase = 'piping';
      const held = this.held;
      this.held = [];
      if (this.heldEnd && this.heldError === undefined) {
        // The usual small response: all of it arrived with the head. Its last
        // chunk goes out with end(), so head and body leave in one write.
        const last = held.pop();
        for (const chunk of held) res.write(chunk);
        this.completePiping(last);
        return;
      }
      for (const chunk of held) res.write(chunk);
      if (this.heldError !== undefined) this.failPiping(this.heldError);
      else if (this.pausedWhileHeld) this.resumeWhenDrained();
    });
  }

  /** Reads and drops the body, keeping the connection when the body is small; resolves when the upstream is done. */
  discard(): Promise<void> {
    return new Promise((resolve) => {
      if (this.phase !== 'held') {
        resolve();
        return;
      }
      this.settleBody = () => resolve();
      this.phase = 'discarding';
      this.discarded = this.heldBytes;
      this.held = [];
      if (this.heldEnd || this.heldError !== undefined) this.end();
      else if (this.discarded > DISCARD_LIMIT_BYTES) this.abortUpstream?.(new Error('discarded body over the limit'));
      else if (this.pausedWhileHeld) this.resumeUpstream?.();
    });
  }

  // --- undici's handler callbacks ---

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.cancelled !== undefined) abort(this.cancelled);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx interim answers (100 Continue, 103 Early Hints) are not relayed.
    if (statusCode < 200 || this.phase !== 'head') return true;
    this.resumeUpstream = resume;
    this.phase = 'held';
    this.settleHeadWith({ ok: true, status: statusCode, rawHeaders });
    return true;
  }

  onData(chunk: Buffer): boolean {
    switch (this.phase) {
      case 'piping': {
        const res = this.res as Writable;
        // A destroyed response refuses writes without ever draining; the
        // client-gone abort ends the upstream then.
        if (!needsDrain(res, res.write(chunk))) return true;
        res.once('drain', this.resumeUpstream as () => void);
        return false;
      }
      case 'held':
        this.held.push(chunk);
        this.heldBytes += chunk.length;
        if (this.heldBytes <= HOLD_LIMIT_BYTES) return true;
        this.pausedWhileHeld = true;
        return false;
      case 'discarding':
        this.discarded += chunk.length;
        if (this.discarded > DISCARD_LIMIT_BYTES) this.abortUpstream?.(new Error('discarded body over the limit'));
        return true;
      default:
        return true;
    }
  }

  onComplete(): void {
    if (this.phase === 'piping') this.completePiping();
    else if (this.phase === 'held') this.heldEnd = true;
    else if (this.phase === 'discarding') this.end();
  }

  onError(err: Error): void {
    switch (this.phase) {
      case 'head':
        this.end(err);
        break;
      case 'held':
        this.heldError = err;
        break;
      case 'piping':
        this.failPiping(err);
        break;
      case 'discarding':
        this.end();
        break;
      default:
        break;
    }
  }

  // --- internals ---

  /**
   * Resumes the upstream paused while its response was held, once the client
   * has taken what is queued. 'drain' comes only after a write() that found
   * the buffer full; when none did (the held chunks went straight to the
   * socket), it never comes, so the upstream is resumed at once.
   */
  private resumeWhenDrained(): void {
    const res = this.res as Writable;
    const resume = this.resumeUpstream;
    if (resume === undefined) return;
    if (needsDrain(res, false)) res.once('drain', resume);
    else resume();
  }

  /** The body is complete: `last` (its final chunk, when the caller still holds one) goes out with end(). */
  private completePiping(last?: Buffer): void {
    (this.res as Writable).end(last);
    this.end();
  }

  /** The response is already started: a cut connection is the only honest signal left. */
  private failPiping(err: Error): void {
    (this.res as Writable).destroy();
    this.end(err);
  }

  private end(err?: Error): void {
    const phase = this.phase;
    if (phase === 'ended') return;
    this.phase = 'ended';
    this.held = [];
    const onFinish = this.onFinish;
    const settleBody = this.settleBody;
    this.forgetExchange();
    onFinish?.();
    if (phase === 'head') this.settleHeadWith({ ok: false, error: err ?? new Error('upstream call ended without a response') });
    else settleBody?.(phase === 'piping' ? err : undefined);
  }

  /** Settles the head once and drops the resolver (it holds the promise, and through it the head). */
  private settleHeadWith(head: CallHead): void {
    const settle = this.settleHead;
    this.settleHead = undefined;
    settle?.(head);
  }

  /**
   * An ended call lets go of the client's response and the closures over
   * the exchange. It can outlive its request by a while: undici's request
   * keeps its handler, and a dead object already moved to the old
   * generation still counts as a root for the next young-generation
   * collections, so whatever the call points to survives them and is moved
   * to the old generation too. Holding the response and the head here made
   * most of the balancer's request objects (the client's request and
   * response, undici's header buffers) take that path: 3.3 KB per request
   * moved to the old generation, against 1.3 KB without, and scavenges took
   * 5 µs per request against 2 µs (node --trace-gc-nvp, bench/RESULTS.md).
   */
  private forgetExchange(): void {
    this.res = undefined;
    this.settleBody = undefined;
    this.resumeUpstream = undefined;
    this.abortUpstream = undefined;
    this.onFinish = undefined;
  }
}
