import { readFileSync, readdirSync } from 'node:fs';

/** Linux reports utime/stime in USER_HZ ticks, 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) used so far by every live process in a process
 * group. Dividing requests by the CPU a proxy burned gives requests per
 * CPU-second, which tells more than raw rps on a machine shared with other
 * work: noise lowers rps, but costs each request about the same CPU.
 */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const [, fields] of liveProcesses()) if (fields.pgrp === pgid) ticks += fields.utime + fields.stime;
  return ticks / TICKS_PER_SECOND;
}

type ProcessStat = NonNullable<ReturnType<typeof parseStat>>;

/** Every live process with its parsed /proc/PID/stat; one that exits while we look is left out. */
function liveProcesses(): Map<number, ProcessStat> {
  const processes = new Map<number, ProcessStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const fields = parseStat(stat);
    if (fields !== undefined) processes.set(Number(entry), fields);
  }
  return processes;
}

/** Fields of /proc/PID/stat after the command name, which may itself hold spaces and parentheses. */
export function parseStat(stat: string): { ppid: number; pgrp: number; utime: number; stime: number; reapedTicks: number } | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ")": state(3) ppid(4) pgrp(5) … utime(14) stime(15); index 0 here is field 3.
  const rest = stat.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  // cutime(16) + cstime(17): children that exited and were waited for.
  const reapedTicks = Number(rest[13]) + Number(rest[14]);
  if (![ppid, pgrp, utime, stime, reapedTicks].every(Number.isFinite)) return undefined;
  return { ppid, pgrp, utime, stime, reapedTicks };
}

/**
 * CPU seconds used so far by a process and its descendants, live or exited
 * (an exited child's time moves to its parent's cutime/cstime when the
 * parent waits for it): a postmaster and its backends, which come and go
 * with the pools' connections.
 */
export function treeCpuSeconds(rootPid: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const [pid, fields] of liveProcesses()) {
    ticks.set(pid, fields.utime + fields.stime + fields.reapedTicks);
    children.set(fields.ppid, [...(children.get(fields.ppid) ?? []), pid]);
  }
  let total = 0;
  const pending = [rootPid];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    total += ticks.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total / TICKS_PER_SECOND;
}

/** The 1-minute load average, recorded with each run as a noise indicator. */
export function loadAverage(): number {
  const first = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  return Number(first);
}
