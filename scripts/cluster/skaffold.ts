import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from './context.js';
import { buildGoTool, goTools } from './go-tools.js';

/**
 * skaffold's global configuration for the cluster's kube-context: images go
 * to the cluster's registry (which speaks plain HTTP on the namespace's
 * loopback), and skaffold asks nothing and phones nowhere.
 * https://skaffold.dev/docs/design/global-config/
 */
export function writeSkaffoldConfig(ctx: ClusterContext): string {
  writeFileSync(
    ctx.paths.skaffoldConfig,
    `global:
  collect-metrics: false
  update-check: false
  survey: {disable-prompt: true}
kubeContexts:
  - kube-context: ${ctx.config.netns}
    default-repo: ${ctx.config.registryAddress}
    insecure-registries: [${ctx.config.registryAddress}]
`,
  );
  return ctx.paths.skaffoldConfig;
}

/** The network namespace image builds run in: the caller's (the host's), or the one a caller named already. */
function hostNetns(ctx: ClusterContext): string {
  const candidate = process.env.FLOTILLA_HOST_NETNS ?? `/proc/${process.pid}/ns/net`;
  const [a, b] = [statSync(candidate), statSync(ctx.netnsPath)];
  if (a.dev === b.dev && a.ino === b.ino) {
    throw new Error(`${candidate} is the cluster's own network namespace: run this from the host's, or set FLOTILLA_HOST_NETNS to it`);
  }
  return candidate;
}

/**
 * `npm run cluster -- skaffold <args>`: skaffold (built once from the Go
 * module proxy) inside the cluster's network namespace, with the cluster's
 * kubeconfig, its kubectl first on PATH, the configuration above, and the
 * host's network namespace named for the image builds (skaffold-build.ts).
 */
export async function runSkaffold(ctx: ClusterContext, args: readonly string[]): Promise<number> {
  const host = hostNetns(ctx);
  // Built (once) where the Go module proxy is reachable.
  const skaffold = await buildGoTool(ctx, goTools(ctx).skaffold, { netns: host });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: ctx.paths.adminKubeconfig,
    // kubectl's discovery cache (skaffold runs kubectl), kept out of ~/.kube.
    KUBECACHEDIR: ctx.paths.kubeCache,
    PATH: `${ctx.paths.k8sBin}:${process.env.PATH ?? ''}`,
    SKAFFOLD_CONFIG: writeSkaffoldConfig(ctx),
    // Its artifact cache, which would go to ~/.skaffold/cache.
    SKAFFOLD_CACHE_FILE: join(ctx.config.cacheDir, 'skaffold-cache'),
    FLOTILLA_HOST_NETNS: host,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${ctx.netnsPath}`, '--', skaffold, ...args], { cwd: ctx.config.repoRoot, stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
