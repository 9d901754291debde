import type pg from 'pg';
import { errorCode } from '../../shared/index.js';
import { execute, statement } from './statement.js';

/**
 * Write tokens: the balancer gives each PUT and DELETE it forwards a token
 * of its own (Flotilla-Write-Token), the same on every try of that client
 * request. Every write records its token and its outcome in the same
 * statement as the write, whatever the outcome (a 412 too), so that of all
 * the tries of one request exactly one takes effect: any other try, earlier
 * or later, concurrent or long after (a paused worker that wakes up), fails
 * on the token's primary key, changes nothing, and is answered from the
 * record. A try that changed nothing must be recorded as well: otherwise a
 * late try could still apply a request whose client was told 412 or 404.
 */

/** The outcome recorded for a token. */
export interface TokenRecord {
  /** The status the try answered; 0 for a DELETE that deleted nothing. */
  readonly status: number;
  /** PUT: the version written and when. */
  readonly version: string | null;
  readonly updatedAt: string | null;
}

/**
 * The CTE that records token `$param` with the outcome of the CTE `applied`
 * (at most one row; `a` in the expressions, all NULL when it wrote
 * nothing): exactly one row, whatever applied did.
 */
export function recordToken(param: number, status: string, version = 'NULL::bigint', updatedAt = 'NULL::timestamptz'): string {
  return `, recorded AS (INSERT INTO write_tokens (token, status, version, updated_at)
    SELECT $${param}::uuid, ${status}, ${version}, ${updatedAt} FROM (VALUES (1)) AS one LEFT JOIN applied a ON true)`;
}

/** True when a statement failed because its token was already recorded: an earlier try committed. */
export function isTokenSeen(err: unknown): boolean {
  return errorCode(err) === '23505' && (err as { constraint?: string }).constraint === 'write_tokens_pkey';
}

/**
 * The record of a token the primary key just said exists (`cause`, the
 * unique violation). A record gone since was deleted as expired, long after
 * any retry of its request: that is a bug, not an answer.
 */
const READ_TOKEN = statement('write-token-read', 'SELECT status, version::text AS version, updated_at FROM write_tokens WHERE token = $1::uuid');

export async function readToken(client: pg.ClientBase, token: string, cause: unknown): Promise<TokenRecord> {
  const result = await execute<{ status: number; version: string | null; updated_at: Date | null }>(client, READ_TOKEN, [token]);
  const row = result.rows[0];
  if (!row) throw new Error('write token recorded but its record is gone', { cause });
  return { status: row.status, version: row.version, updatedAt: row.updated_at?.toISOString() ?? null };
}

/**
 * Deletes tokens older than the retention, in batches, each its own short
 * statement (so no lock is held for long), until none is left or `maxBatches` ran.
 */
export async function deleteExpiredTokens(pool: pg.Pool, ttlSeconds: number, maxBatches = 50): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const result = await pool.query(
      `DELETE FROM write_tokens WHERE token IN (
         SELECT token FROM write_tokens WHERE created_at < now() - make_interval(secs => $1) LIMIT 10000)`,
      [ttlSeconds],
    );
    deleted += result.rowCount ?? 0;
    if ((result.rowCount ?? 0) < 10_000) break;
  }
  return deleted;
}
