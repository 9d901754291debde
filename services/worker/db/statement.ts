import type pg from 'pg';

/**
 * A named (prepared) statement. Postgres parses and plans an unnamed
 * statement on every call; a named one once per connection, after which pg
 * sends only Bind and Execute: less work for Postgres and fewer bytes on
 * the wire for the statements every request runs. pg keeps the names per
 * connection and prepares again on a new one by itself.
 *
 * A name must always stand for the same text (pg refuses a second text
 * under a name it prepared), so statements are built once, at module load.
 * The statements name their columns: a migration that adds a column does
 * not change their result type, which Postgres would refuse for a plan it
 * cached ("cached plan must not change result type").
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export function statement(name: string, text: string): Statement {
  return Object.freeze({ name, text });
}

export function execute<R extends pg.QueryResultRow>(client: pg.ClientBase, { name, text }: Statement, values: unknown[]): Promise<pg.QueryResult<R>> {
  return client.query<R>({ name, text, values });
}
