import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { fixtureLauncher, startUpstreams, type ChaosUpstream } from '../../helpers/chaos-upstream.js';
import { isAlive, waitFor } from '../../helpers/local-run.js';
import { ProcessGroup, REPO_ROOT, type ServiceProcess } from '../../helpers/service-process.js';

/**
 * BALANCER_WORKERS=2: a node:cluster primary (discovery, admin port) and two
 * worker processes sharing the data port. Everything here runs the real
 * compiled balancer against the stand-in upstream.
 */

const PROMTOOL = '/usr/bin/promtool';
// Debian's prometheus package; CI installs it (see tests/integration/observability/prometheus.test.ts).
const itWithPromtool = existsSync(PROMTOOL) || process.env.CI === 'true' ? it : it.skip;

const processes = new ProcessGroup();
let upstreams: ChaosUpstream[] = [];

beforeAll(async () => {
  upstreams = await startUpstreams(2, fixtureLauncher({ LOG_REQUESTS: '0' }));
  for (const u of upstreams) processes.add(u.process);
});

afterAll(async () => {
  await processes.stopAll();
});

interface WorkerRow {
  readonly pid: number | null;
  readonly listening: boolean;
  readonly ready: boolean;
  readonly restarts: number;
}

/** One GET on a connection of its own (node:cluster hands each new connection to the next worker). */
function getOnNewConnection(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    req.on('error', fail);
  });
}

async function workers(balancer: BalancerHandle): Promise<WorkerRow[]> {
  const res = await request(`${balancer.adminUrl}/admin/workers`);
  return ((await res.body.json()) as { workers: WorkerRow[] }).workers;
}

