import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from './context.js';
import { formatDuration } from './status.js';
import type { Step } from './steps/step.js';

/**
 * Brings the steps up in order; on a failure, undoes them all (unless asked
 * to keep what was made) so that no half-made cluster is left running.
 */
export async function up(ctx: ClusterContext, steps: readonly Step[]): Promise<void> {
  const started = Date.now();
  try {
    for (const step of steps) await ctx.status.step(step.title, () => step.up(ctx));
  } catch (err) {
    ctx.status.line(`\n${(err as Error).message}\n`);
    ctx.status.line(`Logs: ${ctx.paths.logs}`);
    if (ctx.config.keepOnFailure) {
      ctx.status.line('FLOTILLA_CLUSTER_KEEP_ON_FAILURE is set: the cluster is left as it is; `npm run cluster -- down` removes it.');
    } else {
      ctx.status.line('Tearing down what was made (FLOTILLA_CLUSTER_KEEP_ON_FAILURE=1 keeps it for a look).');
      await down(ctx, steps);
    }
    throw err;
  }
  ctx.status.line(`Cluster up in ${formatDuration(Date.now() - started)}.`);
}

/**
 * Undoes every step, last first. A step that fails to undo does not stop
 * the others; all failures are reported at the end. The work folder goes
 * last, but for the logs of this run.
 */
export async function down(ctx: ClusterContext, steps: readonly Step[]): Promise<void> {
  const failures: string[] = [];
  for (const step of [...steps].reverse()) {
    if (step.down === undefined) continue;
    const undo = step.down.bind(step);
    try {
      await ctx.status.step(`Undoing: ${step.title}`, () => undo(ctx));
    } catch (err) {
      failures.push(`${step.title}: ${(err as Error).message}`);
    }
  }
  if (existsSync(ctx.paths.work)) {
    for (const entry of readdirSync(ctx.paths.work)) {
      const path = join(ctx.paths.work, entry);
      if (path !== ctx.paths.logs) rmSync(path, { recursive: true, force: true });
    }
  }
  if (failures.length > 0) throw new Error(`teardown left things behind:\n  - ${failures.join('\n  - ')}`);
}
