import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { ChaosUpstream, startUpstreams, type UpstreamLauncher } from '../../helpers/chaos-upstream.js';
import { percentile, runKvLoad, type LoadResult } from '../../helpers/kv-load.js';

export const CHAOS_BALANCER_ENV: Record<string, string> = {
  CONNECT_TIMEOUT_MS: '500',
  PER_TRY_TIMEOUT_MS: '1000',
  TOTAL_TIMEOUT_MS: '5000',
  OUTLIER_CONSECUTIVE_FAILURES: '3',
  OUTLIER_BASE_EJECTION_MS: '2000',
  OUTLIER_MAX_EJECTION_MS: '4000',
  HEALTH_CHECK_ENABLED: 'true',
  HEALTH_CHECK_INTERVAL_MS: '250',
  HEALTH_CHECK_TIMEOUT_MS: '200',
  SLOW_START_MS: '1000',
  DRAIN_DELAY_MS: '200',
};

interface UpstreamRow {
  readonly endpoint: string;
  readonly state: string;
  readonly ejections: number;
}

export async function upstreamTable(balancer: BalancerHandle): Promise<UpstreamRow[]> {
  const res = await request(`${balancer.adminUrl}/admin/upstreams`);
  return ((await res.body.json()) as { upstreams: UpstreamRow[] }).upstreams;
}

/** Requests the balancer has answered from one endpoint, read from /metrics. */
export async function servedBy(balancer: BalancerHandle, endpoint: string): Promise<number> {
  const res = await request(`${balancer.adminUrl}/metrics`);
  const text = await res.body.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('balancer_requests_total{') && line.includes(`upstream="${endpoint}"`)) total += Number(line.split(' ').pop());
  }
  return total;
}

/** Tries to one endpoint that ended within 2.5 s, and all tries, from the balancer's try-duration histogram. */
async function tryBuckets(balancer: BalancerHandle, endpoint: string): Promise<{ upTo2_5s: number; total: number }> {
  const text = await (await request(`${balancer.adminUrl}/metrics`)).body.text();
  const bucket = (le: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`balancer_upstream_try_duration_seconds_bucket{le="${le}",upstream="${endpoint}"}`));
    return Number(line?.split(' ').pop() ?? Number.NaN);
  };
  return { upTo2_5s: bucket('2.5'), total: bucket('+Inf') };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** With BALANCER_TEST_REPORT=1, prints what each scenario measured (for benchmarks and reports). */
