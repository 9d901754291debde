import { isProcessAlive, readStateFile, type LocalRunState } from '../local/index.js';
import { CliError } from './errors.js';

/** The running local system's state, or a clear error saying how to start one. */
export function requireLocalRun(stateFile: string): LocalRunState {
  let state: LocalRunState | undefined;
  try {
    state = readStateFile(stateFile);
  } catch (err) {
    throw new CliError('CLI_ERR_NO_LOCAL_RUN', (err as Error).message, { cause: err });
  }
  if (state === undefined || !isProcessAlive(state.supervisorPid)) {
    throw new CliError(
      'CLI_ERR_NO_LOCAL_RUN',
      `no local run found (${stateFile}); --chaos works only against \`npm start\` on this machine (or pass --state-file)`,
    );
  }
  return state;
}

/** The local run's state when one is up, else undefined (never throws). */
export function findLocalRun(stateFile: string): LocalRunState | undefined {
  try {
    const state = readStateFile(stateFile);
    return state !== undefined && isProcessAlive(state.supervisorPid) ? state : undefined;
  } catch {
    return undefined;
  }
}
