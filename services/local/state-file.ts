import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LocalError } from './errors.js';

export const STATE_FILE_NAME = 'local-run.json';

export interface ProcessState {
  readonly name: string;
  /** Undefined while the process is down (between a crash and its restart). */
  readonly pid: number | undefined;
  readonly url: string;
  readonly adminUrl: string;
  readonly restarts: number;
}

/**
 * What a running supervisor publishes for other tools: the CLI finds the
 * balancer and, for `load --chaos`, the worker PIDs here. Rewritten on every
 * restart so PIDs stay current; removed on a clean stop.
 */
export interface LocalRunState {
  readonly version: 1;
  readonly status: 'starting' | 'ready' | 'stopping';
  readonly supervisorPid: number;
  readonly startedAt: string;
  readonly dataDir: string;
  readonly postgres: { readonly pid: number | undefined; readonly port: number };
  readonly balancer: ProcessState;
  readonly workers: readonly ProcessState[];
}

export function stateFilePath(dataDir: string): string {
  return join(dataDir, STATE_FILE_NAME);
}

/** Write-then-rename, so a reader never sees half a file. */
export function writeStateFile(path: string, state: LocalRunState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, path);
}

export function removeStateFile(path: string): void {
  rmSync(path, { force: true });
}

/** The state of a local run, or undefined when there is no state file. */
export function readStateFile(path: string): LocalRunState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LocalError('LOCAL_ERR_STATE_FILE', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LocalError('LOCAL_ERR_STATE_FILE', `${path} is not valid JSON`, { cause: err });
  }
  if (!isLocalRunState(parsed)) {
    throw new LocalError('LOCAL_ERR_STATE_FILE', `${path} is not a Flotilla local-run state file (version 1)`);
  }
  return parsed;
}

function isProcessState(value: unknown): value is ProcessState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.pid === undefined || typeof v.pid === 'number') && typeof v.url === 'string' && typeof v.name === 'string';
}

function isLocalRunState(value: unknown): value is LocalRunState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.version === 1 &&
    typeof v.supervisorPid === 'number' &&
    isProcessState(v.balancer) &&
    Array.isArray(v.workers) &&
    v.workers.every(isProcessState)
  );
}

/** True when a process with this PID exists (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
