import type { ClusterContext } from './context.js';

/** `npm run cluster -- status`: which daemons run, and the node and pods when the API answers. */
export async function printStatus(ctx: ClusterContext): Promise<number> {
  const names = ctx.daemons.names().sort();
  if (names.length === 0) {
    ctx.status.line('No cluster runs (no daemons recorded in ' + ctx.paths.pids + ').');
    return 0;
  }
  for (const name of names) {
    const pid = ctx.daemons.pid(name);
    ctx.status.line(`${pid === undefined ? '✗' : '✓'} ${name.padEnd(24)} ${pid === undefined ? 'not running' : `pid ${pid}`}`);
  }
  return 0;
}
