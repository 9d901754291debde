import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { balancerAdminUrls, BALANCER_PODS, clusterEnv, clusterLogsDir, eventually, isReady, kubectlOk, pods, readyPods, readyWorkerEndpoints, upstreams, WORKER_PODS, type Pod } from './cluster.js';
import { collectBalancerEvidence, describeEvidence } from './balancer-evidence.js';
import { killLoads, recordFigures, startLoad, type LoadReport } from './load.js';
import { nodeProcessOf, processState } from './node-processes.js';
import { prometheusBinary, startPrometheus, type RunningPrometheus } from './prometheus.js';

/**
 * Failover on the real cluster, under load through the balancer's Service:
 * pods deleted, containers killed and hung from the node, scaling and
 * rollouts. Each scenario runs a bounded `flotilla load --check` across the
 * disruption and its recovery, and asks for zero client errors and intact
 * guarantees; each records its figures (tests/cluster/load.ts).
 */

const env = clusterEnv();
const WORKER = WORKER_PODS;
const BALANCER = BALANCER_PODS;
/** Load before the disruption (warm connections and tables) and after the recovery (traffic on the recovered cluster). */
const WARM_MS = 5_000;
const TAIL_MS = 5_000;
/** An upper bound on each load; scenarios end theirs after recovery plus TAIL_MS. */
const LOAD_BOUND_S = 300;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function restartCount(pod: Pod, container: string): number {
  return pod.status.containerStatuses?.find((s) => s.name === container)?.restartCount ?? 0;
}

/** Until kubelet has restarted the pod's worker container (restartCount past `before`), and with `ready` the pod is Ready again. */
async function restarted(pod: Pod, before: number, options: { ready: boolean; timeoutMs: number }): Promise<void> {
  await eventually(
    options.ready ? `${pod.metadata.name} restarted and Ready again` : `kubelet restarting ${pod.metadata.name}`,
    () => {
      const now = pods(env, WORKER).find((p) => p.metadata.name === pod.metadata.name);
      return now !== undefined && restartCount(now, 'worker') > before && (!options.ready || isReady(now)) ? true : undefined;
    },
    options.timeoutMs,
    250,
  );
}

