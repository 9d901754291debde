import { existsSync, readFileSync } from 'node:fs';
import { NAMESPACE_HOLDER, type ClusterContext } from './context.js';
import { processesInMountNamespaceOf } from './sweep.js';

/** Resident memory of one process in MiB (0 once it is gone). */
function rssMiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** What the pods use: the kubepods memory cgroup (cgroup v1), page cache included. */
function podsMemoryMiB(): number | undefined {
  const file = '/sys/fs/cgroup/memory/kubepods/memory.usage_in_bytes';
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) / 1024 / 1024 : undefined;
}

/**
 * `npm run cluster -- status`: which daemons run, the memory the cluster
 * takes (its daemons and shims by RSS, its pods by their cgroup), and the
 * node and pods when the API server answers.
 */
export async function printStatus(ctx: ClusterContext): Promise<number> {
  const names = ctx.daemons.names().sort();
  if (names.length === 0) {
    ctx.status.line(`No cluster runs (no daemons recorded in ${ctx.paths.pids}).`);
    return 0;
  }
  for (const name of names) {
    const pid = ctx.daemons.pid(name);
    ctx.status.line(`${pid === undefined ? '✗' : '✓'} ${name.padEnd(24)} ${pid === undefined ? 'not running' : `pid ${pid}, ${rssMiB(pid).toFixed(0)} MiB`}`);
  }
  const holder = ctx.daemons.pid(NAMESPACE_HOLDER);
  if (holder === undefined) return 1;
  const daemonsMiB = processesInMountNamespaceOf(holder).reduce((sum, pid) => sum + rssMiB(pid), 0);
  const pods = podsMemoryMiB();
  ctx.status.line(
    `memory: daemons and shims ${daemonsMiB.toFixed(0)} MiB RSS` +
      (pods === undefined ? '' : `, pods ${pods.toFixed(0)} MiB (kubepods cgroup), together ${(daemonsMiB + pods).toFixed(0)} MiB`),
  );
  const nodes = await ctx.kubectl(['get', 'nodes', '-o', 'wide'], { timeoutMs: 10_000 }).catch((err: Error) => ({ stdout: `API server: ${err.message.split('\n')[0] ?? ''}\n` }));
  ctx.status.line(`\n${nodes.stdout.trimEnd()}`);
  const podList = await ctx.kubectl(['get', 'pods', '-A', '-o', 'wide'], { timeoutMs: 10_000 }).catch(() => ({ stdout: '' }));
  ctx.status.line(`\n${podList.stdout.trimEnd()}`);
  if (existsSync(ctx.paths.envFile)) ctx.status.line(`\n${readFileSync(ctx.paths.envFile, 'utf8').trimEnd()}`);
  ctx.status.line(`\nlogs: ${ctx.paths.logs}`);
  return 0;
}
