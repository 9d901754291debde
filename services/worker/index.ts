export { parseWorkerConfig, type WorkerConfig, type DatabaseConfig, type LimitsConfig } from './config.js';
export { WorkerService, type WorkerAddresses } from './worker.js';
export { buildWorkerApp } from './app.js';
export { migrate, MIGRATIONS_DIR } from './db/migrate.js';
export { WORKER_ERRORS, WorkerError, type WorkerErrorCode } from './errors.js';
