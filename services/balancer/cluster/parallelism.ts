import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPU quota of this process's cgroup in whole CPUs (rounded up), or
 * undefined when there is none. Recent libuv versions apply it themselves to
 * os.availableParallelism(); Node 20's libuv looks only at the CPU affinity,
 * so a pod with `limits.cpu: 2` on a 32-core node would otherwise start 32
 * workers. cgroup v2 (`cpu.max`) first, then v1.
 */
export function cgroupCpuLimit(read: (path: string) => string | undefined = readQuietly): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    return cpus(quota, period);
  }
  return cpus(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim(), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim());
}

function cpus(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined || quota === 'max' || quota === '-1') return undefined;
  const q = Number(quota);
  const p = Number(period);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

function readQuietly(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** What BALANCER_WORKERS=auto means: the CPUs this process may use (affinity and cgroup quota), at least 1, at most `max`. */
export function usableCpus(max: number, limit: number | undefined = cgroupCpuLimit(), available: number = availableParallelism()): number {
  const n = Math.min(available, limit ?? Infinity);
  return Math.max(1, Math.min(max, Number.isInteger(n) ? n : 1));
}
