import { errorCode } from '../../shared/index.js';

/**
 * Classifies errors from pg so the worker can tell "the database is away"
 * (503, safe to retry where nothing may have been applied) from "your
 * transaction lost a race" (retry the whole transaction) and from a bug.
 * SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
 */

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Postgres shutting down, crashing, starting up, or too many connections. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

const CONNECTION_MESSAGES = [
  'Connection terminated',
  // pg's Client when the server took the TCP connection but did not answer
  // within connectionTimeoutMillis (an address whose pod is being replaced).
  'timeout expired',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection terminated unexpectedly',
  'connect ECONNREFUSED',
];

export function isConnectionError(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) {
    return true;
  }
  const message = err instanceof Error ? err.message : '';
  return CONNECTION_MESSAGES.some((text) => message.includes(text));
}

/** serialization_failure and deadlock_detected: Postgres rolled the transaction back, so a re-run is safe. */
export function isRetryableTransactionError(err: unknown): boolean {
  const code = errorCode(err);
  return code === '40001' || code === '40P01';
}

/** statement_timeout (query_canceled) or pg's client-side query_timeout. */
export function isQueryTimeout(err: unknown): boolean {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : '';
  return code === '57014' || message.includes('Query read timeout');
}
