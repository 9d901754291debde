import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { down, up } from './cluster.js';
import type { ClusterContext } from './context.js';
import { reportClusterTrouble } from './diagnostics.js';
import { CLUSTER_STEPS } from './steps/index.js';

/**
 * `npm run test:cluster`: runs tests/cluster inside the cluster's network
 * namespace (so Service and pod addresses answer directly). A cluster that
 * already runs is used as it is and left running; otherwise one is brought
 * up for the run and torn down after it, whatever the tests did
 * (FLOTILLA_CLUSTER_KEEP=1 keeps it for a look). When tests fail, the
 * state of the pods is reported first.
 */
export async function runClusterTests(ctx: ClusterContext, jestArgs: readonly string[], keep: boolean): Promise<number> {
  const broughtUp = !existsSync(ctx.paths.envFile);
  if (broughtUp) await up(ctx, CLUSTER_STEPS);
  let code = 1;
  try {
    code = await runJest(ctx, jestArgs);
    if (code !== 0) await reportClusterTrouble(ctx);
  } finally {
    if (broughtUp && !keep) {
      ctx.status.line('Tearing the test cluster down.');
      await down(ctx, CLUSTER_STEPS);
    }
  }
  return code;
}

function runJest(ctx: ClusterContext, jestArgs: readonly string[]): Promise<number> {
  const jest = join(ctx.config.repoRoot, 'node_modules/jest/bin/jest.js');
  const args = [
    `--net=${ctx.netnsPath}`,
    '--',
    process.execPath,
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    jest,
    '--config',
    join(ctx.config.repoRoot, 'tests/cluster/jest.config.js'),
    ...jestArgs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', args, {
      cwd: ctx.config.repoRoot,
      stdio: 'inherit',
      env: {
        ...process.env,
        FLOTILLA_CLUSTER_ENV: ctx.paths.envFile,
        // kubectl's discovery cache, kept out of ~/.kube.
        KUBECACHEDIR: ctx.paths.kubeCache,
        // Image builds need the host's network (npm, apt) while the tests sit in the cluster's:
        // this process stays in the host's namespace for as long as the tests run.
        FLOTILLA_HOST_NETNS: `/proc/${process.pid}/ns/net`,
      },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
