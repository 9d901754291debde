import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { down, up } from './cluster.js';
import { readClusterConfig } from './config.js';
import { ClusterContext } from './context.js';
import { runSkaffold } from './skaffold.js';
import { printStatus } from './status-report.js';
import { usage } from './steps/deploy.js';
import { CLUSTER_STEPS } from './steps/index.js';
import { runClusterTests } from './test-runner.js';

const USAGE = `usage: npm run cluster -- <command>

  up                  build what is missing (cached), start a single-node
                      cluster in the network namespace flotilla-cluster,
                      deploy k8s/overlays/local-cluster and wait until every
                      pod is Ready; writes .data/cluster/env
  down                stop and remove everything the cluster made (its logs stay)
  status              say what runs
  test [jest args]    run tests/cluster inside the cluster's network (brings a
                      cluster up and down for the run unless one runs already)
  skaffold <args>     skaffold against this cluster, e.g. skaffold run -p local-cluster

Environment: see k8s/README.md ("The local cluster").`;

// dist/scripts/cluster/main.js -> the repository root.
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0];
  const passThrough = command === 'test' || command === 'skaffold';
  if (command === undefined || command === 'help' || command === '--help' || (argv.length > 1 && !passThrough)) {
    console.log(USAGE);
    return command === 'help' || command === '--help' ? 0 : 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('npm run cluster needs root: it creates a network namespace, mounts and cgroups.');
    return 1;
  }
  const ctx = new ClusterContext(readClusterConfig(process.env, REPO_ROOT));
  switch (command) {
    case 'up':
      await up(ctx, CLUSTER_STEPS);
      ctx.status.line(usage(ctx));
      return 0;
    case 'down':
      await down(ctx, CLUSTER_STEPS);
      ctx.status.line('Cluster removed.');
      return 0;
    case 'status':
      return printStatus(ctx);
    case 'test':
      return runClusterTests(ctx, argv.slice(1), ctx.config.keepAfterTests);
    case 'skaffold':
      return runSkaffold(ctx, argv.slice(1));
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
