import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.js';
import { buildGoTool, goTools } from '../go-tools.js';
import { formatDuration } from '../status.js';
import type { Step } from './step.js';

/** Everything a node and its control plane run, from scripts/k8s-binaries.sh. */
export const K8S_TOOLS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'];

/** Cold, the whole set takes about ten minutes on two cores; later runs find it in the cache. */
const K8S_BUILD_TIMEOUT_MS = 45 * 60_000;

export const binariesStep: Step = {
  title: 'Building the binaries (Kubernetes, CoreDNS, crictl, registry; cached)',
  async up(ctx) {
    mkdirSync(ctx.paths.logs, { recursive: true });
    const started = Date.now();
    await run('bash', [join(ctx.config.repoRoot, 'scripts/k8s-binaries.sh'), ...K8S_TOOLS], {
      timeoutMs: K8S_BUILD_TIMEOUT_MS,
      env: { ...process.env, K8S_VERSION: ctx.config.k8sVersion, FLOTILLA_K8S_CACHE: ctx.config.k8sCacheDir },
      logFile: join(ctx.paths.logs, 'build-kubernetes.log'),
    });
    ctx.status.info(`Kubernetes v${ctx.config.k8sVersion}: ${K8S_TOOLS.join(', ')} (${formatDuration(Date.now() - started)})`);
    const tools = goTools(ctx);
    for (const tool of [tools.coredns, tools.crictl, tools.registry]) {
      const toolStarted = Date.now();
      await buildGoTool(ctx, tool);
      ctx.status.info(`${tool.name} v${tool.version} (${formatDuration(Date.now() - toolStarted)})`);
    }
  },
};
