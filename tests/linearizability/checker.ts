import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/service-process.js';
import type { RecordedRequest } from './history.js';

const run = promisify(execFile);
const SOURCE_DIR = join(REPO_ROOT, 'tests', 'linearizability', 'checker');
/** Outside the repo, like the other Go tools the tests build. */
const BINARY = join(homedir(), '.cache', 'flotilla-go', 'linearizability-checker');

export interface CheckReport {
  readonly result: 'ok' | 'illegal' | 'unknown';
  readonly operations: number;
  readonly unknown: number;
  readonly keys: number;
  /** Per key that cannot be linearized: the first request that cannot follow the longest linearization. */
  readonly violations?: readonly string[];
  /** porcupine's visualization of an illegal history. */
  readonly html?: string;
}

let built: Promise<string> | undefined;

/**
 * Builds the porcupine harness in tests/linearizability/checker (Go, its own
 * go.mod; the module comes from the Go module proxy on the first build).
 */
export function buildChecker(): Promise<string> {
  built ??= (async () => {
    await mkdir(join(BINARY, '..'), { recursive: true });
    try {
      await run('go', ['build', '-o', BINARY, '.'], { cwd: SOURCE_DIR, timeout: 180_000, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' } });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`building the linearizability checker (go build in ${SOURCE_DIR}) failed: ${stderr.trim() || String(err)}`);
    }
    return BINARY;
  })();
  return built;
}

/**
 * Checks a recorded history with porcupine. A history that is not
 * linearizable is kept, with porcupine's visualization beside it, in a
 * temporary folder the report names (unless keepIllegal is false);
 * otherwise nothing stays behind.
 */
export async function checkLinearizable(history: readonly RecordedRequest[], options: { readonly keepIllegal?: boolean } = {}): Promise<CheckReport> {
  const binary = await buildChecker();
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-history-'));
  const historyFile = join(dir, 'history.json');
  await writeFile(historyFile, JSON.stringify(history));
  let stdout: string;
  try {
    ({ stdout } = await run(binary, ['-history', historyFile, '-html', join(dir, 'history.html'), '-timeout', '120s'], { timeout: 180_000, maxBuffer: 16 << 20 }));
  } catch (err) {
    // Exit 1 (illegal) and 2 (unknown) still print the report.
    stdout = (err as { stdout?: string }).stdout ?? '';
    if (stdout.trim() === '') throw err;
  }
  const report = JSON.parse(stdout) as CheckReport;
  if (report.result === 'ok' || options.keepIllegal === false) await rm(dir, { recursive: true, force: true });
  return report;
}