/** Requests the worker served on its data port, from its own /metrics. */
async function servedRequests(podIp: string): Promise<number> {
  const res = await fetch(`http://${podIp}:9090/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('http_request_duration_seconds_count{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** Until every ready balancer lists exactly these endpoints as healthy (an empty table is never "followed"). */
async function tablesFollow(what: string, endpoints: () => string[], timeoutMs: number): Promise<number> {
  return eventually(
    what,
    async () => {
      const expected = endpoints().sort();
      if (expected.length === 0) return undefined;
      for (const admin of balancerAdminUrls(env)) {
        const healthy = (await upstreams(admin)).filter((u) => u.ready && u.state === 'healthy').map((u) => u.endpoint);
        if (JSON.stringify(healthy.sort()) !== JSON.stringify(expected)) return undefined;
      }
      return Date.now();
    },
    timeoutMs,
    250,
  );
}

/** The requests every balancer has in flight to `endpoint`, summed. */
async function heldBy(endpoint: string): Promise<number> {
  let held = 0;
  for (const admin of balancerAdminUrls(env)) held += (await upstreams(admin)).find((u) => u.endpoint === endpoint)?.inFlight ?? 0;
  return held;
}

function workerEndpoints(): string[] {
  return [...readyWorkerEndpoints(env).keys()];
}

function expectGuarantees(report: LoadReport): void {
  expect(report.check).toMatchObject({ passed: true, lostWrites: 0, lostIncrements: 0, duplicateIncrements: 0, staleReads: 0, replayMismatches: 0 });
  expect(report.check.ackedWrites).toBeGreaterThan(0);
}

function expectNoClientErrors(report: LoadReport): void {
  expect([report.requests.errors, report.errors]).toEqual([0, {}]);
}

afterEach(() => killLoads());

/**
 * The scenario's load through the balancer's Service. Its finish also keeps
 * what the balancers logged meanwhile (warnings, 5xx access lines) in
 * logs/balancers-scenario-<id>.log and prints their count, so a run with
 * client errors says why after later scenarios have replaced the pods.
 * (Scenario 6 replaces the balancers themselves: only the new pods' lines remain.)
 */
function startScenarioLoad(id: string): { finish(): Promise<LoadReport> } {
  const startedAt = new Date();
  const load = startLoad(env.BALANCER_URL, { durationS: LOAD_BOUND_S });
  return {
    async finish(): Promise<LoadReport> {
      const { report } = await load.finishAfter(TAIL_MS);
      const evidence = collectBalancerEvidence(env, startedAt, `balancers-scenario-${id}.log`);
      process.stdout.write(`balancers over scenario ${id}, ${describeEvidence(evidence)}\n`);
      return report;
    },
  };
}

/** Scrapes every pod all along, so that scenario 8 can ask it about scenario 3. */
let prometheus: RunningPrometheus | undefined;
/** Which endpoint scenario 3 hung, when, and when the worker was back. */
const hung: { endpoint?: string; from?: Date; to?: Date } = {};

afterAll(async () => {
  await prometheus?.stop();
});

beforeAll(async () => {
  const file = join(clusterLogsDir(), 'failover-figures.md');
  writeFileSync(file, '| scenario | requests | client errors | error window | recovery |\n| --- | --- | --- | --- | --- |\n');
  // The first run builds Prometheus from the Go module proxy (a few minutes, cached after).
  prometheus = await startPrometheus(env, await prometheusBinary());
}, 20 * 60_000);

describe('when a worker pod is deleted with kubectl under load', () => {
  test('then no client sees an error, and the ReplicaSet replacement becomes Ready and gets traffic', async () => {
    const before = new Set(readyPods(env, WORKER).map((pod) => pod.metadata.name));
    expect(before.size).toBe(3);
    const victim = [...before][0] ?? '';
    const load = startScenarioLoad('1');
    await new Promise((r) => setTimeout(r, WARM_MS));
    const deletedAt = Date.now();
    kubectlOk(env, ['-n', env.NAMESPACE, 'delete', 'pod', victim, '--wait=false']);
    const replacement = await eventually('a replacement worker pod Ready', () => readyPods(env, WORKER).find((pod) => !before.has(pod.metadata.name)), 90_000, 250);
    const readyAt = Date.now();
    const ip = replacement.status.podIP ?? '';
    await eventually('the replacement serving requests', async () => ((await servedRequests(ip)) > 0 ? true : undefined), 60_000, 250);
    const servingAt = Date.now();
    const report = await load.finish();
    expectNoClientErrors(report);
    expectGuarantees(report);
    recordFigures('1. kubectl delete pod (worker)', report, `replacement Ready ${seconds(readyAt - deletedAt)}, serving ${seconds(servingAt - deletedAt)} after the delete`);
  });
});

describe("when a worker container's node process is SIGKILLed from the node under load", () => {
  test('then kubelet restarts the container (restartCount grows) and no client sees an error', async () => {
    const [pod] = readyPods(env, WORKER);
    if (pod === undefined) throw new Error('no ready worker');
    const restartsBefore = restartCount(pod, 'worker');
    const pid = nodeProcessOf(pod, 'worker');
    const load = startScenarioLoad('2');
    await new Promise((r) => setTimeout(r, WARM_MS));
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await restarted(pod, restartsBefore, { ready: true, timeoutMs: 90_000 });
    const readyAt = Date.now();
    await tablesFollow('every balancer listing all three workers healthy again', workerEndpoints, 60_000);
    const report = await load.finish();
    expectNoClientErrors(report);
    expectGuarantees(report);
    recordFigures('2. SIGKILL of a worker node process (by PID)', report, `restarted by kubelet and Ready ${seconds(readyAt - killedAt)} after the kill`);
  });
});

describe("when a worker's node process is hung (SIGSTOP, left stopped) under load", () => {
  test('then the balancer routes around it, the liveness probe has kubelet restart it, it serves again, and no client sees an error', async () => {
    const [pod] = readyPods(env, WORKER);
    if (pod === undefined) throw new Error('no ready worker');
    const restartsBefore = restartCount(pod, 'worker');
    const pid = nodeProcessOf(pod, 'worker');
    const endpoint = `${pod.status.podIP ?? ''}:8080`;
    // The victim takes its full share when it hangs (not in slow start after an earlier scenario).
    await tablesFollow('every balancer listing all three workers healthy', workerEndpoints, 60_000);
    const load = startScenarioLoad('3');
    await new Promise((r) => setTimeout(r, WARM_MS));
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    try {
      // The signal is delivered asynchronously.
      await eventually('the node process stopped', () => (processState(pid) === 'T' ? true : undefined), 2_000, 10);
      // What the balancers had sent it when it stopped: these (and any sent until it is out of rotation)
      // are the tries that time out and are retried elsewhere.
      const held = await heldBy(endpoint);
      await eventually(
        'every balancer taking the hung worker out of rotation',
        async () => {
          for (const admin of balancerAdminUrls(env)) {
            const entry = (await upstreams(admin)).find((u) => u.endpoint === endpoint);
            if (entry !== undefined && entry.ready && entry.state === 'healthy') return undefined;
          }
          return true;
        },
        30_000,
        100,
      );
      const avoidedAt = Date.now();
      await restarted(pod, restartsBefore, { ready: false, timeoutMs: 150_000 });
      const restartedAt = Date.now();
      await tablesFollow('every balancer listing the restarted worker healthy again', workerEndpoints, 90_000);
      const backAt = Date.now();
      const report = await load.finish();
      hung.endpoint = endpoint;
      hung.from = new Date(stoppedAt);
      hung.to = new Date(Date.now());
      expectNoClientErrors(report);
      expectGuarantees(report);
      recordFigures('3. worker hung (SIGSTOP, left stopped)', report, `held ${held} requests when stopped, out of rotation ${seconds(avoidedAt - stoppedAt)}, restarted by the liveness probe ${seconds(restartedAt - stoppedAt)}, back in rotation ${seconds(backAt - stoppedAt)} after the stop`);
    } finally {
      // If kubelet has not killed it, leave no stopped process behind.
      if (processState(pid) === 'T') process.kill(pid, 'SIGCONT');
    }
  });
});

function scaleWorkers(replicas: number): void {
  kubectlOk(env, ['-n', env.NAMESPACE, 'scale', 'deployment/worker', `--replicas=${replicas}`]);
}

/** Until the Deployment has exactly `count` pods, all Ready (terminating ones gone), and every balancer lists exactly them. */
async function settledAt(count: number, timeoutMs: number): Promise<number> {
  await eventually(`${count} worker pods, all Ready`, () => {
    const all = pods(env, WORKER);
    return all.length === count && all.every(isReady) ? true : undefined;
  }, timeoutMs, 500);
  return tablesFollow(`every balancer listing the ${count} workers`, workerEndpoints, 60_000);
}

describe('when the workers are scaled to 6 and then to 2 under load', () => {
  afterAll(async () => {
    scaleWorkers(3);
    await settledAt(3, 120_000);
  });

  test("then no client sees an error, and every balancer's table follows both", async () => {
    const load = startScenarioLoad('4');
    await new Promise((r) => setTimeout(r, WARM_MS));
    const upStarted = Date.now();
    scaleWorkers(6);
    const upAt = await settledAt(6, 120_000);
    const downStarted = Date.now();
    scaleWorkers(2);
    const downAt = await settledAt(2, 120_000);
    const report = await load.finish();
    expectNoClientErrors(report);
    expectGuarantees(report);
    recordFigures('4. kubectl scale worker 3 → 6 → 2', report, `tables at 6 ${seconds(upAt - upStarted)}, at 2 ${seconds(downAt - downStarted)} after each scale`);
  });
});

/** Until the rollout of a Deployment is complete (kubectl rollout status), bounded. */
function rolloutStatus(deployment: string, timeoutS: number): void {
  kubectlOk(env, ['-n', env.NAMESPACE, 'rollout', 'status', `deployment/${deployment}`, `--timeout=${timeoutS}s`], { timeoutMs: (timeoutS + 10) * 1_000 });
}

describe.each([
  { deployment: 'worker', selector: WORKER, count: 3, scenario: '5. kubectl rollout restart deploy/worker' },
  { deployment: 'balancer', selector: BALANCER, count: 2, scenario: '6. kubectl rollout restart deploy/balancer (load through its Service)' },
])('when deploy/$deployment is restarted with kubectl rollout restart under load', ({ deployment, selector, count, scenario }) => {
  test('then no client sees an error, and every pod is replaced', async () => {
    const before = new Set(pods(env, selector).map((pod) => pod.metadata.name));
    const load = startScenarioLoad(scenario.split('.')[0] ?? scenario);
    await new Promise((r) => setTimeout(r, WARM_MS));
    const started = Date.now();
    kubectlOk(env, ['-n', env.NAMESPACE, 'rollout', 'restart', `deployment/${deployment}`]);
    rolloutStatus(deployment, 240);
    await eventually(`only new ${deployment} pods, all Ready`, () => {
      const all = pods(env, selector);
      return all.length === count && all.every((pod) => isReady(pod) && !before.has(pod.metadata.name)) ? true : undefined;
    }, 120_000, 500);
    const doneAt = Date.now();
    await tablesFollow('every balancer listing the workers', workerEndpoints, 60_000);
    const report = await load.finish();
    expectNoClientErrors(report);
    expectGuarantees(report);
    recordFigures(scenario, report, `rollout complete, old pods gone ${seconds(doneAt - started)} after the restart`);
  });
});

interface Claim {
  readonly metadata: { readonly uid: string };
  readonly spec: { readonly volumeName: string };
}

describe('when the Postgres pod is deleted with kubectl under load', () => {
  test('then the StatefulSet brings it back on the same volume, no acknowledged write is lost, the workers recover without a restart, and the window shows only clear 503s', async () => {
    const claimBefore = JSON.parse(kubectlOk(env, ['-n', env.NAMESPACE, 'get', 'pvc', 'data-postgres-0', '-o', 'json'])) as Claim;
    const [postgresBefore] = pods(env, 'app.kubernetes.io/name=postgres');
    const workersBefore = new Map(readyPods(env, WORKER).map((pod) => [pod.metadata.name, restartCount(pod, 'worker')]));
    const [probeTarget] = readyPods(env, WORKER);
    const load = startScenarioLoad('7');
    await new Promise((r) => setTimeout(r, WARM_MS));
    const deletedAt = Date.now();
    kubectlOk(env, ['-n', env.NAMESPACE, 'delete', 'pod', 'postgres-0', '--wait=false']);

    // A worker's readiness says so while Postgres is away, and answers at once.
    const readiness = await eventually(
      "a worker's /readyz answering 503 within a second",
      async () => {
        const started = Date.now();
        const res = await fetch(`http://${probeTarget?.status.podIP ?? ''}:9090/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.text();
        return res.status === 503 ? Date.now() - started : undefined;
      },
      60_000,
      200,
    );
    expect(readiness).toBeLessThan(1_000);

    const postgres = await eventually(
      'a new postgres-0 Ready',
      () => pods(env, 'app.kubernetes.io/name=postgres').find((pod) => pod.metadata.uid !== postgresBefore?.metadata.uid && isReady(pod)),
      120_000,
      250,
    );
    const postgresReadyAt = Date.now();
    await tablesFollow('every balancer listing the three workers again', workerEndpoints, 120_000);
    const workersBackAt = Date.now();
    const report = await load.finish();

    expectGuarantees(report);
    // Errors only as 503 (the database is away): no timeouts, resets or other statuses.
    expect(Object.keys(report.errors).filter((kind) => kind !== 'http_503')).toEqual([]);
    const claimAfter = JSON.parse(kubectlOk(env, ['-n', env.NAMESPACE, 'get', 'pvc', 'data-postgres-0', '-o', 'json'])) as Claim;
    expect([claimAfter.metadata.uid, claimAfter.spec.volumeName]).toEqual([claimBefore.metadata.uid, claimBefore.spec.volumeName]);
    expect(postgres.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('data-postgres-0');
    for (const pod of pods(env, WORKER)) expect([pod.metadata.name, restartCount(pod, 'worker')]).toEqual([pod.metadata.name, workersBefore.get(pod.metadata.name)]);
    recordFigures('7. kubectl delete pod postgres-0', report, `postgres-0 Ready ${seconds(postgresReadyAt - deletedAt)}, every worker back in rotation ${seconds(workersBackAt - deletedAt)} after the delete (no worker restarted)`);
  });
});

