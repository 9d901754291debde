import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout and stderr are appended here, so the terminal stays readable. */
  readonly logFile: string;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * One child process. It runs in its own process group (detached) so a
 * terminal Ctrl-C reaches only the supervisor, which then stops the parts in
 * order: workers and balancer first, Postgres last. Its output goes straight
 * to a log file descriptor, so a slow or dead supervisor never blocks it.
 */
export class ManagedChild {
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    // A spawn error (ENOENT, EACCES) arrives as 'error' without 'exit'.
    child.once('error', () => {
      if (this.exitInfo === undefined && child.pid === undefined) {
        this.exitInfo = { code: 127, signal: null };
        child.emit('exit', 127, null);
      }
    });
  }

  static spawn(spec: ChildSpec): ManagedChild {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, 'a');
    try {
      const options: SpawnOptions = {
        cwd: spec.cwd,
        env: spec.env,
        stdio: ['ignore', fd, fd],
        detached: true,
        ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      };
      return new ManagedChild(spawn(spec.command, [...spec.args], options));
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
  }

  get pid(): number | undefined {
    return this.running ? this.child.pid : undefined;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, signal);
    } catch {
      // Already gone: the exit event follows.
    }
  }

  /** Sends `signal`, then SIGKILL when the process outlives `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    // A paused (SIGSTOP, e.g. by `load --chaos stop`) process cannot act on a signal until continued.
    this.signal('SIGCONT');
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.signal('SIGKILL');
      return this.exited;
    }
    return outcome;
  }
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`;
}
