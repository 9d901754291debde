import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup, REPO_ROOT } from '../../helpers/service-process.js';
import { startWorker } from '../../helpers/worker-process.js';

let postgres: TestPostgres;
const processes = new ProcessGroup();
const PASSWORD = 'test-password'; // the TestPostgres superuser password
let secretDir: string;

beforeAll(async () => {
  postgres = await TestPostgres.start();
  secretDir = mkdtempSync(join(tmpdir(), 'flotilla-secret-'));
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
  rmSync(secretDir, { recursive: true, force: true });
});

describe('when credentials reach the worker', () => {
  test('then they come from a mounted file and never appear in its logs, even while Postgres fails', async () => {
    await postgres.createDatabase('secrets');
    const passwordFile = join(secretDir, 'pgpassword');
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    const worker = await startWorker('', {
      DATABASE_URL: '',
      PGHOST: '127.0.0.1',
      PGPORT: String(postgres.port),
      PGUSER: 'postgres',
      PGDATABASE: 'secrets',
      PGPASSWORD_FILE: passwordFile,
      LOG_LEVEL: 'trace',
      PG_CONNECT_TIMEOUT_MS: '500',
    });
    processes.add(worker.process);
    const put = await request(`${worker.url}/v1/kv/s`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"value":1}' });
    expect(put.statusCode).toBe(201);
    await put.body.dump();

    // Provoke the error paths that are most likely to print connection details.
    await postgres.stop();
    for (let i = 0; i < 5; i++) {
      const res = await request(`${worker.url}/v1/kv/s`);
      await res.body.dump();
      await new Promise((r) => setTimeout(r, 100));
    }
    await postgres.start();
    await worker.process.waitForLog((e) => e.msg === 'database reachable', 10_000);
    await worker.process.stop();

    const output = [...worker.process.lines, ...worker.process.stderr].join('\n');
    expect(output).toContain('database unreachable');
    expect(output).not.toContain(PASSWORD);
  });

  test('then a wrong password in DATABASE_URL is not echoed when the worker cannot log in', async () => {
    const wrong = 'wrong-Secret-123';
    const result = spawnSync(process.execPath, [resolve(REPO_ROOT, 'dist/services/worker/main.js'), 'migrate'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: `postgres://postgres:${wrong}@127.0.0.1:${postgres.port}/postgres` },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain(wrong);
  });
});
