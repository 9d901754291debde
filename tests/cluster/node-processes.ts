import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Pod } from './cluster.js';

/**
 * A container's processes as the node sees them: the tests share the node's
 * PID namespace, and with kubelet's cgroupfs driver every container has a
 * cgroup named by its container ID under kubepods.
 */

const PIDS_HIERARCHY = '/sys/fs/cgroup/pids/kubepods';

function findCgroup(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir)) {
    const child = join(dir, entry);
    if (!statSync(child).isDirectory()) continue;
    if (entry === name) return child;
    const deeper = findCgroup(child, name);
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}

function containerId(pod: Pod, container: string): string {
  const id = pod.status.containerStatuses?.find((s) => s.name === container)?.containerID;
  const match = /^containerd:\/\/([0-9a-f]{64})$/.exec(id ?? '');
  if (match?.[1] === undefined) throw new Error(`${pod.metadata.name}/${container} has no running container (${String(id)})`);
  return match[1];
}

/** The PID of the container's `node` process (under tini, PID 1 in the container). */
export function nodeProcessOf(pod: Pod, container: string): number {
  if (!existsSync(PIDS_HIERARCHY)) throw new Error(`${PIDS_HIERARCHY} is missing: is this the cluster's node?`);
  const id = containerId(pod, container);
  const cgroup = findCgroup(PIDS_HIERARCHY, id);
  if (cgroup === undefined) throw new Error(`no cgroup for container ${id} of ${pod.metadata.name}`);
  const pids = readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter((line) => line !== '').map(Number);
  // By its command line: the main thread's name (comm) is not "node" on every release.
  const node = pids.find((pid) => basename(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '') === 'node');
  if (node === undefined) throw new Error(`no node process in ${pod.metadata.name}/${container} (pids ${pids.join(', ')})`);
  return node;
}

/** The process state letter from /proc/<pid>/stat: R, S, T (stopped), Z, … */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
