import type pg from 'pg';

/** SQL for counters; a counter that was never incremented reads as 0. */
export class CounterRepository {
  async increment(client: pg.ClientBase, name: string, by: number): Promise<number> {
    const result = await client.query<{ value: string }>(
      `INSERT INTO counters (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value, updated_at = now()
       RETURNING value::text AS value`,
      [name, by],
    );
    return Number(result.rows[0]?.value ?? '0');
  }

  async get(client: pg.ClientBase, name: string): Promise<number> {
    const result = await client.query<{ value: string }>('SELECT value::text AS value FROM counters WHERE name = $1', [name]);
    return Number(result.rows[0]?.value ?? '0');
  }
}
