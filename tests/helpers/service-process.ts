import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const HERE_UP_TWO = fileURLToPath(new URL('../..', import.meta.url));
/** The repository root, from the test sources (jest) or from their compiled copy under dist/ (the bench). */
export const REPO_ROOT = basename(HERE_UP_TWO) === 'dist' ? dirname(HERE_UP_TWO) : HERE_UP_TWO;

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Path of the compiled entry point, relative to the repository root. */
  readonly script: string;
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The JSON log line `msg` that says the service is up. */
  readonly readyMessage: string;
  readonly timeoutMs?: number;
}

/**
 * A service started as a real child process (`node dist/...`). Its stdout is
 * pino JSON; every line is kept for assertions, and the line whose msg is
 * `readyMessage` resolves start() with its fields (bound ports and so on).
 */
export class ServiceProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private exitStatus: ExitStatus | undefined;
  private readonly exited: Promise<ExitStatus>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolveExit(this.exitStatus);
      });
    });
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => this.lines.push(line));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => this.stderr.push(line));
  }

  static async start(options: SpawnOptions): Promise<{ process: ServiceProcess; ready: Record<string, unknown> }> {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, options.script), ...(options.args ?? [])], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child);
    const ready = await service.waitForLog((entry) => entry.msg === options.readyMessage, options.timeoutMs ?? 30_000);
    return { process: service, ready };
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('process has no pid');
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** Parsed JSON log lines (non-JSON lines are skipped). */
  entries(): Record<string, unknown>[] {
    const parsed: Record<string, unknown>[] = [];
    for (const line of this.lines) {
      try {
        parsed.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    return parsed;
  }

  /** Resolves with the first log entry that matches, rejecting on exit or timeout. */
  waitForLog(match: (entry: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return new Promise((resolveEntry, reject) => {
      const check = (): boolean => {
        const found = this.entries().find(match);
        if (found) {
          cleanup();
          resolveEntry(found);
          return true;
        }
        return false;
      };
      const onLine = (): void => void check();
      const onExit = (): void => {
        if (check()) return;
        cleanup();
        reject(new Error(`process exited (${JSON.stringify(this.exitStatus)}) before the expected log line:\n${this.describe()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line:\n${this.describe()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.stdout?.off('data', onLine);
        this.child.off('exit', onExit);
      };
      if (check()) return;
      this.child.stdout?.on('data', () => setImmediate(onLine));
      this.child.once('exit', () => setImmediate(onExit));
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  waitForExit(timeoutMs = 30_000): Promise<ExitStatus> {
    if (this.exitStatus) return Promise.resolve(this.exitStatus);
    return Promise.race([
      this.exited,
      new Promise<ExitStatus>((_, reject) =>
        setTimeout(() => reject(new Error(`process ${this.pid} did not exit in ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  /** SIGTERM, then SIGKILL if it does not exit in time. Safe to call twice. */
  async stop(timeoutMs = 15_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    // A paused (SIGSTOP) process cannot act on SIGTERM until it is continued.
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    try {
      return await this.waitForExit(timeoutMs);
    } catch {
      this.signal('SIGKILL');
      await once(this.child, 'exit').catch(() => undefined);
      return this.exited;
    }
  }

  describe(): string {
    return [...this.lines.slice(-15), ...this.stderr.slice(-15)].join('\n');
  }
}

/** Every process a test file starts, stopped in afterAll. */
export class ProcessGroup {
  private readonly members = new Set<ServiceProcess>();

  add<T extends ServiceProcess>(process: T): T {
    this.members.add(process);
    return process;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.members].map((member) => member.stop(5_000)));
    this.members.clear();
  }
}
