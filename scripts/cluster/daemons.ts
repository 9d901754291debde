import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Long-running cluster processes (etcd, kube-apiserver, containerd, kubelet,
 * …), started detached so they outlive the `up` command, each with a pid file
 * and a log file. A pid file records the process's start time as well, so a
 * PID the kernel has since given to another process is never signalled.
 */
export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

interface PidRecord {
  readonly pid: number;
  readonly startTime: string;
  readonly command: string;
}

/** Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot; undefined once the process is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number, startTime?: string): boolean {
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}

export class Daemons {
  constructor(
    private readonly pidDir: string,
    private readonly logDir: string,
  ) {}

  private pidFile(name: string): string {
    return join(this.pidDir, `${name}.pid`);
  }

  logFile(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  /** Starts the daemon unless it already runs; returns its PID. */
  start(spec: DaemonSpec): number {
    const running = this.pid(spec.name);
    if (running !== undefined) return running;
    mkdirSync(this.pidDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    const log = openSync(this.logFile(spec.name), 'a');
    try {
      const child = spawn(spec.command, spec.args, {
        detached: true,
        stdio: ['ignore', log, log],
        env: spec.env ?? process.env,
      });
      if (child.pid === undefined) throw new Error(`${spec.name}: ${spec.command} did not start`);
      child.unref();
      const startTime = processStartTime(child.pid);
      if (startTime === undefined) throw new Error(`${spec.name} exited at once; see ${this.logFile(spec.name)}`);
      const record: PidRecord = { pid: child.pid, startTime, command: [spec.command, ...spec.args].join(' ') };
      writeFileSync(this.pidFile(spec.name), `${JSON.stringify(record)}\n`);
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  private record(name: string): PidRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.pidFile(name), 'utf8')) as PidRecord;
    } catch {
      return undefined;
    }
  }

  /** The PID of a daemon that is still the process this tool started; undefined otherwise. */
  pid(name: string): number | undefined {
    const record = this.record(name);
    return record !== undefined && isAlive(record.pid, record.startTime) ? record.pid : undefined;
  }

  /** Names of every daemon with a pid file, in no particular order. */
  names(): string[] {
    if (!existsSync(this.pidDir)) return [];
    return readdirSync(this.pidDir)
      .filter((file) => file.endsWith('.pid'))
      .map((file) => file.slice(0, -'.pid'.length));
  }

  /** SIGTERM, then SIGKILL after graceMs; forgets the daemon. */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const record = this.record(name);
    if (record !== undefined) await terminate(record.pid, record.startTime, graceMs);
    rmSync(this.pidFile(name), { force: true });
  }
}

/** Ends one process this tool started: SIGTERM, SIGKILL after graceMs, and waits until it is gone. */
export async function terminate(pid: number, startTime: string | undefined, graceMs: number): Promise<void> {
  if (!isAlive(pid, startTime)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid, startTime) && Date.now() < deadline) await sleep(100);
  if (!isAlive(pid, startTime)) return;
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while (isAlive(pid, startTime) && Date.now() < killDeadline) await sleep(100);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone between the check and the signal.
  }
}
