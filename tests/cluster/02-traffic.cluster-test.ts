import { randomUUID } from 'node:crypto';
import { apiCall, balancerAdminUrls, clusterEnv, eventually, kubectlOk, pods, readyWorkerEndpoints, upstreams, WORKER_PODS, type Upstream } from './cluster.js';

/**
 * Traffic on the real cluster: through the balancer's Service (a ClusterIP
 * that kube-proxy's iptables rules send to a balancer pod), to workers the
 * balancer found through EndpointSlices with its own service account.
 */

const env = clusterEnv();
/**
 * How long after kubectl sees the pods Ready every balancer may take to list
 * them: the EndpointSlice controller, the watch and the balancer's table
 * together; measured at about a second here.
 */
const FOLLOW_BOUND_MS = 10_000;
/**
 * The balancer's SLOW_START_MS default (k8s/base sets none): a pod that has
 * just become ready is listed as `slow_start`, its share ramping up, for
 * this long before it is `healthy`.
 */
const SLOW_START_MS = 10_000;

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  return apiCall(env, method, path, body, headers);
}

function readyUpstreams(list: readonly Upstream[]): Upstream[] {
  return list.filter((u) => u.ready);
}

function scaleWorkers(replicas: number): void {
  kubectlOk(env, ['-n', env.NAMESPACE, 'scale', 'deployment/worker', `--replicas=${replicas}`]);
}

describe('when a client calls the KV API through the balancer Service', () => {
  test('then the Service is a ClusterIP that kube-proxy routes, and put, get and increment answer', async () => {
    const clusterIp = kubectlOk(env, ['-n', env.NAMESPACE, 'get', 'service', 'balancer', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(new URL(env.BALANCER_URL).hostname).toBe(clusterIp);

    const key = `cluster-${randomUUID()}`;
    const put = await call('PUT', `/v1/kv/${key}`, { value: { from: 'the real cluster' } });
    expect(put.status).toBe(201);
    const get = await call('GET', `/v1/kv/${key}`);
    expect(get).toMatchObject({ status: 200, json: { key, value: { from: 'the real cluster' } } });

    const counter = `cluster-${randomUUID()}`;
    const idempotencyKey = randomUUID();
    const first = await call('POST', `/v1/counters/${counter}/increment`, { by: 2 }, { 'idempotency-key': idempotencyKey });
    expect(first).toMatchObject({ status: 200, json: { name: counter, value: 2 } });
    // The same key again is a replay of the first answer, not a second increment.
    const replay = await call('POST', `/v1/counters/${counter}/increment`, { by: 2 }, { 'idempotency-key': idempotencyKey });
    expect(replay).toEqual(first);
    expect(await call('GET', `/v1/counters/${counter}`)).toMatchObject({ status: 200, json: { name: counter, value: 2 } });
  });
});

describe('when each balancer pod is asked for its upstream table', () => {
  test('then it lists every worker pod by its pod IP and name, found through EndpointSlices', async () => {
    const expected = readyWorkerEndpoints(env);
    expect(expected.size).toBe(3);
    const admins = balancerAdminUrls(env);
    expect(admins).toHaveLength(2);
    for (const admin of admins) {
      const table = readyUpstreams(await upstreams(admin));
      expect(new Map(table.map((u) => [u.endpoint, u.name]))).toEqual(expected);
      // A pod Ready only seconds ago is still in slow start; once no pod is,
      // every listed pod must be healthy (not ejected, not failing).
      const settled = await eventually(
        `no upstream of ${admin} in slow start`,
        async () => {
          const now = readyUpstreams(await upstreams(admin));
          return now.some((u) => u.state === 'slow_start') ? undefined : now;
        },
        SLOW_START_MS + FOLLOW_BOUND_MS,
      );
      expect(new Map(settled.map((u) => [u.endpoint, u.name]))).toEqual(expected);
      for (const upstream of settled) expect([upstream.endpoint, upstream.state]).toEqual([upstream.endpoint, 'healthy']);
    }
  });
});

describe('when the worker Deployment is scaled with kubectl', () => {
  afterAll(async () => {
    scaleWorkers(3);
    await eventually('3 worker pods again', () => (pods(env, WORKER_PODS).length === 3 ? true : undefined), 120_000, 1_000);
  });

  test('then every balancer lists 5 endpoints soon after the new pods are Ready, and 3 again after scaling back', async () => {
    const started = Date.now();
    scaleWorkers(5);
    const admins = balancerAdminUrls(env);
    /** Waits until every balancer lists exactly the ready worker pods, `count` of them; returns when the pods were Ready and when they were listed. */
    const follow = async (count: number): Promise<{ readyAt: number; listedAt: number }> => {
      let readyAt: number | undefined;
      const listedAt = await eventually(
        `every balancer listing exactly the ${count} ready worker pods`,
        async () => {
          const expected = readyWorkerEndpoints(env);
          if (expected.size !== count) return undefined;
          readyAt ??= Date.now();
          for (const admin of admins) {
            const listed = readyUpstreams(await upstreams(admin)).map((u) => u.endpoint).sort();
            if (JSON.stringify(listed) !== JSON.stringify([...expected.keys()].sort())) return undefined;
          }
          return Date.now();
        },
        120_000,
        200,
      );
      return { readyAt: readyAt ?? listedAt, listedAt };
    };
    const up = await follow(5);
    process.stdout.write(
      `scale 3 -> 5: 5 pods Ready ${((up.readyAt - started) / 1000).toFixed(1)} s after kubectl scale, listed by every balancer ${((up.listedAt - up.readyAt) / 1000).toFixed(1)} s later\n`,
    );
    expect(up.listedAt - up.readyAt).toBeLessThanOrEqual(FOLLOW_BOUND_MS);

    const downStarted = Date.now();
    scaleWorkers(3);
    const down = await follow(3);
    process.stdout.write(`scale 5 -> 3: every balancer lists the 3 ready pods ${((down.listedAt - downStarted) / 1000).toFixed(1)} s after kubectl scale\n`);
    expect(down.listedAt - down.readyAt).toBeLessThanOrEqual(FOLLOW_BOUND_MS);
    // The pods that go are removed from the tables altogether once they have terminated.
    await eventually(
      'the terminated workers gone from every table',
      async () => {
        for (const admin of admins) if ((await upstreams(admin)).length !== 3) return undefined;
        return true;
      },
      120_000,
      500,
    );
  });
});
