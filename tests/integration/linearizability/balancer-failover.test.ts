import { answersOk } from '../../helpers/answers-ok.js';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { startUpstreams, type ChaosUpstream } from '../../helpers/chaos-upstream.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { startWorker } from '../../helpers/worker-process.js';
import { buildChecker, checkLinearizable } from '../../linearizability/checker.js';
import { runRegisterLoad } from '../../linearizability/history.js';

let postgres: TestPostgres;
let workers: ChaosUpstream[];
let balancer: BalancerHandle;

/** SIGKILLs, and as many SIGSTOPs. */
const FAULTS = 4;
const MAX_LOAD_MS = 90_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await buildChecker();
  postgres = await TestPostgres.start();
  const databaseUrl = await postgres.createDatabase('linearizability');
  workers = await startUpstreams(3, async (_name, port, adminPort) =>
    (await startWorker(databaseUrl, { PORT: String(port), ADMIN_PORT: String(adminPort) })).process,
  );
  balancer = await startBalancer(
    workers.map((w) => w.entry),
    {
      // Short tries, so that a paused worker makes the balancer try another
      // one while the first may still apply the request.
      CONNECT_TIMEOUT_MS: '500',
      PER_TRY_TIMEOUT_MS: '600',
      TOTAL_TIMEOUT_MS: '8000',
      HEALTH_CHECK_ENABLED: 'true',
      HEALTH_CHECK_INTERVAL_MS: '250',
      HEALTH_CHECK_TIMEOUT_MS: '200',
      OUTLIER_BASE_EJECTION_MS: '1000',
      SLOW_START_MS: '0',
      ACCESS_LOG: 'false',
    },
  );
}, 180_000);

afterAll(async () => {
  await balancer?.process.stop();
  await Promise.all((workers ?? []).map((w) => w.stop()));
  await postgres?.destroy();
});

/** Every worker runs and answers /readyz: the next fault may start. */
async function allReady(deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    const ready = await Promise.all(
      workers.map(async (w) => w.process.running && (await answersOk(`http://127.0.0.1:${w.adminPort}/readyz`, 500))),
    );
    if (ready.every(Boolean)) return true;
    await sleep(100);
  }
  return false;
}

/**
 * One fault at a time, as a PodDisruptionBudget would allow: once every
 * worker is ready, one of them, round-robin, is SIGKILLed (and started again
 * on its ports, as kubelet would) or SIGSTOPped for longer than a try may
 * take and then continued, alternately, until `planned` faults of each kind
 * ran or the deadline passed. A slow machine takes longer, never has more
 * workers down at once.
 */
async function chaos(planned: number, deadline: number): Promise<{ kills: number; pauses: number }> {
  let kills = 0;
  let pauses = 0;
  for (let round = 0; kills + pauses < 2 * planned; round++) {
    await sleep(500);
    if (!(await allReady(deadline))) break;
    const victim = workers[round % workers.length] as ChaosUpstream;
    if (round % 2 === 0) {
      victim.signal('SIGKILL');
      kills++;
      await victim.restart();
    } else {
      victim.signal('SIGSTOP');
      pauses++;
      await sleep(1_500);
      victim.signal('SIGCONT');
    }
  }
  return { kills, pauses };
}

describe('reads, writes, conditional writes and deletes on shared keys through the balancer, while workers are killed and paused', () => {
  test('then the history is linearizable (porcupine, versioned register per key)', async () => {
    // The load runs until the faults are over (and a second more), bounded.
    const stop = new AbortController();
    const loading = runRegisterLoad({ url: balancer.url, clients: 12, keys: ['k0', 'k1', 'k2'], durationMs: MAX_LOAD_MS, maxRequestsPerClient: 20_000, requestTimeoutMs: 10_000, signal: stop.signal });
    const faults = await chaos(FAULTS, Date.now() + MAX_LOAD_MS - 5_000);
    await sleep(1_000);
    stop.abort();
    const load = await loading;
    const report = await checkLinearizable(load.history);
    process.stdout.write(
      `linearizability: ${report.operations} requests (${report.unknown} with unknown outcome) on ${report.keys} keys, ` +
        `${faults.kills} workers killed, ${faults.pauses} paused: ${report.result}` +
        `${report.violations ? `\n${report.violations.join('\n')}\nvisualization: ${report.html}` : ''}\n`,
    );
    expect(load.unexpected).toEqual([]);
    expect(faults).toEqual({ kills: FAULTS, pauses: FAULTS });
    expect(report.operations).toBeGreaterThan(2_000);
    expect(report.violations ?? []).toEqual([]);
    expect(report.result).toBe('ok');
  }, 240_000);
});