/** The sum of every balancer_requests_total series on the primary's /metrics. */
async function requestsCounted(balancer: BalancerHandle): Promise<number> {
  const res = await request(`${balancer.adminUrl}/metrics`);
  expect(res.statusCode).toBe(200);
  const text = await res.body.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('balancer_requests_total{'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function accessPids(service: ServiceProcess, pathPrefix: string): Set<number> {
  return new Set(
    service
      .entries()
      .filter((e) => e.msg === 'access' && typeof e.path === 'string' && e.path.startsWith(pathPrefix))
      .map((e) => e.pid as number),
  );
}

describe('balancer cluster mode (BALANCER_WORKERS=2)', () => {
  let balancer: BalancerHandle;
  let workerPids: number[];

  beforeAll(async () => {
    balancer = await startBalancer(
      upstreams.map((u) => u.entry),
      { BALANCER_WORKERS: '2' },
    );
    processes.add(balancer.process);
    const listening = balancer.process.entries().find((e) => e.msg === 'balancer listening') ?? {};
    expect(listening).toMatchObject({ workers: 2, port: balancer.port, adminPort: balancer.adminPort });
    workerPids = listening.workerPids as number[];
  });

  it('when it starts, then one primary logs "balancer listening" once, with two distinct worker pids, and each worker logs its own line', async () => {
    expect(workerPids).toHaveLength(2);
    expect(new Set(workerPids).size).toBe(2);
    expect(workerPids).not.toContain(balancer.process.pid);
    // Three processes write to one pipe: a worker's line may arrive after the primary's.
    const workerLines = (): Record<string, unknown>[] => balancer.process.entries().filter((e) => e.msg === 'balancer worker listening');
    await waitFor('both workers’ listening lines', () => (workerLines().length >= 2 ? true : undefined), 5_000);
    expect(new Set(workerLines().map((e) => e.pid))).toEqual(new Set(workerPids));
    const entries = balancer.process.entries();
    expect(entries.filter((e) => e.msg === 'balancer listening')).toHaveLength(1);
    expect(entries.find((e) => e.msg === 'balancer listening')?.note).toMatch(/per worker process/);
  });

  it('when requests arrive on many connections, then both worker processes serve them, and the primary’s /metrics counts every one', async () => {
    const before = await requestsCounted(balancer);
    const sent = 40;
    const answers = await Promise.all(Array.from({ length: sent }, (_, i) => getOnNewConnection(`${balancer.url}/spread-${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: sent }, () => 200));
    // Both processes answered (the access line carries the pid of the process that wrote it).
    await waitFor('access lines', () => (balancer.process.entries().filter((e) => e.msg === 'access' && String(e.path).startsWith('/spread-')).length === sent ? true : undefined), 5_000);
    expect(accessPids(balancer.process, '/spread-')).toEqual(new Set(workerPids));
    expect((await requestsCounted(balancer)) - before).toBe(sent);
  });

  itWithPromtool('when the aggregated /metrics is scraped, then promtool accepts it and the cluster series are there', async () => {
    const text = await (await request(`${balancer.adminUrl}/metrics`)).body.text();
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    expect({ status: result.status, problems: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
    expect(text).toMatch(/^balancer_workers 2$/m);
    expect(text).toMatch(/^balancer_worker_restarts_total 0$/m);
    expect(text).toMatch(/^balancer_endpoint_state\{upstream="127\.0\.0\.1:\d+",state="healthy"\} 1$/m);
  });

  it('when /admin/upstreams, /admin/traffic and /readyz are asked on the primary, then they answer for both workers together', async () => {
    const inFlight = Array.from({ length: 4 }, (_, i) => getOnNewConnection(`${balancer.url}/held-${i}?delay=1500`));
    await new Promise((r) => setTimeout(r, 500));
    const res = await request(`${balancer.adminUrl}/admin/upstreams`);
    expect(res.statusCode).toBe(200);
    const table = (await res.body.json()) as { workers: number; inFlight: number; picker: string; upstreams: { endpoint: string; inFlight: number; state: string }[] };
    expect(table).toMatchObject({ workers: 2, picker: 'p2c-ewma', inFlight: 4 });
    expect(table.upstreams.map((u) => u.endpoint).sort()).toEqual(upstreams.map((u) => `127.0.0.1:${u.port}`).sort());
    expect(table.upstreams.reduce((sum, u) => sum + u.inFlight, 0)).toBe(4);
    expect((await Promise.all(inFlight)).every((a) => a.status === 200)).toBe(true);

    const traffic = await request(`${balancer.adminUrl}/admin/traffic`);
    expect(traffic.statusCode).toBe(200);
    expect(((await traffic.body.json()) as { intervalSeconds: number; points: unknown[] }).intervalSeconds).toBe(10);
    const ready = await request(`${balancer.adminUrl}/readyz`);
    expect(ready.statusCode).toBe(200);
    await ready.body.dump();
    // The status page reads the two routes above; it is served by the primary too.
    const status = await request(`${balancer.adminUrl}/admin/status`);
    expect(status.statusCode).toBe(200);
    await status.body.dump();
  });

  it('when a worker is SIGKILLed, then requests keep succeeding on the other, and the worker is forked again and serves', async () => {
    const victim = workerPids[0] as number;
    const survivor = workerPids[1] as number;
    const restartsBefore = balancer.process.entries().filter((e) => e.msg === 'balancer worker exited unexpectedly; forking it again').length;
    process.kill(victim, 'SIGKILL');
    await balancer.process.waitForLog((e) => e.msg === 'balancer worker exited unexpectedly; forking it again' && e.workerPid === victim, 10_000);
    expect(balancer.process.entries().filter((e) => e.msg === 'balancer worker exited unexpectedly; forking it again')).toHaveLength(restartsBefore + 1);

    // Bounded: until a new worker listens, every request must still be answered.
    const statuses: number[] = [];
    const deadline = Date.now() + 20_000;
    let replacement: number | undefined;
    for (let i = 0; replacement === undefined && Date.now() < deadline; i++) {
      statuses.push((await getOnNewConnection(`${balancer.url}/after-kill-${i}`)).status);
      const rows = await workers(balancer);
      replacement = rows.find((w) => w.pid !== null && w.pid !== victim && w.pid !== survivor && w.listening && w.ready)?.pid ?? undefined;
    }
    expect(replacement).toBeDefined();
    expect(isAlive(victim)).toBe(false);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect((await workers(balancer)).map((w) => w.restarts).sort()).toEqual([0, 1]);

    // The new worker takes its share of new connections.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => getOnNewConnection(`${balancer.url}/resumed-${i}`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await waitFor('access lines', () => (accessPids(balancer.process, '/resumed-').size === 2 ? true : undefined), 5_000);
    expect(accessPids(balancer.process, '/resumed-')).toEqual(new Set([survivor, replacement]));
    const metrics = await (await request(`${balancer.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/^balancer_worker_restarts_total 1$/m);
    expect(metrics).toMatch(/^balancer_workers 2$/m);
  });
});

describe('balancer cluster mode shutdown', () => {
  it('when the primary gets SIGTERM with requests in flight on both workers, then readiness fails at once, every request completes and it exits 0', async () => {
    const balancer = await startBalancer(
      upstreams.map((u) => u.entry),
      { BALANCER_WORKERS: '2', DRAIN_DELAY_MS: '500', SHUTDOWN_TIMEOUT_MS: '15000' },
    );
    processes.add(balancer.process);
    const inFlight = Array.from({ length: 6 }, (_, i) => getOnNewConnection(`${balancer.url}/slow-${i}?delay=2000`, 15_000));
    await new Promise((r) => setTimeout(r, 400));
    balancer.process.signal('SIGTERM');
    await balancer.process.waitForLog((e) => e.msg === 'draining: readiness off, workers drain', 5_000);
    const ready = await request(`${balancer.adminUrl}/readyz`);
    expect(ready.statusCode).toBe(503);
    expect(((await ready.body.json()) as { reason: string }).reason).toBe('draining');

    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await balancer.process.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    // 'exit' can come before the last buffered lines of the pipe are read.
    await balancer.process.waitForLog((e) => e.msg === 'shutdown complete' && e.pid === balancer.process.pid, 5_000);
    const entries = balancer.process.entries();
    // Both workers had requests in flight, drained them and stopped; the primary stopped after both had exited.
    expect(accessPids(balancer.process, '/slow-').size).toBe(2);
    expect(new Set(entries.filter((e) => e.msg === 'listener closed; waiting for in-flight requests').map((e) => e.pid)).size).toBe(2);
    expect(new Set(entries.filter((e) => e.msg === 'balancer stopped' && e.pid !== balancer.process.pid).map((e) => e.pid)).size).toBe(2);
    const primary = entries.filter((e) => e.pid === balancer.process.pid).map((e) => e.msg);
    expect(primary.filter((m) => m === 'balancer worker exited')).toHaveLength(2);
    expect(primary.slice(-4)).toEqual(['balancer worker exited', 'balancer worker exited', 'balancer stopped', 'shutdown complete']);
    expect(entries.filter((e) => e.msg === 'balancer worker exited' && e.code !== 0)).toHaveLength(0);
    expect(entries.filter((e) => e.msg === 'balancer worker exited unexpectedly; forking it again')).toHaveLength(0);
  });
});

describe('balancer cluster mode and Ctrl-C', () => {
  it('when SIGINT reaches the whole process group with requests in flight, then each process drains once, every request completes and the primary exits 0', async () => {
    // Its own process group (detached), as a terminal's foreground job would be.
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/services/balancer/main.js')], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        BALANCER_WORKERS: '2',
        BALANCER_HOST: '127.0.0.1',
        BALANCER_PORT: '0',
        BALANCER_ADMIN_PORT: '0',
        UPSTREAMS: upstreams.map((u) => u.entry).join(','),
        DRAIN_DELAY_MS: '300',
      },
    });
    const pgid = child.pid as number;
    const entries: Record<string, unknown>[] = [];
    const stdout = createInterface({ input: child.stdout });
    stdout.on('line', (line) => {
      try {
        entries.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    });
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const stdoutClosed = once(stdout, 'close');
    try {
      const listening = await waitFor('balancer listening', () => entries.find((e) => e.msg === 'balancer listening'), 20_000);
      const url = `http://127.0.0.1:${String(listening.port)}`;
      const inFlight = Array.from({ length: 4 }, (_, i) => getOnNewConnection(`${url}/ctrl-c-${i}?delay=1500`, 15_000));
      await new Promise((r) => setTimeout(r, 400));
      process.kill(-pgid, 'SIGINT');
      expect((await Promise.all(inFlight)).map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expect(await exited).toEqual([0, null]);
      await stdoutClosed;
      const started = entries.filter((e) => e.msg === 'shutdown started');
      // The primary and both workers, once each, although each worker heard both the signal and the primary.
      expect(started).toHaveLength(3);
      expect(new Set(started.map((e) => e.pid)).size).toBe(3);
      expect(entries.filter((e) => e.msg === 'signal received while already shutting down; ignored')).toHaveLength(0);
      expect(entries.filter((e) => e.msg === 'balancer worker exited unexpectedly; forking it again')).toHaveLength(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-pgid, 'SIGKILL');
    }
  });
});

describe('balancer cluster mode configuration', () => {
  it.each(['0', 'lots', '65'])('when BALANCER_WORKERS=%s, then it exits 2 naming the variable and what is allowed', (value) => {
    const result = spawnSync(process.execPath, [resolve(REPO_ROOT, 'dist/services/balancer/main.js')], {
      env: { PATH: process.env.PATH ?? '', UPSTREAMS: 'http://127.0.0.1:1', BALANCER_WORKERS: value },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('BALANCER_WORKERS:');
    expect(result.stderr).toContain('auto or an integer 1..64');
  });
});
