import { rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { ClusterContext } from '../context.js';
import type { Step } from './step.js';

/**
 * `kubectl apply -k` of the overlay, as a user deploys it, then waits until
 * every workload has rolled out and every pod is Ready, and writes
 * .data/cluster/env for people and tests.
 */

const WORKLOADS = ['statefulset/postgres', 'deployment/worker', 'deployment/balancer'];

async function clusterIp(ctx: ClusterContext, service: string): Promise<string> {
  const { stdout } = await ctx.kubectl(['-n', ctx.config.appNamespace, 'get', 'service', service, '-o', 'jsonpath={.spec.clusterIP}']);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(stdout.trim())) throw new Error(`service ${service} has no cluster IP (got "${stdout}")`);
  return stdout.trim();
}

/** What .data/cluster/env holds, for people (`set -a; . .data/cluster/env`) and for tests/cluster. */
export const CLUSTER_ENV_KEYS = [
  'NETNS',
  'KUBECONFIG',
  'NAMESPACE',
  'BALANCER_URL',
  'BALANCER_ADMIN_URL',
  'REGISTRY',
  'KUBECTL',
  'SKAFFOLD_CONFIG',
  'KUBECACHEDIR',
] as const;

export type ClusterEnv = Readonly<Record<(typeof CLUSTER_ENV_KEYS)[number], string>>;

async function writeEnv(ctx: ClusterContext): Promise<void> {
  const env: ClusterEnv = {
    NETNS: ctx.netnsPath,
    KUBECONFIG: ctx.paths.adminKubeconfig,
    NAMESPACE: ctx.config.appNamespace,
    BALANCER_URL: `http://${await clusterIp(ctx, 'balancer')}:80`,
    BALANCER_ADMIN_URL: `http://${await clusterIp(ctx, 'balancer-admin')}:9090`,
    REGISTRY: ctx.config.registryAddress,
    KUBECTL: `${ctx.paths.k8sBin}/kubectl`,
    SKAFFOLD_CONFIG: ctx.paths.skaffoldConfig,
    // kubectl's discovery cache, with the cluster rather than in ~/.kube.
    KUBECACHEDIR: ctx.paths.kubeCache,
  };
  writeFileSync(
    ctx.paths.envFile,
    `# Written by \`npm run cluster -- up\`. The addresses exist only inside the
# network namespace: nsenter --net=$NETNS <command>.
${Object.entries(env)
  .map(([key, value]) => `${key}=${value}`)
  .join('\n')}\n`,
  );
}

/** How to use the cluster `up` made: printed at the end of `up`. */
export function usage(ctx: ClusterContext): string {
  const envFile = relative(process.cwd(), ctx.paths.envFile) || ctx.paths.envFile;
  return `
Flotilla runs in namespace ${ctx.config.appNamespace}. Everything is reachable inside the
network namespace ${ctx.config.netns} only:

  set -a; . ${envFile}; set +a
  nsenter --net=$NETNS $KUBECTL -n $NAMESPACE get pods -o wide
  nsenter --net=$NETNS curl -s -X PUT -d '{"value":1}' $BALANCER_URL/v1/kv/hello
  nsenter --net=$NETNS curl -s $BALANCER_ADMIN_URL/admin/upstreams

Tear it down with: npm run cluster -- down`;
}

export const deployStep: Step = {
  title: 'Deploying Flotilla (kubectl apply -k) and waiting until every pod is Ready',
  async up(ctx) {
    const started = Date.now();
    await ctx.kubectl(['apply', '-k', ctx.config.overlay]);
    const timeout = `${Math.round(ctx.config.readyTimeoutMs / 1000)}s`;
    for (const workload of WORKLOADS) {
      await ctx.kubectl(['-n', ctx.config.appNamespace, 'rollout', 'status', workload, `--timeout=${timeout}`], {
        timeoutMs: ctx.config.readyTimeoutMs + 10_000,
      });
    }
    await ctx.kubectl(['-n', ctx.config.appNamespace, 'wait', '--for=condition=Ready', 'pod', '--all', `--timeout=${timeout}`], {
      timeoutMs: ctx.config.readyTimeoutMs + 10_000,
    });
    const { stdout } = await ctx.kubectl(['-n', ctx.config.appNamespace, 'get', 'pods', '-o', 'wide']);
    ctx.status.info(`every pod Ready ${((Date.now() - started) / 1000).toFixed(1)} s after the apply:`);
    for (const line of stdout.trimEnd().split('\n')) ctx.status.info(`  ${line}`);
    await writeEnv(ctx);
  },
  async down(ctx) {
    rmSync(ctx.paths.envFile, { force: true });
  },
};
