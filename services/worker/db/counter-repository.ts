import type pg from 'pg';
import { execute, statement } from './statement.js';

const INCREMENT = statement(
  'counter-increment',
  `INSERT INTO counters (name, value) VALUES ($1, $2)
   ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value, updated_at = now()
   RETURNING value::text AS value`,
);
const GET = statement('counter-get', 'SELECT value::text AS value FROM counters WHERE name = $1');

/** SQL for counters; a counter that was never incremented reads as 0. Each call is one statement. */
export class CounterRepository {
  async increment(client: pg.ClientBase, name: string, by: number): Promise<number> {
    const result = await execute<{ value: string }>(client, INCREMENT, [name, by]);
    return Number(result.rows[0]?.value ?? '0');
  }

  async get(client: pg.ClientBase, name: string): Promise<number> {
    const result = await execute<{ value: string }>(client, GET, [name]);
    return Number(result.rows[0]?.value ?? '0');
  }
}
