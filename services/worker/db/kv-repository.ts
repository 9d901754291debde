import type pg from 'pg';

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

export type PutOutcome =
  | { readonly kind: 'created'; readonly item: KvItem }
  | { readonly kind: 'updated'; readonly item: KvItem }
  | { readonly kind: 'precondition-failed' };

export type Precondition =
  | { readonly kind: 'none' }
  /** If-None-Match: * — create only. */
  | { readonly kind: 'absent' }
  /** If-Match: * — update only. */
  | { readonly kind: 'exists' }
  /** If-Match: "v1", "v2" — the current version must be one of these. */
  | { readonly kind: 'versions'; readonly versions: readonly string[] };

/** SQL for the kv table; every value goes through a parameter. */
export class KvRepository {
  async get(client: pg.ClientBase, key: string): Promise<KvItem | undefined> {
    const result = await client.query<KvRow>(`SELECT ${COLUMNS} FROM kv WHERE key = $1`, [key]);
    const row = result.rows[0];
    return row ? toItem(row) : undefined;
  }

  async put(client: pg.ClientBase, key: string, value: unknown, precondition: Precondition): Promise<PutOutcome> {
    const json = JSON.stringify(value);
    switch (precondition.kind) {
      case 'absent': {
        const result = await client.query<KvRow>(
          `INSERT INTO kv (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO NOTHING RETURNING ${COLUMNS}`,
          [key, json],
        );
        const row = result.rows[0];
        return row ? { kind: 'created', item: toItem(row) } : { kind: 'precondition-failed' };
      }
      case 'exists':
      case 'versions': {
        const versions = precondition.kind === 'versions' ? precondition.versions : null;
        const result = await client.query<KvRow>(
          `UPDATE kv SET value = $2::jsonb, version = nextval('kv_version_seq'), updated_at = now()
           WHERE key = $1 AND ($3::bigint[] IS NULL OR version = ANY($3::bigint[]))
           RETURNING ${COLUMNS}`,
          [key, json, versions],
        );
        const row = result.rows[0];
        return row ? { kind: 'updated', item: toItem(row) } : { kind: 'precondition-failed' };
      }
      case 'none': {
        // xmax = 0 only on a freshly inserted row: tells a create from an update in one statement.
        const result = await client.query<KvRow & { inserted: boolean }>(
          `INSERT INTO kv (key, value) VALUES ($1, $2::jsonb)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = nextval('kv_version_seq'), updated_at = now()
           RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
          [key, json],
        );
        const row = result.rows[0];
        if (!row) throw new Error('upsert returned no row');
        return { kind: row.inserted ? 'created' : 'updated', item: toItem(row) };
      }
    }
  }

  /** Deletes a key; 'precondition-failed' when it exists at another version. */
  async delete(client: pg.ClientBase, key: string, precondition: Precondition): Promise<'deleted' | 'not-found' | 'precondition-failed'> {
    const versions = precondition.kind === 'versions' ? precondition.versions : null;
    const result = await client.query(
      'DELETE FROM kv WHERE key = $1 AND ($2::bigint[] IS NULL OR version = ANY($2::bigint[])) RETURNING key',
      [key, versions],
    );
    if (result.rowCount === 1) return 'deleted';
    if (versions === null) return 'not-found';
    const exists = await client.query('SELECT 1 FROM kv WHERE key = $1', [key]);
    return exists.rowCount === 1 ? 'precondition-failed' : 'not-found';
  }

  /** One page in key order after `after`; fetches one extra row to know whether another page follows. */
  async list(client: pg.ClientBase, prefix: string, after: string | undefined, limit: number): Promise<{ items: KvItem[]; next: string | null }> {
    const result = await client.query<KvRow>(
      `SELECT ${COLUMNS} FROM kv
       WHERE key LIKE $1 AND ($2::text IS NULL OR key > $2::text COLLATE "C")
       ORDER BY key LIMIT $3`,
      [likePrefix(prefix), after ?? null, limit + 1],
    );
    const rows = result.rows.slice(0, limit);
    const items = rows.map(toItem);
    const last = items[items.length - 1];
    return { items, next: result.rows.length > limit && last ? last.key : null };
  }
}
