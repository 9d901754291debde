import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface RunOptions {
  /** Every command has a deadline; past it the command is killed and the run fails. */
  readonly timeoutMs: number;
  readonly input?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Append stdout and stderr to this file instead of keeping them (long builds). */
  readonly logFile?: string;
  /** Exit codes that count as success (default: 0 only). */
  readonly okCodes?: readonly number[];
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandError extends Error {
  readonly code = 'CLUSTER_ERR_COMMAND';

  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`${command} ${exitCode === null ? 'timed out' : `exited with ${exitCode}`}${output === '' ? '' : `:\n${output}`}`);
    this.name = 'CommandError';
  }
}

const TAIL_LINES = 25;

function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
}

/** Runs a command to its end and returns what it printed; throws CommandError on failure or timeout. */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const shown = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    if (log !== undefined) {
      log.write(`\n$ ${shown}\n`);
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
    } else {
      child.stdout.on('data', (chunk: string) => (stdout += chunk));
      child.stderr.on('data', (chunk: string) => (stderr += chunk));
    }
    // A command that exits without reading its input is no failure of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(shown, null, err.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const finish = (): void => {
        const exitCode = timedOut ? null : (code ?? -1);
        if (exitCode !== null && (options.okCodes ?? [0]).includes(exitCode)) {
          resolve({ code: exitCode, stdout, stderr });
          return;
        }
        const output = log !== undefined ? `(log: ${options.logFile})\n${tail(readFileSync(options.logFile ?? '', 'utf8'))}` : tail(`${stdout}\n${stderr}`);
        reject(new CommandError(shown, exitCode, output));
      };
      if (log !== undefined) log.end(finish);
      else finish();
    });
  });
}

/** Whether a command exits 0 (within its deadline); never throws. */
export async function succeeds(file: string, args: readonly string[], timeoutMs = 30_000): Promise<boolean> {
  try {
    await run(file, args, { timeoutMs });
    return true;
  } catch {
    return false;
  }
}
