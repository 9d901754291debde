import type pg from 'pg';
import { execute, statement, type Statement } from './statement.js';
import { isTokenSeen, readToken, recordToken, type TokenRecord } from './write-tokens.js';

export interface KvItem {
  readonly key: string;
  readonly value: unknown;
  readonly version: string;
  readonly updatedAt: string;
}

interface KvRow {
  key: string;
  value: unknown;
  version: string;
  updated_at: Date;
}

const COLUMNS = 'key, value, version::text AS version, updated_at';

function toItem(row: KvRow): KvItem {
  return { key: row.key, value: row.value, version: row.version, updatedAt: row.updated_at.toISOString() };
}

/** LIKE treats % _ and \ specially; a prefix must match them literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** What a PUT did: the version it wrote, or nothing (the precondition did not hold). */
export type PutOutcome =
  | { readonly kind: 'created' | 'updated'; readonly version: string; readonly updatedAt: string; readonly replayed: boolean }
  | { readonly kind: 'precondition-failed' };

export type DeleteOutcome =
  | { readonly kind: 'deleted'; readonly replayed: boolean }
  | { readonly kind: 'not-found' | 'precondition-failed' };

export type Precondition =
  | { readonly kind: 'none' }
  /** If-None-Match: * — create only. */
  | { readonly kind: 'absent' }
  /** If-Match: * — update only. */
  | { readonly kind: 'exists' }
  /** If-Match: "v1", "v2" — the current version must be one of these. */
  | { readonly kind: 'versions'; readonly versions: readonly string[] };

interface WrittenRow {
  version: string;
  updated_at: Date;
  inserted: boolean;
}

/**
 * The write of each precondition as the CTE `applied`, returning the
 * version written, when, and whether the row was created. Parameters: $1
 * key, $2 value, $3 versions (If-Match). xmax = 0 only on a freshly inserted
 * row: it tells a create from an update in the same statement.
 */
const PUT_SQL: Record<Precondition['kind'], string> = {
  none: `INSERT INTO kv (key, value) VALUES ($1, $2::jsonb)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = nextval('kv_version_seq'), updated_at = now()
         RETURNING version, updated_at, (xmax = 0) AS inserted`,
  absent: `INSERT INTO kv (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO NOTHING
           RETURNING version, updated_at, true AS inserted`,
  exists: `UPDATE kv SET value = $2::jsonb, version = nextval('kv_version_seq'), updated_at = now()
           WHERE key = $1 RETURNING version, updated_at, false AS inserted`,
  versions: `UPDATE kv SET value = $2::jsonb, version = nextval('kv_version_seq'), updated_at = now()
             WHERE key = $1 AND version = ANY($3::bigint[]) RETURNING version, updated_at, false AS inserted`,
};

/** A PUT's parameters: $1 key, $2 value, then $3 versions (If-Match only), then the token. */
const PUT_TOKEN_PARAM: Record<Precondition['kind'], number> = { none: 3, absent: 3, exists: 3, versions: 4 };
const PUT_TOKEN_STATUS = 'CASE WHEN a.inserted IS NULL THEN 412 WHEN a.inserted THEN 201 ELSE 200 END';

function putStatement(kind: Precondition['kind'], withToken: boolean): Statement {
  const record = withToken ? recordToken(PUT_TOKEN_PARAM[kind], PUT_TOKEN_STATUS, 'a.version', 'a.updated_at') : '';
  return statement(
    `kv-put-${kind}${withToken ? '-token' : ''}`,
    `WITH applied AS (${PUT_SQL[kind]})${record} SELECT version::text AS version, updated_at, inserted FROM applied`,
  );
}

/** Every PUT statement, by precondition and by whether it records a write token. */
const PUT_STATEMENTS = Object.fromEntries(
  (Object.keys(PUT_SQL) as Precondition['kind'][]).map((kind) => [kind, { plain: putStatement(kind, false), token: putStatement(kind, true) }]),
) as Record<Precondition['kind'], { readonly plain: Statement; readonly token: Statement }>;

