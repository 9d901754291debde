import { errorCode } from '../../shared/index.js';

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as one request. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Errors that happen before the request could reach the worker: the TCP
 * connection was never established, or the pool refused the request before
 * dispatch. A reset on an established (possibly reused) connection is NOT in
 * this list: bytes may have reached the worker, and nothing in the socket API
 * proves otherwise, so it follows the ordinary retry rules (DESIGN.md, the
 * keep-alive race).
 */
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

export type FailureKind = 'connect' | 'timeout' | 'reset' | 'status';

export interface TryFailure {
  readonly kind: FailureKind;
  /** True only when the request provably never reached the upstream. */
  readonly neverSent: boolean;
  /** A short label for metrics and logs: an error code or "status_503". */
  readonly reason: string;
}

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/** Gateway statuses worth another endpoint (RFC 9110 §15.6.3–15.6.5). */
export function isRetryableStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

/** Classifies an error from one upstream try; `timedOut` is set when our own per-try timer aborted it. */
export function classifyError(err: unknown, timedOut: boolean): TryFailure {
  const code = errorCode(err) ?? 'UNKNOWN';
  if (NEVER_SENT_CODES.has(code)) return { kind: 'connect', neverSent: true, reason: code };
  if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout', neverSent: false, reason: 'timeout' };
  return { kind: 'reset', neverSent: false, reason: code };
}

/**
 * Safe to send again: it never reached the worker, or repeating it cannot
 * change the outcome (idempotent method), or the worker de-duplicates it
 * (Idempotency-Key).
 */
export function isSafeToRetry(method: string, hasIdempotencyKey: boolean, failure: TryFailure): boolean {
  return failure.neverSent || isIdempotent(method) || hasIdempotencyKey;
}

/**
 * The header that carries the balancer's write token to the worker: one per
 * client request, the same on each of its tries, never taken from the client.
 */
export const WRITE_TOKEN_HEADER = 'flotilla-write-token';

/**
 * PUT and DELETE are idempotent by their method, so they are retried after a
 * try that may have reached a worker; but with other writers in between,
 * applying one twice is not harmless (it can overwrite a newer acknowledged
 * write, or answer 412 or 404 for a write that worked). The worker records the
 * token with the write and replays the answer to a later try. An
 * Idempotency-Key does that already; other methods are not retried once sent.
 */
export function needsWriteToken(method: string, hasIdempotencyKey: boolean): boolean {
  return !hasIdempotencyKey && (method === 'PUT' || method === 'DELETE');
}

/** "Full jitter" exponential backoff: uniform in [0, min(max, base × 2^(retry-1))]. */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
