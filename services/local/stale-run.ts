import { readFileSync } from 'node:fs';
import { LocalError } from './errors.js';
import { isProcessAlive, readStateFile, removeStateFile, type LocalRunState } from './state-file.js';

/** The command line of a PID on Linux; undefined where /proc is not available. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** Only signal a leftover PID that still runs one of our programs, never a reused PID. */
function isOurs(pid: number, marker: string): boolean {
  const command = commandLine(pid);
  return command !== undefined && command.includes(marker);
}

/**
 * Before starting, look at the state file a previous run left. A live
 * supervisor owns the folder (refuse to start); a dead one that crashed
 * without cleaning up may have left children behind, which hold the ports and
 * the Postgres lock file: stop those, then start fresh.
 */
export async function cleanUpStaleRun(path: string, log: (message: string) => void): Promise<void> {
  let state: LocalRunState | undefined;
  try {
    state = readStateFile(path);
  } catch (err) {
    log(`ignoring an unreadable state file: ${(err as Error).message}`);
    removeStateFile(path);
    return;
  }
  if (state === undefined) return;
  if (state.supervisorPid !== process.pid && isProcessAlive(state.supervisorPid) && isOurs(state.supervisorPid, 'services/local/main.js')) {
    throw new LocalError(
      'LOCAL_ERR_ALREADY_RUNNING',
      `another local run (supervisor pid ${state.supervisorPid}) uses ${state.dataDir}; stop it first, or pass another --data-dir`,
    );
  }
  const leftovers: { pid: number; signal: NodeJS.Signals }[] = [];
  for (const service of [state.balancer, ...state.workers]) {
    if (service.pid !== undefined && isProcessAlive(service.pid) && isOurs(service.pid, 'dist/services/')) {
      leftovers.push({ pid: service.pid, signal: 'SIGKILL' });
    }
  }
  if (state.postgres.pid !== undefined && isProcessAlive(state.postgres.pid) && isOurs(state.postgres.pid, 'postgres')) {
    // SIGINT is Postgres's fast shutdown: it stays consistent, unlike SIGKILL.
    leftovers.push({ pid: state.postgres.pid, signal: 'SIGINT' });
  }
  for (const { pid, signal } of leftovers) {
    log(`stopping pid ${pid} left over from a run that did not stop cleanly`);
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
  const deadline = Date.now() + 15_000;
  while (leftovers.some(({ pid }) => isProcessAlive(pid)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  removeStateFile(path);
}