const DELETE_SQL = `WITH applied AS (DELETE FROM kv WHERE key = $1 AND ($2::bigint[] IS NULL OR version = ANY($2::bigint[])) RETURNING key)`;
const DELETE_STATEMENTS = {
  plain: statement('kv-delete', `${DELETE_SQL} SELECT count(*)::int AS deleted FROM applied`),
  token: statement('kv-delete-token', `${DELETE_SQL}${recordToken(3, 'CASE WHEN a.key IS NULL THEN 0 ELSE 204 END')} SELECT count(*)::int AS deleted FROM applied`),
};
const GET_STATEMENT = statement('kv-get', `SELECT ${COLUMNS} FROM kv WHERE key = $1`);
const EXISTS_STATEMENT = statement('kv-exists', 'SELECT 1 FROM kv WHERE key = $1');
const LIST_STATEMENT = statement(
  'kv-list',
  `SELECT ${COLUMNS} FROM kv
   WHERE key LIKE $1 AND ($2::text IS NULL OR key > $2::text COLLATE "C")
   ORDER BY key LIMIT $3`,
);

/** SQL for the kv table; every value goes through a parameter, every statement is prepared (statement.ts). */
export class KvRepository {
  async get(client: pg.ClientBase, key: string): Promise<KvItem | undefined> {
    const result = await execute<KvRow>(client, GET_STATEMENT, [key]);
    const row = result.rows[0];
    return row ? toItem(row) : undefined;
  }

  /**
   * One statement: the write and, with a write token, its record (see
   * write-tokens.ts). A token already recorded means an earlier try of this
   * request committed: its answer comes back, marked replayed, and nothing
   * is written again. Never a 412 for a write that was applied, and never
   * applied after a try answered 412. `valueJson` is the value as JSON
   * text: the route serialised it already, to check its size.
   */
  async put(client: pg.ClientBase, key: string, valueJson: string, precondition: Precondition, token?: string): Promise<PutOutcome> {
    const params: unknown[] = [key, valueJson];
    if (precondition.kind === 'versions') params.push(precondition.versions);
    if (token !== undefined) params.push(token);
    const statements = PUT_STATEMENTS[precondition.kind];
    let row: WrittenRow | undefined;
    try {
      const result = await execute<WrittenRow>(client, token === undefined ? statements.plain : statements.token, params);
      row = result.rows[0];
    } catch (err) {
      if (token === undefined || !isTokenSeen(err)) throw err;
      return replayedPut(await readToken(client, token, err));
    }
    if (!row) return { kind: 'precondition-failed' };
    return { kind: row.inserted ? 'created' : 'updated', version: row.version, updatedAt: row.updated_at.toISOString(), replayed: false };
  }

  /**
   * Deletes a key, with the write token recorded in the same statement,
   * deleted or not (see put()). A conditional delete that deleted nothing looks
   * again, in a statement of its own, so that it sees a concurrent delete
   * that committed meanwhile (404) rather than the row its first snapshot held.
   */
  async delete(client: pg.ClientBase, key: string, precondition: Precondition, token?: string): Promise<DeleteOutcome> {
    const versions = precondition.kind === 'versions' ? precondition.versions : null;
    const params: unknown[] = [key, versions];
    if (token !== undefined) params.push(token);
    let deleted: number;
    try {
      const result = await execute<{ deleted: number }>(client, token === undefined ? DELETE_STATEMENTS.plain : DELETE_STATEMENTS.token, params);
      deleted = result.rows[0]?.deleted ?? 0;
    } catch (err) {
      if (token === undefined || !isTokenSeen(err)) throw err;
      const record = await readToken(client, token, err);
      if (record.status === 204) return { kind: 'deleted', replayed: true };
      // The try that counted deleted nothing: neither did this request, so
      // what is true now is a right answer (the client is still waiting).
      deleted = 0;
    }
    if (deleted === 1) return { kind: 'deleted', replayed: false };
    if (versions === null) return { kind: 'not-found' };
    const exists = await execute(client, EXISTS_STATEMENT, [key]);
    return { kind: exists.rowCount === 1 ? 'precondition-failed' : 'not-found' };
  }

  /** One page in key order after `after`; fetches one extra row to know whether another page follows. */
  async list(client: pg.ClientBase, prefix: string, after: string | undefined, limit: number): Promise<{ items: KvItem[]; next: string | null }> {
    const result = await execute<KvRow>(client, LIST_STATEMENT, [likePrefix(prefix), after ?? null, limit + 1]);
    const rows = result.rows.slice(0, limit);
    const items = rows.map(toItem);
    const last = items[items.length - 1];
    return { items, next: result.rows.length > limit && last ? last.key : null };
  }
}

function replayedPut(record: TokenRecord): PutOutcome {
  if (record.status === 412 || record.version === null || record.updatedAt === null) return { kind: 'precondition-failed' };
  return { kind: record.status === 201 ? 'created' : 'updated', version: record.version, updatedAt: record.updatedAt, replayed: true };
}
