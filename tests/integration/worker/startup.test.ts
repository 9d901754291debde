import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import pg from 'pg';
import { request } from 'undici';
import { waitFor } from '../../helpers/local-run.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup, REPO_ROOT, ServiceProcess } from '../../helpers/service-process.js';
import { startWorker } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
const processes = new ProcessGroup();
const WORKER = resolve(REPO_ROOT, 'dist/services/worker/main.js');

beforeAll(async () => {
  postgres = await TestPostgres.start();
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

describe('when two workers start together on an empty database', () => {
  test('then both come up, and the migrations ran exactly once', async () => {
    const url = await postgres.createDatabase('together');
    const [a, b] = await Promise.all([startWorker(url), startWorker(url)]);
    processes.add(a.process);
    processes.add(b.process);
    for (const worker of [a, b]) {
      const res = await request(`${worker.url}/v1/counters/both`, { headersTimeout: 5_000 });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    // Each migration file once: the advisory lock let one worker apply them all.
    const files = (await readdir(join(REPO_ROOT, 'services/worker/migrations'))).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, ''));
    const migrations = await postgres.query<{ name: string }>('together', 'SELECT name FROM pgmigrations ORDER BY name');
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(migrations.map((m) => m.name)).toEqual(files.sort());
  });
});

describe('when Postgres is not there yet at start-up', () => {
  test('then the worker waits with readiness 503 and serves once Postgres appears', async () => {
    await postgres.stop();
    try {
      // Ready here means "the worker has seen Postgres missing": started only then, Postgres surely came late.
      const { process: worker, ready } = await ServiceProcess.start({
        script: 'dist/services/worker/main.js',
        env: { DATABASE_URL: postgres.url('postgres'), HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', PG_CONNECT_TIMEOUT_MS: '500' },
        readyMessage: 'migrations failed; retrying',
      });
      processes.add(worker);
      expect(ready.attempt).toBe(1);
      const listening = await worker.waitForLog((e) => e.msg === 'worker listening', 1_000).catch(() => undefined);
      expect(listening).toBeUndefined();
      const admin = await worker.waitForLog((e) => e.msg === 'admin listening', 1_000);
      const waiting = await request(`http://127.0.0.1:${Number(admin.adminPort)}/readyz`);
      expect(waiting.statusCode).toBe(503);
      expect(await waiting.body.json()).toMatchObject({ reason: 'migrating' });
      expect((await request(`http://127.0.0.1:${Number(admin.adminPort)}/livez`)).statusCode).toBe(200);
      await postgres.start();
      const up = await worker.waitForLog((e) => e.msg === 'worker listening', 30_000);
      const res = await request(`http://127.0.0.1:${Number(up.adminPort)}/readyz`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      if (!(await postgres.query('postgres', 'SELECT 1').then(() => true, () => false))) await postgres.start();
    }
  });
});

describe('when the worker is run as `worker migrate`', () => {
  test('then it applies migrations and exits 0, and again finds nothing to do', async () => {
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: await postgres.createDatabase('migrate_only'), LOG_LEVEL: 'info' };
    const first = spawnSync(process.execPath, [WORKER, 'migrate'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('migrations applied');
    const second = spawnSync(process.execPath, [WORKER, 'migrate'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('database is up to date');
  });

  test('when Postgres comes up only after it started, then it waits, migrates and exits 0 (no crash loop of an initContainer)', async () => {
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: await postgres.createDatabase('migrate_late'), LOG_LEVEL: 'info' };
    await postgres.stop();
    const child = spawn(process.execPath, [WORKER, 'migrate'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let restarted = false;
    try {
      await waitFor('the first "waiting" line', () => (stdout.includes('waiting for the database') ? true : undefined), 10_000);
      await postgres.start();
      restarted = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no exit; output:\n${stdout}`)), 30_000)));
      const [code] = await Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
      expect(code).toBe(0);
      expect(stdout).toContain('the database accepts connections');
      expect(stdout).toContain('migrations applied');
    } finally {
      child.kill('SIGKILL');
      if (!restarted) await postgres.start();
    }
  });

  test('when its connection is cut in the middle of migrating (Postgres restarted by the same rollout), then it runs again and exits 0', async () => {
    const url = await postgres.createDatabase('migrate_cut');
    // Holding node-pg-migrate's advisory lock stops the run inside its
    // session, after it connected: there the test cuts it, as a Postgres
    // shutdown does (57P01, terminating connection due to administrator command).
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
    const child = spawn(process.execPath, [WORKER, 'migrate'], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null]>;
    try {
      const waitingPid = await waitFor('the migrate session waiting for the lock', async () => {
        const rows = await postgres.query<{ pid: number }>('migrate_cut', "SELECT pid FROM pg_stat_activity WHERE application_name = 'flotilla-migrate' AND wait_event_type = 'Lock'");
        return rows[0]?.pid;
      }, 10_000);
      await postgres.query('migrate_cut', 'SELECT pg_terminate_backend($1)', [waitingPid]);
      await holder.end();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no exit; output:\n${output}`)), 30_000)));
      const [code] = await Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining("migrations applied") });
      expect(output).toContain('lost the database while migrating');
      expect(output).toContain('migrations applied');
      const applied = await postgres.query<{ name: string }>('migrate_cut', 'SELECT name FROM pgmigrations');
      expect(applied.length).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGKILL');
      await holder.end().catch(() => undefined);
    }
  });

  test('when the address takes the connection but does not answer at first (a Postgres pod being replaced), then it waits past the connect timeout and migrates', async () => {
    const url = new URL(await postgres.createDatabase('migrate_silent'));
    // The first connection is held open and never answered, as a TCP peer
    // that is not Postgres yet; every later one is relayed to Postgres.
    const sockets: Socket[] = [];
    let accepted = 0;
    const relay = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      if (accepted++ === 0) return;
      const upstream = connect(postgres.port, '127.0.0.1');
      sockets.push(upstream);
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    url.port = String((relay.address() as { port: number }).port);
    try {
      const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [WORKER, 'migrate'], {
          env: { PATH: process.env.PATH ?? '', DATABASE_URL: url.toString(), LOG_LEVEL: 'info', PG_CONNECT_TIMEOUT_MS: '500' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
      expect(result).toEqual({ code: 0, output: expect.stringContaining('migrations applied') });
      expect(result.output).toContain('timeout expired');
      expect(accepted).toBeGreaterThanOrEqual(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  test('when Postgres stays away longer than MIGRATE_WAIT_MS, then it gives up with exit 1', async () => {
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: postgres.url('migrate_never'), LOG_LEVEL: 'info', MIGRATE_WAIT_MS: '1500' };
    await postgres.stop();
    try {
      const started = Date.now();
      const result = spawnSync(process.execPath, [WORKER, 'migrate'], { env, encoding: 'utf8', timeout: 30_000 });
      expect(result.status).toBe(1);
      expect(result.stdout).toContain('waiting for the database');
      expect(result.stderr).toContain('ECONNREFUSED');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await postgres.start();
    }
  });

  test('when the password is wrong, then it fails at once instead of waiting', () => {
    const url = new URL(postgres.url('postgres'));
    url.password = 'not-the-password';
    const result = spawnSync(process.execPath, [WORKER, 'migrate'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url.toString(), LOG_LEVEL: 'info' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain('waiting for the database');
  });
});

describe('when the worker is given a bad configuration', () => {
  test('then it exits 2 with a message naming every bad variable', () => {
    const result = spawnSync(process.execPath, [WORKER], {
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty', PG_POOL_MAX: '0', PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: '50', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(2);
    for (const name of ['PORT', 'PG_POOL_MAX', 'PG_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'LOG_LEVEL', 'DATABASE_URL']) expect(result.stderr).toContain(`${name}:`);
    expect(result.stderr).toContain('allowed');
  });

  test('then an unknown command is refused with exit 2', () => {
    const result = spawnSync(process.execPath, [WORKER, 'serv'], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command');
  });
});
