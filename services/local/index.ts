// What other services (the CLI) may use: the state file a local run publishes.
// Kept free of the supervisor's imports (pg, Postgres binaries) so the CLI starts fast.
export { LocalError, type LocalErrorCode } from './errors.js';
export {
  readStateFile,
  stateFilePath,
  isProcessAlive,
  STATE_FILE_NAME,
  type LocalRunState,
  type ProcessState,
} from './state-file.js';