describe('when a real Prometheus has scraped the namespace all along (kubernetes_sd_configs, prometheus.io annotations)', () => {
  test('then every balancer and worker pod is a healthy target, and it saw the retries of scenario 3 and its hung worker out of rotation', async () => {
    if (prometheus === undefined || hung.endpoint === undefined || hung.from === undefined || hung.to === undefined) {
      throw new Error('prometheus or scenario 3 did not run');
    }
    const expected = [...readyPods(env, BALANCER), ...readyPods(env, WORKER)].map((pod) => pod.metadata.name).sort();
    expect(expected.length).toBe(5);
    const scraped = await eventually(
      'every current pod scraped and up',
      async () => {
        const up = new Map((await prometheus?.query('up{job="kubernetes-pods"}'))?.map((r) => [r.metric.pod ?? '', r.value[1]]));
        return expected.every((pod) => up.get(pod) === '1') ? up : undefined;
      },
      30_000,
      1_000,
    );
    // Postgres has no prometheus.io annotations, so it is not a target.
    expect([...scraped.keys()].filter((pod) => pod.startsWith('postgres'))).toEqual([]);

    // Over the window of scenario 3, as Prometheus stored it then.
    const range = `${Math.ceil((hung.to.getTime() - hung.from.getTime()) / 1000) + 10}s`;
    const at = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => (await prometheus?.query(promql, hung.to)) ?? [];
    // The counter's series appear with the first retry (prom-client makes a labelled series on its first
    // increment), which increase() cannot see; so: the sum at the end less the sum before, absent as 0.
    const total = async (metric: string, time: Date): Promise<number> => Number((await prometheus?.query(`sum(${metric}) or vector(0)`, time))?.[0]?.value[1] ?? 0);
    const { from, to } = hung;
    const over = async (metric: string): Promise<number> => (await total(metric, to)) - (await total(metric, from));
    const retries = await over('balancer_retries_total');
    // Retries refused for want of budget: each is a client error where a retry was allowed.
    const refused = await over('balancer_retry_budget_exhausted_total');
    const ejections = Number((await at(`sum(increase(balancer_ejections_total{upstream="${hung.endpoint}"}[${range}]))`))[0]?.value[1] ?? 0);
    // Each state the hung endpoint was in at some scrape, per balancer pod.
    const states = await at(`max_over_time(balancer_endpoint_state{upstream="${hung.endpoint}"}[${range}]) == 1`);
    const seen = [...new Set(states.map((r) => r.metric.state ?? ''))].sort();
    process.stdout.write(`prometheus, over scenario 3 (${range}): ${retries.toFixed(0)} retries, ${refused.toFixed(0)} refused by the retry budget, ${ejections.toFixed(0)} outlier ejections, states of ${hung.endpoint}: ${seen.join(', ')}\n`);
    expect(retries).toBeGreaterThan(0);
    // Out of rotation: not_ready once kubelet's readiness probe failed, or ejected / unhealthy if the balancer saw it first.
    expect(seen.some((state) => ['not_ready', 'ejected', 'unhealthy'].includes(state))).toBe(true);
    expect(seen).toContain('healthy');
  });
});
