export { LocalError, type LocalErrorCode } from './errors.js';
export { parseLocalCommand, localUsage, LOCAL_SETTINGS, type LocalConfig, type LocalCommand } from './config.js';
export { LocalSupervisor, DATABASE_NAME, type SupervisorDeps } from './supervisor.js';
export {
  readStateFile,
  stateFilePath,
  isProcessAlive,
  STATE_FILE_NAME,
  type LocalRunState,
  type ProcessState,
} from './state-file.js';
