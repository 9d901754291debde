import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime, terminate } from './daemons.js';

/**
 * Finding what the cluster left behind, by what only the cluster has: its
 * mount namespace (every daemon and containerd shim runs in it) and its
 * cgroup trees (every container runs under kubepods). Nothing is found by
 * name, and nothing outside those is touched.
 */

const CGROUP_ROOT = '/sys/fs/cgroup';
/** Cgroup trees that kubelet (cgroupfs driver) and containerd make at the top of each hierarchy. */
export const CLUSTER_CGROUPS = ['kubepods', 'k8s.io'];

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function namespaceOf(pid: number | 'self', kind: 'mnt' | 'net'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** Every process (but `except`) that shares the mount namespace of `holder`. */
export function processesInMountNamespaceOf(holder: number, except: readonly number[] = []): number[] {
  const target = namespaceOf(holder, 'mnt');
  if (target === undefined || target === namespaceOf('self', 'mnt')) return [];
  return pids().filter((pid) => pid !== holder && !except.includes(pid) && namespaceOf(pid, 'mnt') === target);
}

/** The hierarchies mounted under /sys/fs/cgroup (cgroup v1 controllers, the unified v2 tree). */
export function cgroupHierarchies(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  return readdirSync(CGROUP_ROOT)
    .map((name) => join(CGROUP_ROOT, name))
    .filter((dir) => existsSync(join(dir, 'cgroup.procs')));
}

/** Cluster cgroup trees that exist now, e.g. /sys/fs/cgroup/memory/kubepods. */
export function clusterCgroupTrees(): string[] {
  return cgroupHierarchies().flatMap((hierarchy) =>
    CLUSTER_CGROUPS.map((name) => join(hierarchy, name)).filter((dir) => existsSync(dir)),
  );
}

function subtrees(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const child = join(dir, entry);
    try {
      if (statSync(child).isDirectory()) found.push(...subtrees(child), child);
    } catch {
      // Removed meanwhile.
    }
  }
  return found;
}

/** PIDs in a cgroup tree, the tree's own cgroup.procs included. */
export function processesInCgroupTree(dir: string): number[] {
  const found = new Set<number>();
  for (const group of [dir, ...subtrees(dir)]) {
    try {
      for (const line of readFileSync(join(group, 'cgroup.procs'), 'utf8').split('\n')) {
        if (line !== '') found.add(Number(line));
      }
    } catch {
      // Removed meanwhile.
    }
  }
  return [...found];
}

/** Ends the given processes (SIGTERM, then SIGKILL after graceMs), all at once. */
export async function terminateAll(pidList: readonly number[], graceMs: number): Promise<void> {
  await Promise.all(pidList.map((pid) => terminate(pid, processStartTime(pid), graceMs)));
}

/** Removes a cgroup tree, deepest first; a cgroup can only go once it is empty. Returns what could not go. */
export function removeCgroupTree(dir: string): string[] {
  const left: string[] = [];
  for (const group of [...subtrees(dir), dir]) {
    try {
      rmdirSync(group);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(group);
    }
  }
  return left;
}
