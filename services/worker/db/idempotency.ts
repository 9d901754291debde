import { createHash } from 'node:crypto';
import type pg from 'pg';
import { WorkerError } from '../errors.js';
import { execute, statement } from './statement.js';

/** What a mutating route answered; stored under its Idempotency-Key and replayed on repeats. */
export interface StoredResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface IdempotentResult {
  readonly response: StoredResponse;
  readonly replayed: boolean;
}

/** A digest of what makes two requests "the same request" (method, route, target, body, preconditions). */
export function fingerprint(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

const CLAIM = statement(
  'idempotency-claim',
  `INSERT INTO idempotency_keys (key, fingerprint, status_code, response)
   VALUES ($1, $2, 0, 'null'::jsonb)
   ON CONFLICT (key) DO NOTHING
   RETURNING key`,
);
const STORE = statement('idempotency-store', 'UPDATE idempotency_keys SET status_code = $2, response = $3 WHERE key = $1');
const READ = statement('idempotency-read', 'SELECT fingerprint, status_code, response FROM idempotency_keys WHERE key = $1');

/**
 * Runs `apply` at most once per idempotency key, inside the caller's
 * transaction. The key row is claimed first with INSERT … ON CONFLICT DO
 * NOTHING: a concurrent duplicate blocks on the uncommitted row until the
 * first transaction ends, then finds the committed response and replays it
 * (or, if the first rolled back, claims the key itself). So 50 concurrent
 * duplicates apply once. The same key with a different request is a client
 * error (422), as the IETF Idempotency-Key draft recommends.
 */
export async function runIdempotent(
  client: pg.PoolClient,
  key: string,
  requestFingerprint: string,
  apply: () => Promise<StoredResponse>,
): Promise<IdempotentResult> {
  const claim = await execute(client, CLAIM, [key, requestFingerprint]);
  if (claim.rowCount === 1) {
    const response = await apply();
    await execute(client, STORE, [key, response.statusCode, JSON.stringify({ headers: response.headers, body: response.body })]);
    return { response, replayed: false };
  }
  const existing = await execute<{ fingerprint: string; status_code: number; response: { headers: Record<string, string>; body: unknown } }>(client, READ, [key]);
  const row = existing.rows[0];
  if (!row) {
    // Expired and deleted between the two statements; the caller's retry claims it afresh.
    throw new WorkerError('WRK_ERR_IDEMPOTENCY_IN_PROGRESS', 'the idempotency key changed state; retry the request');
  }
  if (row.fingerprint !== requestFingerprint) {
    throw new WorkerError(
      'WRK_ERR_IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was already used for a different request; use a new key for a new request',
    );
  }
  return {
    response: { statusCode: row.status_code, headers: row.response.headers, body: row.response.body },
    replayed: true,
  };
}

/** Deletes keys older than the retention window, in bounded batches. */
export async function deleteExpiredKeys(pool: pg.Pool, ttlHours: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM idempotency_keys WHERE key IN (
       SELECT key FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) LIMIT 10000)`,
    [ttlHours],
  );
  return result.rowCount ?? 0;
}
