import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { freePort } from '../../helpers/free-port.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const haveProm = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
// .ci/run installs Debian's prometheus package, and in CI a missing binary fails
// the test; on a developer machine without it this file is skipped, loudly.
const describeWithProm = haveProm || process.env.CI === 'true' ? describe : describe.skip;
if (!haveProm) process.stderr.write('prometheus.test: /usr/bin/prometheus not installed (apt-get install prometheus); skipped\n');

let postgres: TestPostgres;
let workers: WorkerHandle[] = [];
let balancer: BalancerHandle;
let prometheus: ChildProcess | undefined;
let promUrl = '';
let dir = '';
const processes = new ProcessGroup();

async function text(url: string): Promise<string> {
  const res = await request(url, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  return res.body.text();
}

describeWithProm('when a real Prometheus scrapes the services', () => {
  beforeAll(async () => {
    postgres = await TestPostgres.start();
    const db = await postgres.createDatabase('observe');
    workers = await Promise.all([startWorker(db), startWorker(db)]);
    for (const w of workers) processes.add(w.process);
    balancer = await startBalancer(workers.map((w) => `${w.url}?admin=${w.adminPort}`));
    processes.add(balancer.process);

    dir = mkdtempSync(join(tmpdir(), 'flotilla-prom-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: balancer',
        `    static_configs: [{ targets: ['127.0.0.1:${balancer.adminPort}'] }]`,
        '  - job_name: worker',
        `    static_configs: [{ targets: [${workers.map((w) => `'127.0.0.1:${w.adminPort}'`).join(', ')}] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    // Some traffic through the balancer so request series exist.
    for (let i = 0; i < 20; i++) {
      const res = await request(`${balancer.url}/v1/kv/obs-${i % 5}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: i }),
      });
      await res.body.dump();
    }
  }, 120_000);

  afterAll(async () => {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await new Promise((r) => prometheus?.once('exit', r));
    }
    await processes.stopAll();
    await postgres?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const body = JSON.parse(await text(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return body.data.result;
  }

  async function eventually(expr: string, predicate: (n: number) => boolean, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = 0;
    while (Date.now() < deadline) {
      try {
        const result = await query(expr);
        last = result.length;
        if (predicate(last)) return last;
      } catch {
        // Prometheus still starting
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${expr}: ${last} series after ${timeoutMs} ms`);
  }

  test('then every target is up and the key series exist', async () => {
    await eventually('up == 1', (n) => n === 3);
    await eventually('http_request_duration_seconds_count{route="/v1/kv/:key",method="PUT"}', (n) => n >= 1);
    await eventually('pg_pool_clients', (n) => n === 2);
    await eventually('pg_pool_waiting_requests', (n) => n === 2);
    await eventually('balancer_requests_total', (n) => n >= 1);
    await eventually('balancer_request_duration_seconds_bucket', (n) => n >= 1);
    await eventually('balancer_endpoint_state', (n) => n >= 2);
    await eventually('process_resident_memory_bytes', (n) => n === 3);
  }, 60_000);

  test('then promtool accepts each service\'s /metrics', async () => {
    for (const url of [`${balancer.adminUrl}/metrics`, ...workers.map((w) => `${w.adminUrl}/metrics`)]) {
      const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: await text(url), encoding: 'utf8', timeout: 20_000 });
      expect({ url, status: result.status, problems: `${result.stdout}${result.stderr}`.trim() }).toEqual({ url, status: 0, problems: '' });
    }
  });
});
