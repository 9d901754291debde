import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readClusterConfig } from '../../scripts/cluster/config.js';
import { ClusterContext } from '../../scripts/cluster/context.js';
import { buildGoTool, goTools } from '../../scripts/cluster/go-tools.js';
import { answersOk } from '../helpers/answers-ok.js';
import { REPO_ROOT } from '../k8s-static/render.js';
import { apiServer, eventually, kubectl, kubectlOk, type ClusterEnv } from './cluster.js';

/**
 * A real Prometheus in the cluster's network namespace
 * that finds the pods through the API server (kubernetes_sd_configs, role
 * pod) with a service account of its own, and scrapes the ones whose
 * prometheus.io annotations ask for it, as the default manifests expect.
 */

const ACCOUNT = 'flotilla-test-prometheus';

function rbac(namespace: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: ${ACCOUNT}, namespace: ${namespace}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${ACCOUNT}, namespace: ${namespace}}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${ACCOUNT}, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${ACCOUNT}}
subjects:
  - {kind: ServiceAccount, name: ${ACCOUNT}, namespace: ${namespace}}
`;
}

/** The usual "kubernetes-pods" job: keep pods annotated prometheus.io/scrape, take port and path from the annotations. */
function config(server: string, ca: string, tokenFile: string, namespace: string): string {
  return `global:
  scrape_interval: 2s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kubernetes-pods
    kubernetes_sd_configs:
      - role: pod
        api_server: ${server}
        tls_config: {ca_file: ${ca}}
        authorization: {credentials_file: ${tokenFile}}
        namespaces: {names: [${namespace}]}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: "true"
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: '([^:]+)(?::\\d+)?;(\\d+)'
        replacement: '$1:$2'
        target_label: __address__
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        regex: (.+)
        target_label: __metrics_path__
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name]
        target_label: app
`;
}

export interface RunningPrometheus {
  readonly url: string;
  query(promql: string, at?: Date): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/**
 * Prometheus built from the Go module proxy (once, into the cluster cache):
 * Debian's package is built without kubernetes_sd_configs. The build needs
 * the host's network namespace, which the test runner names.
 */
export async function prometheusBinary(): Promise<string> {
  const hostNetns = process.env.FLOTILLA_HOST_NETNS;
  if (hostNetns === undefined) throw new Error('FLOTILLA_HOST_NETNS is not set: run this tier with npm run test:cluster');
  const ctx = new ClusterContext(readClusterConfig(process.env, REPO_ROOT));
  return buildGoTool(ctx, goTools(ctx).prometheus, { netns: hostNetns });
}

export async function startPrometheus(env: ClusterEnv, binary: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-prometheus-'));
  kubectlOk(env, ['apply', '-f', '-'], { input: rbac(env.NAMESPACE) });
  const token = kubectlOk(env, ['-n', env.NAMESPACE, 'create', 'token', ACCOUNT, '--duration=1h']).trim();
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  const { server, ca } = apiServer(env);
  writeFileSync(join(dir, 'prometheus.yml'), config(server, ca, join(dir, 'token'), env.NAMESPACE));
  // Inside the namespace nothing else listens on loopback :9091.
  const url = 'http://127.0.0.1:9091';
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:9091', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4_000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    kubectl(env, ['delete', '-f', '-', '--ignore-not-found'], { input: rbac(env.NAMESPACE) });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually('prometheus ready', async () => ((await answersOk(`${url}/-/ready`)) ? true : undefined), 30_000, 250);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; its log:\n${log}`);
  }
  const query = async (promql: string, at?: Date): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const params = new URLSearchParams({ query: promql, ...(at === undefined ? {} : { time: String(at.getTime() / 1000) }) });
    const res = await fetch(`${url}/api/v1/query?${params.toString()}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? res.status}`);
    return body.data.result;
  };
  return { url, query, stop };
}
