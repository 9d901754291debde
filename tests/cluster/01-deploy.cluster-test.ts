import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../k8s-static/render.js';
import { clusterEnv, isReady, kubectlJson, kubectlOk, pods, type Pod } from './cluster.js';

/**
 * What `kubectl apply -k k8s/overlays/local-cluster` made on the real
 * cluster: pods started from the locally built images, probes passed, the
 * migrate initContainer ran, Postgres sits on its PersistentVolumeClaim and
 * Service names resolve through CoreDNS.
 */

const env = clusterEnv();
/**
 * From a pod's creation to its Ready condition. Measured 5–10 s here (the
 * images are local, Postgres starts in seconds); 37–39 s for the workers was
 * the symptom of a cached NXDOMAIN for the postgres Service (see
 * k8s/base/postgres/service.yaml), which this bound is tight enough to catch.
 */
const READY_BOUND_S = 30;
const EXPECTED = { balancer: 2, worker: 3, postgres: 1 } as const;

function readyAfterSeconds(pod: Pod): number {
  const ready = pod.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  if (ready === undefined) return Number.POSITIVE_INFINITY;
  return (Date.parse(ready.lastTransitionTime) - Date.parse(pod.metadata.creationTimestamp)) / 1000;
}

function byName(name: keyof typeof EXPECTED): Pod[] {
  return pods(env, `app.kubernetes.io/name=${name}`);
}

describe('when the local-cluster overlay has been applied with kubectl apply -k', () => {
  test(`then every pod is Ready, each within ${READY_BOUND_S} s of its creation`, () => {
    const rows: string[] = [];
    for (const [name, count] of Object.entries(EXPECTED) as [keyof typeof EXPECTED, number][]) {
      const list = byName(name);
      expect([name, list.length]).toEqual([name, count]);
      for (const pod of list) {
        expect([pod.metadata.name, isReady(pod)]).toEqual([pod.metadata.name, true]);
        const seconds = readyAfterSeconds(pod);
        rows.push(`${pod.metadata.name.padEnd(28)} Ready ${seconds.toFixed(0)} s after creation`);
        expect(seconds).toBeLessThanOrEqual(READY_BOUND_S);
      }
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  });

  test('then no container restarted: startup and liveness probes passed on the first start', () => {
    for (const name of Object.keys(EXPECTED) as (keyof typeof EXPECTED)[]) {
      for (const pod of byName(name)) {
        for (const status of [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])]) {
          expect([pod.metadata.name, status.name, status.restartCount]).toEqual([pod.metadata.name, status.name, 0]);
        }
      }
    }
  });

  test('then each worker ran its migrate initContainer to completion, and every migration is recorded in Postgres', () => {
    for (const pod of byName('worker')) {
      const migrate = pod.status.initContainerStatuses?.find((s) => s.name === 'migrate');
      expect([pod.metadata.name, migrate?.state.terminated?.exitCode, migrate?.state.terminated?.reason]).toEqual([pod.metadata.name, 0, 'Completed']);
    }
    const applied = kubectlOk(env, ['-n', env.NAMESPACE, 'exec', 'postgres-0', '--', 'psql', '-U', 'flotilla', '-d', 'flotilla', '-At', '-c', 'SELECT name FROM pgmigrations ORDER BY id'])
      .trim()
      .split('\n');
    const shipped = readdirSync(join(REPO_ROOT, 'services/worker/migrations'))
      .filter((file) => file.endsWith('.sql'))
      .map((file) => file.replace(/\.sql$/, ''))
      .sort();
    expect(applied).toEqual(shipped);
  });

  test('then Postgres keeps its data on its PersistentVolumeClaim, a local volume of the cluster', () => {
    const [postgres] = byName('postgres');
    const claim = postgres?.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName;
    expect(claim).toBe('data-postgres-0');
    const pvc = kubectlJson<{ spec: { volumeName: string; storageClassName: string }; status: { phase: string } }>(env, [
      '-n',
      env.NAMESPACE,
      'get',
      'pvc',
      claim ?? '',
    ]);
    expect(pvc.status.phase).toBe('Bound');
    expect(pvc.spec.storageClassName).toBe('flotilla-local');
    const pv = kubectlJson<{ spec: { local?: { path: string } } }>(env, ['get', 'pv', pvc.spec.volumeName]);
    const path = pv.spec.local?.path ?? '';
    // PGDATA is a subfolder of the volume (k8s/base/kustomization.yaml); the stand-in image is PostgreSQL 17.
    expect(readFileSync(join(path, 'pgdata', 'PG_VERSION'), 'utf8').trim()).toBe('17');
  });

  test('then Service names resolve inside pods through CoreDNS (headless to the pod IP, ClusterIP to the Service)', () => {
    const [worker] = byName('worker');
    const [postgres] = byName('postgres');
    const balancerIp = kubectlOk(env, ['-n', env.NAMESPACE, 'get', 'service', 'balancer', '-o', 'jsonpath={.spec.clusterIP}']);
    const lookup = (name: string): string =>
      kubectlOk(env, [
        '-n',
        env.NAMESPACE,
        'exec',
        worker?.metadata.name ?? '',
        '-c',
        'worker',
        '--',
        'node',
        '-e',
        `require('node:dns').promises.lookup(${JSON.stringify(name)}).then((a) => console.log(a.address))`,
      ]).trim();
    expect(lookup(`postgres.${env.NAMESPACE}.svc.cluster.local`)).toBe(postgres?.status.podIP);
    expect(lookup('balancer')).toBe(balancerIp);
  });
});
