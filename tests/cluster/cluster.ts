import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import { CLUSTER_ENV_KEYS, type ClusterEnv } from '../../scripts/cluster/steps/deploy.js';
import { REPO_ROOT } from '../k8s-static/render.js';

export type { ClusterEnv };

/**
 * The cluster that `npm run cluster -- up` made, as the tests see it: they
 * run inside its network namespace (`npm run test:cluster` puts them there),
 * so Service and pod addresses answer directly, and kubectl talks to the API
 * server with the admin kubeconfig from .data/cluster/env.
 */
export function clusterEnv(): ClusterEnv {
  const file = process.env.FLOTILLA_CLUSTER_ENV ?? join(REPO_ROOT, '.data/cluster/env');
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined) values[match[1]] = match[2] ?? '';
  }
  for (const key of CLUSTER_ENV_KEYS) {
    if (values[key] === undefined) throw new Error(`${file} has no ${key}: is the cluster up (npm run cluster -- up)?`);
  }
  return values as ClusterEnv;
}

/** Where a run leaves its logs and figures, beside the cluster's env file; made when missing. */
export function clusterLogsDir(): string {
  const dir = join(process.env.FLOTILLA_CLUSTER_ENV === undefined ? join(REPO_ROOT, '.data/cluster') : dirname(process.env.FLOTILLA_CLUSTER_ENV), 'logs');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** kubectl as cluster admin; never throws (see `kubectlOk`). */
export function kubectl(env: ClusterEnv, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): KubectlResult {
  const result = spawnSync(env.KUBECTL, [`--kubeconfig=${env.KUBECONFIG}`, ...args], {
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    // A balancer's log over a scenario (access lines) passes spawnSync's 1 MiB default.
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

/** kubectl that must succeed; returns its stdout. */
export function kubectlOk(env: ClusterEnv, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): string {
  const result = kubectl(env, args, options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

export function kubectlJson<T>(env: ClusterEnv, args: readonly string[]): T {
  return JSON.parse(kubectlOk(env, [...args, '-o', 'json'])) as T;
}

/** The parts of a Pod these tests read. */
export interface Pod {
  readonly metadata: { readonly name: string; readonly uid: string; readonly creationTimestamp: string; readonly labels?: Record<string, string>; readonly deletionTimestamp?: string };
  readonly spec: {
    readonly nodeName?: string;
    readonly containers: readonly { readonly name: string; readonly image: string }[];
    readonly volumes?: readonly { readonly name: string; readonly persistentVolumeClaim?: { readonly claimName: string } }[];
  };
  readonly status: {
    readonly podIP?: string;
    readonly phase?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string; readonly lastTransitionTime: string }[];
    readonly initContainerStatuses?: readonly ContainerStatus[];
    readonly containerStatuses?: readonly ContainerStatus[];
  };
}

export interface ContainerStatus {
  readonly name: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly image: string;
  readonly imageID: string;
  readonly containerID?: string;
  readonly state: { readonly terminated?: { readonly exitCode: number; readonly reason?: string } };
}

export function pods(env: ClusterEnv, selector: string): Pod[] {
  return kubectlJson<{ items: Pod[] }>(env, ['-n', env.NAMESPACE, 'get', 'pods', '-l', selector]).items;
}

export function isReady(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp === undefined && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

export const WORKER_PODS = 'app.kubernetes.io/name=worker';
export const BALANCER_PODS = 'app.kubernetes.io/name=balancer';

export function readyPods(env: ClusterEnv, selector: string): Pod[] {
  return pods(env, selector).filter(isReady);
}

/** Each ready balancer pod's own admin address: the balancer-admin Service would pick one of them at random. */
export function balancerAdminUrls(env: ClusterEnv): string[] {
  return readyPods(env, BALANCER_PODS).map((pod) => `http://${pod.status.podIP ?? ''}:9090`);
}

/** The data endpoints (podIP:8080) of the ready worker pods, by pod name. */
export function readyWorkerEndpoints(env: ClusterEnv): Map<string, string> {
  return new Map(readyPods(env, WORKER_PODS).map((pod) => [`${pod.status.podIP ?? ''}:8080`, pod.metadata.name]));
}

/** Polls until `probe` returns a value, or fails after timeoutMs naming what was awaited. */
export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
}

/** One entry of the balancer's GET /admin/upstreams. */
export interface Upstream {
  readonly endpoint: string;
  readonly name: string | null;
  readonly state: string;
  readonly ready: boolean;
  readonly inFlight: number;
}

export async function upstreams(adminUrl: string): Promise<Upstream[]> {
  const res = await fetch(`${adminUrl}/admin/upstreams`, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`/admin/upstreams answered ${res.status}`);
  return ((await res.json()) as { upstreams: Upstream[] }).upstreams;
}

/** The API server's address and CA, from the admin kubeconfig (for clients that authenticate otherwise). */
export function apiServer(env: ClusterEnv): { server: string; ca: string } {
  const config = load(kubectlOk(env, ['config', 'view', '--raw', '-o', 'yaml'])) as { clusters: { cluster: { server: string; 'certificate-authority': string } }[] };
  const cluster = config.clusters[0]?.cluster;
  if (cluster === undefined) throw new Error('the admin kubeconfig names no cluster');
  return { server: cluster.server, ca: cluster['certificate-authority'] };
}

/** One JSON call to the KV API through the balancer's Service. */
export async function apiCall(
  env: ClusterEnv,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${env.BALANCER_URL}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}