function report(scenario: string, result: LoadResult): void {
  if (process.env.BALANCER_TEST_REPORT !== '1') return;
  const line = { scenario, requests: result.total, failures: result.failures.length, p50: percentile(result.latenciesMs, 50), p99: percentile(result.latenciesMs, 99), max: percentile(result.latenciesMs, 100) };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** A summary that, when something failed, carries the balancer's last warnings to explain it. */
function describeFailures(result: LoadResult, balancer?: BalancerHandle): string {
  const summary = `${result.failures.length} of ${result.total} failed: ${JSON.stringify(result.failures.slice(0, 5))}`;
  if (result.failures.length === 0 || balancer === undefined) return summary;
  const warnings = balancer.process.lines.filter((l) => l.includes('"level":40') || l.includes('"level":50')).slice(-20);
  return `${summary}\nbalancer warnings:\n${warnings.join('\n')}`;
}

export interface ChaosTarget {
  /** Called once before the scenarios; returns how to start one upstream. */
  readonly launcher: () => Promise<UpstreamLauncher>;
  readonly teardown?: () => Promise<void>;
  /** Concurrency of the mixed GET/PUT load. */
  readonly concurrency?: number;
}

/**
 * The chaos scenarios of issue 3, written once against the ChaosUpstream
 * abstraction so they run against the stand-in upstream and real workers.
 */
export function describeChaos(title: string, target: ChaosTarget): void {
  describe(title, () => {
    let launch: UpstreamLauncher;
    let upstreams: ChaosUpstream[] = [];
    let balancer: BalancerHandle | undefined;
    const concurrency = target.concurrency ?? 8;

    beforeAll(async () => {
      launch = await target.launcher();
    }, 120_000);
    afterAll(async () => {
      await target.teardown?.();
    });
    beforeEach(async () => {
      upstreams = await startUpstreams(3, launch);
      balancer = await startBalancer(
        upstreams.map((u) => u.entry),
        CHAOS_BALANCER_ENV,
      );
    }, 60_000);
    afterEach(async () => {
      await balancer?.process.stop();
      await Promise.all(upstreams.map((u) => u.stop()));
      balancer = undefined;
      upstreams = [];
    });
    const lb = (): BalancerHandle => {
      if (!balancer) throw new Error('balancer not started');
      return balancer;
    };

    it('when one upstream is SIGKILLed under a mixed GET/PUT load (and later replaced), then clients see zero errors', async () => {
      const stop = new AbortController();
      const load = runKvLoad(lb().url, { concurrency, maxRequests: 20_000, maxDurationMs: 15_000, stop: stop.signal, prefix: 'kill' });
      await sleep(1_000);
      const victim = upstreams[1] as ChaosUpstream;
      const killedAt = Date.now();
      victim.signal('SIGKILL');
      await sleep(1_500);
      await victim.restart();
      const restartedAt = Date.now();
      await sleep(1_000);
      stop.abort();
      const result = await load;
      report(`${title}: SIGKILL`, result);
      expect(describeFailures(result, lb())).toBe(describeFailures({ ...result, failures: [] }));
      // The load really ran before, across and after the fault (counts vary with machine load).
      expect(result.okAt.filter((t) => t < killedAt).length).toBeGreaterThan(2);
      expect(result.okAt.filter((t) => t > killedAt && t < restartedAt).length).toBeGreaterThan(2);
      expect(result.okAt.filter((t) => t > restartedAt).length).toBeGreaterThan(2);
    });

    it('when every upstream is restarted one by one with SIGTERM under load, then clients see zero errors', async () => {
      const stop = new AbortController();
      const load = runKvLoad(lb().url, { concurrency, maxRequests: 30_000, maxDurationMs: 30_000, stop: stop.signal, prefix: 'roll' });
      await sleep(500);
      const rollStartedAt = Date.now();
      for (const upstream of upstreams) {
        upstream.signal('SIGTERM');
        await upstream.restart();
        await sleep(700);
      }
      stop.abort();
      const result = await load;
      report(`${title}: rolling SIGTERM`, result);
      expect(describeFailures(result, lb())).toBe(describeFailures({ ...result, failures: [] }));
      expect(result.okAt.filter((t) => t > rollStartedAt).length).toBeGreaterThan(30);
    });

    it('when an upstream is paused with SIGSTOP, then requests are routed around within the per-try timeout, it is ejected, and it is taken back after SIGCONT', async () => {
      const paused = upstreams[0] as ChaosUpstream;
      const endpoint = `127.0.0.1:${paused.port}`;
      const stop = new AbortController();
      const load = runKvLoad(lb().url, { concurrency: 4, maxRequests: 20_000, maxDurationMs: 20_000, stop: stop.signal, prefix: 'stop' });
      await sleep(500);
      paused.signal('SIGSTOP');
      await waitFor(async () => (await upstreamTable(lb())).some((u) => u.endpoint === endpoint && u.state !== 'healthy' && u.state !== 'slow_start'), 5_000, 'the paused endpoint to leave rotation');
      const rows = await upstreamTable(lb());
      paused.signal('SIGCONT');
      const before = await servedBy(lb(), endpoint);
      await waitFor(async () => (await servedBy(lb(), endpoint)) > before + 5, 10_000, 'traffic to return to the continued endpoint').catch(async (err: unknown) => {
        const warnings = lb().process.lines.filter((l) => l.includes('"level":40')).slice(-10);
        throw new Error(`${(err as Error).message}\ntable: ${JSON.stringify(await upstreamTable(lb()))}\nwarnings:\n${warnings.join('\n')}`);
      });
      stop.abort();
      const result = await load;
      report(`${title}: SIGSTOP`, result);
      expect(describeFailures(result, lb())).toBe(describeFailures({ ...result, failures: [] }));
      // Per-try timeout 1 s: the balancer never waited on the paused endpoint
      // much longer than that (its own try histogram, free of client-side
      // scheduling noise on a busy machine) ...
      const tries = await tryBuckets(lb(), endpoint);
      expect(tries.total).toBeGreaterThan(0);
      expect(tries.upTo2_5s).toBe(tries.total);
      // ... and no client waited anywhere near the 5 s total deadline.
      expect(Math.max(...result.latenciesMs)).toBeLessThan(5_000);
      expect(rows.find((u) => u.endpoint === endpoint)?.state).toMatch(/ejected|unhealthy/);
    });

    it('when every upstream is down, then requests get a fast 503 with a reason, not a hang', async () => {
      for (const upstream of upstreams) upstream.signal('SIGKILL');
      await Promise.all(upstreams.map((u) => u.process.waitForExit(5_000)));
      const timings: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const res = await request(`${lb().url}/v1/kv/down-${i}`);
        const body = (await res.body.json()) as { error: { code: string } };
        timings.push(performance.now() - started);
        expect(res.statusCode).toBe(503);
        expect(res.headers['x-flotilla-balancer-error']).toMatch(/^LB_ERR_(UPSTREAM_UNAVAILABLE|NO_ENDPOINTS)$/);
        expect(body.error.code).toBe(res.headers['x-flotilla-balancer-error']);
        expect(res.headers['retry-after']).toBeDefined();
      }
      if (process.env.BALANCER_TEST_REPORT === '1') process.stdout.write(`${JSON.stringify({ scenario: `${title}: all down`, p50: percentile(timings, 50), max: percentile(timings, 100) })}\n`);
      // Refused connections fail at once; a hang would last the per-try
      // timeout (1 s) or the deadline (5 s). Bounds leave room for a busy machine.
      expect(percentile(timings, 50)).toBeLessThan(250);
      expect(percentile(timings, 100)).toBeLessThan(1_000);
    });
  });
}
