import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Deployment, V1HorizontalPodAutoscaler, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { parseBalancerConfig } from '../../services/balancer/config.js';
import { parseWorkerConfig } from '../../services/worker/config.js';
import { EnvReader, readDiscoveryConfig } from '../../services/shared/index.js';
import {
  allContainers,
  container,
  containerEnv,
  find,
  findAll,
  portNumber,
  renderOverlay,
  workload,
  workloads,
  type K8sObject,
  type Workload,
} from './render.js';

const OVERLAYS = [
  { overlay: 'dev', namespace: 'flotilla-dev' },
  { overlay: 'prod', namespace: 'flotilla' },
] as const;

/** Seconds a preStop `sleep N` waits. */
function preStopSleepSeconds(c: V1Container): number {
  const command = c.lifecycle?.preStop?.exec?.command ?? [];
  expect(command[0]).toBe('sleep');
  return Number(command[1]);
}

function httpProbe(c: V1Container, kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe'): { path?: string; port?: number } {
  const probe = c[kind]?.httpGet;
  return { path: probe?.path, port: portNumber(c, probe?.port) };
}

describe.each(OVERLAYS)('when the $overlay overlay is rendered with kubectl kustomize', ({ overlay, namespace }) => {
  let objects: K8sObject[];
  const fields = { 'metadata.namespace': namespace, 'metadata.name': `${overlay}-pod-0` };
  const secrets = { 'postgres-credentials/username': 'flotilla' };

  beforeAll(() => {
    objects = renderOverlay(overlay);
  });

  test('then every object lands in the overlay namespace, which enforces the restricted pod security standard', () => {
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) expect([o.kind, o.metadata.name, o.metadata.namespace]).toEqual([o.kind, o.metadata.name, namespace]);
    const ns = find(objects, 'Namespace', namespace);
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('then every pod runs as non-root with seccomp RuntimeDefault, and every container drops all capabilities on a read-only root', () => {
    const all = workloads(objects);
    expect(all.map((w) => w.name).sort()).toEqual(['balancer', 'postgres', 'worker']);
    for (const w of all) {
      const pod = w.template.spec;
      expect([w.name, pod?.securityContext?.runAsNonRoot, pod?.securityContext?.seccompProfile?.type]).toEqual([w.name, true, 'RuntimeDefault']);
      expect([w.name, pod?.hostNetwork ?? false, pod?.hostPID ?? false, (pod?.volumes ?? []).some((v) => v.hostPath)]).toEqual([w.name, false, false, false]);
      for (const c of allContainers(w)) {
        const sc = c.securityContext;
        expect([w.name, c.name, sc?.allowPrivilegeEscalation, sc?.readOnlyRootFilesystem, sc?.capabilities?.drop, sc?.privileged ?? false]).toEqual([
          w.name, c.name, false, true, ['ALL'], false,
        ]);
        // A read-only root still needs somewhere to write temporary files.
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect([c.name, pod?.volumes?.find((v) => v.name === tmp?.name)?.emptyDir !== undefined]).toEqual([c.name, true]);
      }
    }
  });

  test.each(['balancer', 'worker'])('then %s has liveness /livez, readiness /readyz and a startup probe on the admin port 9090, and sized resources', (name) => {
    const c = container(workload(objects, name), name);
    expect(httpProbe(c, 'livenessProbe')).toEqual({ path: '/livez', port: 9090 });
    expect(httpProbe(c, 'readinessProbe')).toEqual({ path: '/readyz', port: 9090 });
    expect(httpProbe(c, 'startupProbe')).toEqual({ path: '/livez', port: 9090 });
    // A hung process ignores SIGTERM: a liveness kill must not wait out the pod's whole grace period.
    expect(c.livenessProbe?.terminationGracePeriodSeconds).toBeLessThanOrEqual(10);
    expect(c.ports?.map((p) => [p.name, p.containerPort])).toEqual([['http', 8080], ['admin', 9090]]);
    expect(c.resources?.requests?.cpu).toBeDefined();
    expect(c.resources?.requests?.memory).toBeDefined();
    expect(c.resources?.limits?.memory).toBeDefined();
  });

  test('then the ports the services listen on are the ports the pods declare', () => {
    const b = container(workload(objects, 'balancer'), 'balancer');
    const bEnv = containerEnv(objects, b, { fields, secrets });
    expect([Number(bEnv.BALANCER_PORT), Number(bEnv.BALANCER_ADMIN_PORT)]).toEqual([portNumber(b, 'http'), portNumber(b, 'admin')]);
    const w = container(workload(objects, 'worker'), 'worker');
    const wEnv = containerEnv(objects, w, { fields, secrets });
    expect([Number(wEnv.PORT), Number(wEnv.ADMIN_PORT)]).toEqual([portNumber(w, 'http'), portNumber(w, 'admin')]);
  });

  test.each(['balancer', 'worker'])('then %s sleeps in preStop as long as DRAIN_DELAY_MS, and the grace period covers preStop plus SHUTDOWN_TIMEOUT_MS', (name) => {
    const w = workload(objects, name);
    const c = container(w, name);
    const env = containerEnv(objects, c, { fields, secrets });
    const sleep = preStopSleepSeconds(c);
    expect(sleep * 1000).toBe(Number(env.DRAIN_DELAY_MS));
    const grace = w.template.spec?.terminationGracePeriodSeconds ?? 30;
    expect(grace).toBeGreaterThan(sleep + Number(env.SHUTDOWN_TIMEOUT_MS) / 1000);
  });

  test('then the worker migrates in an initContainer of the same image, and serving pods do not migrate again', () => {
    const w = workload(objects, 'worker');
    const init = w.template.spec?.initContainers ?? [];
    expect(init.map((c) => c.name)).toEqual(['migrate']);
    const migrate = container(w, 'migrate');
    expect(migrate.image).toBe(container(w, 'worker').image);
    // args, so the image's ENTRYPOINT (tini) stays in front.
    expect(migrate.command).toBeUndefined();
    expect(migrate.args).toEqual(['node', 'dist/services/worker/main.js', 'migrate']);
    expect(containerEnv(objects, container(w, 'worker'), { fields, secrets }).MIGRATE_ON_START).toBe('false');
  });

  test('then the worker config parser accepts the environment both worker containers get, password from the mounted Secret file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-env-'));
    try {
      writeFileSync(join(dir, 'password'), 'secret-from-file\n');
      const w = workload(objects, 'worker');
      for (const name of ['migrate', 'worker']) {
        const c = container(w, name);
        const env = containerEnv(objects, c, { fields, secrets });
        const secretMount = c.volumeMounts?.find((m) => env.PGPASSWORD_FILE?.startsWith(`${m.mountPath}/`));
        const volume = w.template.spec?.volumes?.find((v) => v.name === secretMount?.name);
        expect(volume?.secret?.secretName).toMatch(/^postgres-credentials(-[a-z0-9]{10})?$/);
        const config = parseWorkerConfig({ ...env, PGPASSWORD_FILE: join(dir, 'password') });
        expect(config.database).toMatchObject({ host: 'postgres', port: 5432, user: 'flotilla', password: 'secret-from-file', database: 'flotilla' });
        expect(config.discovery).toEqual({ kind: 'kubernetes', namespace, service: 'worker', portName: 'http', adminPortName: 'admin' });
        expect(config.migrateOnStart).toBe(false);
        expect(config.id).toBe(fields['metadata.name']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('then the balancer discovers the worker Service by port names that Service has, in its own namespace', () => {
    const env = containerEnv(objects, container(workload(objects, 'balancer'), 'balancer'), { fields, secrets });
    const reader = new EnvReader(env);
    const discovery = readDiscoveryConfig(reader, 'UPSTREAMS');
    expect(() => reader.finish()).not.toThrow();
    expect(discovery).toEqual({ kind: 'kubernetes', namespace, service: 'worker', portName: 'http', adminPortName: 'admin' });
    const service = find<V1Service & K8sObject>(objects, 'Service', 'worker');
    expect(service.spec?.ports?.map((p) => p.name)).toEqual(['http', 'admin']);
  });

  test('then the balancer config parser accepts the environment the balancer container gets', () => {
    const env = containerEnv(objects, container(workload(objects, 'balancer'), 'balancer'), { fields, secrets });
    const config = parseBalancerConfig(env);
    expect(config.discovery).toEqual({ kind: 'kubernetes', namespace, service: 'worker', portName: 'http', adminPortName: 'admin' });
    expect([config.port, config.adminPort, config.drainDelayMs]).toEqual([8080, 9090, 5_000]);
  });

  test("then the balancer's upstream idle timeout stays below the worker's keep-alive timeout", () => {
    const b = containerEnv(objects, container(workload(objects, 'balancer'), 'balancer'), { fields, secrets });
    const w = containerEnv(objects, container(workload(objects, 'worker'), 'worker'), { fields, secrets });
    expect(Number(b.UPSTREAM_IDLE_TIMEOUT_MS)).toBeLessThan(Number(w.KEEP_ALIVE_TIMEOUT_MS) / 2);
  });

  test('then Postgres accepts every connection the workers may hold at once: the largest worker count of a rollout, each a full pool', () => {
    const deployment = find<V1Deployment & K8sObject>(objects, 'Deployment', 'worker');
    const hpa = findAll<V1HorizontalPodAutoscaler & K8sObject>(objects, 'HorizontalPodAutoscaler').find((h) => h.spec?.scaleTargetRef.name === 'worker');
    const replicas = hpa?.spec?.maxReplicas ?? deployment.spec?.replicas ?? 1;
    const surge = deployment.spec?.strategy?.rollingUpdate?.maxSurge;
    expect(typeof surge).toBe('number');
    const env = containerEnv(objects, container(workload(objects, 'worker'), 'worker'), { fields, secrets });
    const poolMax = parseWorkerConfig({ ...env, PGPASSWORD: 'x' }).database.poolMax;
    const args = container(workload(objects, 'postgres'), 'postgres').args ?? [];
    const setting = args.map((a) => /^max_connections=(\d+)$/.exec(a)?.[1]).find((v) => v !== undefined);
    const maxConnections = Number(setting ?? 100);
    // superuser_reserved_connections (3) are not for the workers; one migrate
    // connection per surging pod; a few for an operator and a monitoring probe.
    const needed = (replicas + Number(surge)) * poolMax + Number(surge) + 5;
    expect(needed).toBeLessThanOrEqual(maxConnections - 3);
  });

  test('then Postgres is a pinned official image with PGDATA inside its claimed volume, pg_isready probes and a Secret password', () => {
    const set = find<V1StatefulSet & K8sObject>(objects, 'StatefulSet', 'postgres');
    const w: Workload = workload(objects, 'postgres');
    const c = container(w, 'postgres');
    expect(c.image).toMatch(/^postgres:\d+\.\d+-bookworm$/);
    const headless = find<V1Service & K8sObject>(objects, 'Service', set.spec?.serviceName ?? '');
    expect(headless.spec?.clusterIP).toBe('None');
    // The name resolves while Postgres starts, so no NXDOMAIN is cached meanwhile (see service.yaml).
    expect(headless.spec?.publishNotReadyAddresses).toBe(true);
    const claims = set.spec?.volumeClaimTemplates?.map((t) => t.metadata?.name) ?? [];
    const env = containerEnv(objects, c, { fields, secrets });
    const dataMount = c.volumeMounts?.find((m) => claims.includes(m.name));
    expect(dataMount).toBeDefined();
    expect(env.PGDATA?.startsWith(`${dataMount?.mountPath}/`)).toBe(true);
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
      expect(c[kind]?.exec?.command?.join(' ')).toContain('pg_isready');
    }
    expect(env.POSTGRES_USER).toBe('flotilla');
    const secretMount = c.volumeMounts?.find((m) => env.POSTGRES_PASSWORD_FILE?.startsWith(`${m.mountPath}/`));
    expect(w.template.spec?.volumes?.find((v) => v.name === secretMount?.name)?.secret).toBeDefined();
    expect(env.POSTGRES_PASSWORD).toBeUndefined();
    expect(w.template.spec?.securityContext?.fsGroup).toBeDefined();
  });
});
