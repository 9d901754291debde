import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { startUpstreams, type ChaosUpstream } from '../../helpers/chaos-upstream.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { startWorker } from '../../helpers/worker-process.js';
import { buildChecker, checkLinearizable } from '../../linearizability/checker.js';
import { runRegisterLoad } from '../../linearizability/history.js';

let postgres: TestPostgres;
let workers: ChaosUpstream[];
let balancer: BalancerHandle;

const LOAD_MS = 20_000;
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

/**
 * Every 1.2 s one worker, round-robin, is SIGKILLed (and started again on its
 * ports, as kubelet would, while the rounds go on) or SIGSTOPped for longer
 * than a try may take and then continued, until the load ends.
 */
async function chaos(until: number): Promise<{ kills: number; pauses: number }> {
  let kills = 0;
  let pauses = 0;
  const restarts: Promise<void>[] = [];
  for (let round = 0; Date.now() < until - 2_000; round++) {
    await sleep(1_200);
    const victim = workers[round % workers.length] as ChaosUpstream;
    if (!victim.process.running) continue;
    if (round % 2 === 0) {
      victim.signal('SIGKILL');
      kills++;
      restarts.push(victim.restart());
    } else {
      victim.signal('SIGSTOP');
      pauses++;
      await sleep(1_500);
      victim.signal('SIGCONT');
    }
  }
  await Promise.all(restarts);
  return { kills, pauses };
}

describe('reads, writes, conditional writes and deletes on shared keys through the balancer, while workers are killed and paused', () => {
  test('then the history is linearizable (porcupine, versioned register per key)', async () => {
    const until = Date.now() + LOAD_MS;
    const [load, faults] = await Promise.all([
      runRegisterLoad({ url: balancer.url, clients: 12, keys: ['k0', 'k1', 'k2'], durationMs: LOAD_MS, maxRequestsPerClient: 20_000, requestTimeoutMs: 10_000 }),
      chaos(until),
    ]);
    const report = await checkLinearizable(load.history);
    process.stdout.write(
      `linearizability: ${report.operations} requests (${report.unknown} with unknown outcome) on ${report.keys} keys, ` +
        `${faults.kills} workers killed, ${faults.pauses} paused: ${report.result}` +
        `${report.violations ? `\n${report.violations.join('\n')}\nvisualization: ${report.html}` : ''}\n`,
    );
    expect(load.unexpected).toEqual([]);
    expect(faults.kills).toBeGreaterThanOrEqual(4);
    expect(report.operations).toBeGreaterThan(2_000);
    expect(report.violations ?? []).toEqual([]);
    expect(report.result).toBe('ok');
  }, 240_000);
});
