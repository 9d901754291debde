import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePortRange } from './free-port.js';
import { REPO_ROOT } from './service-process.js';

/** The parts of the supervisor's state file the tests read (services/local/state-file.ts). */
export interface RunState {
  status: string;
  supervisorPid: number;
  postgres: { pid?: number; port: number };
  balancer: { pid?: number; url: string; adminUrl: string };
  workers: { name: string; pid?: number; url: string; adminUrl: string; restarts: number }[];
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((done) => setTimeout(done, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Runs a compiled entry point to completion, capturing its output, with a hard time limit. */
function runToExit(script: string, args: readonly string[], env: Record<string, string>, timeoutMs: number, what: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, script), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${what} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Runs the real CLI (`node dist/services/client/main.js`) as a child process, with a hard time limit. */
export function runCli(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return runToExit('dist/services/client/main.js', args, env, timeoutMs, `flotilla ${args.join(' ')}`);
}

/** Runs the supervisor to completion (for start-up failures), with a hard time limit. */
export function runSupervisor(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runToExit('dist/services/local/main.js', args, env, 30_000, 'supervisor');
}

/**
 * The real `npm start` supervisor (`node dist/services/local/main.js`) on
 * free ports with a temporary data folder. stop() sends SIGINT (Ctrl-C);
 * destroy() also kills whatever is left, by the PIDs the run published, and
 * removes the folder.
 */
export class LocalRun {
  readonly output: string[] = [];
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly ports: { balancer: number; admin: number; worker: number; workerAdmin: number; postgres: number },
  ) {
    this.exited = new Promise((done) => child.once('exit', (code) => done((this.exitCode = code))));
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
  }

  static async start(workers = 3, extraArgs: readonly string[] = []): Promise<LocalRun> {
    const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-local-'));
    // Postgres runs as the "postgres" user when the tests run as root; it must enter the folder.
    chmodSync(dataDir, 0o755);
    const base = await freePortRange(2 * workers + 3);
    const ports = { balancer: base, admin: base + 1, postgres: base + 2, worker: base + 3, workerAdmin: base + 3 + workers };
    const args = [
      resolve(REPO_ROOT, 'dist/services/local/main.js'),
      `--workers=${workers}`,
      `--port=${ports.balancer}`,
      `--admin-port=${ports.admin}`,
      `--pg-port=${ports.postgres}`,
      `--worker-port=${ports.worker}`,
      `--worker-admin-port=${ports.workerAdmin}`,
      `--data-dir=${dataDir}`,
      '--restart-backoff-ms=200',
      ...extraArgs,
    ];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const run = new LocalRun(child, dataDir, ports);
    try {
      await waitFor('the local run to be ready', () => {
        if (run.exitCode !== undefined) throw new Error(`supervisor exited (${run.exitCode}):\n${run.log()}`);
        const state = run.state();
        return state?.status === 'ready' ? state : undefined;
      }, 120_000, 200);
    } catch (err) {
      await run.destroy();
      throw err;
    }
    return run;
  }

  get stateFile(): string {
    return join(this.dataDir, 'local-run.json');
  }

  get url(): string {
    return `http://127.0.0.1:${this.ports.balancer}`;
  }

  /** CLI environment pointing at this run. */
  cliEnv(): Record<string, string> {
    return { FLOTILLA_URL: this.url, FLOTILLA_STATE_FILE: this.stateFile };
  }

  state(): RunState | undefined {
    try {
      return JSON.parse(readFileSync(this.stateFile, 'utf8')) as RunState;
    } catch {
      return undefined;
    }
  }

  log(): string {
    return this.output.join('').split('\n').slice(-30).join('\n');
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Ctrl-C, then wait for the supervisor to exit. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    if (this.running) this.child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`supervisor did not exit within ${timeoutMs} ms:\n${this.log()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Best-effort cleanup for afterAll: SIGKILL the supervisor and every PID it published, remove the folder. */
  async destroy(): Promise<void> {
    const state = this.state();
    if (this.running) {
      await this.stop(45_000).catch(() => this.child.kill('SIGKILL'));
    }
    const pids = [state?.postgres.pid, state?.balancer.pid, ...(state?.workers.map((worker) => worker.pid) ?? [])];
    for (const pid of pids) {
      if (pid !== undefined && isAlive(pid)) process.kill(pid, pid === state?.postgres.pid ? 'SIGINT' : 'SIGKILL');
    }
    await waitFor('leftover processes to exit', () => (pids.every((pid) => pid === undefined || !isAlive(pid)) ? true : undefined), 15_000).catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
