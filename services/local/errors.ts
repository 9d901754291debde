// Straight from the module, not the barrel: the barrel loads pino and prom-client, which would add ~1 s to every CLI call.
import { FlotillaError } from '../shared/errors.js';

/**
 * Every failure of the local run has a stable code; main.ts maps them to exit
 * codes (2 for bad configuration, 1 for everything else).
 *
 * - LOCAL_ERR_CONFIG: a flag or environment variable has a bad value.
 * - LOCAL_ERR_PORT_IN_USE: a port the run needs is taken.
 * - LOCAL_ERR_NOT_BUILT: dist/ lacks a service entry point.
 * - LOCAL_ERR_ALREADY_RUNNING: another supervisor owns the data folder.
 * - LOCAL_ERR_POSTGRES: the embedded Postgres failed to initialise or start.
 * - LOCAL_ERR_MIGRATE: the worker migrations failed.
 * - LOCAL_ERR_START_TIMEOUT: a service did not become ready in time.
 * - LOCAL_ERR_STATE_FILE: the state file is missing or unreadable.
 */
export type LocalErrorCode =
  | 'LOCAL_ERR_CONFIG'
  | 'LOCAL_ERR_PORT_IN_USE'
  | 'LOCAL_ERR_NOT_BUILT'
  | 'LOCAL_ERR_ALREADY_RUNNING'
  | 'LOCAL_ERR_POSTGRES'
  | 'LOCAL_ERR_MIGRATE'
  | 'LOCAL_ERR_START_TIMEOUT'
  | 'LOCAL_ERR_STATE_FILE';

export class LocalError extends FlotillaError {
  declare readonly code: LocalErrorCode;

  constructor(code: LocalErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'LocalError';
  }
}
