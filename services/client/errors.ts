// Straight from the module, not the barrel: the barrel loads pino and prom-client, which would add ~1 s to every CLI call.
import { FlotillaError } from '../shared/errors.js';

/**
 * Coded CLI failures; main.ts prints `flotilla: <message>` and exits with the
 * code's exit status.
 *
 * - CLI_ERR_USAGE: unknown command, missing argument or bad flag value (exit 2).
 * - CLI_ERR_UNREACHABLE: nothing answers at the URL (exit 1).
 * - CLI_ERR_TIMEOUT: the server did not answer in time (exit 1).
 * - CLI_ERR_HTTP: the server answered with an error status (exit 1).
 * - CLI_ERR_NOT_FOUND: the key does not exist (exit 1).
 * - CLI_ERR_BAD_RESPONSE: the answer was not what the API promises (exit 1).
 * - CLI_ERR_NO_LOCAL_RUN: --chaos needs a running `npm start` (exit 2).
 * - CLI_ERR_CHECK_FAILED: `load --check` found a broken guarantee (exit 3).
 */
export type CliErrorCode =
  | 'CLI_ERR_USAGE'
  | 'CLI_ERR_UNREACHABLE'
  | 'CLI_ERR_TIMEOUT'
  | 'CLI_ERR_HTTP'
  | 'CLI_ERR_NOT_FOUND'
  | 'CLI_ERR_BAD_RESPONSE'
  | 'CLI_ERR_NO_LOCAL_RUN'
  | 'CLI_ERR_CHECK_FAILED';

const EXIT_CODES: Record<CliErrorCode, number> = {
  CLI_ERR_USAGE: 2,
  CLI_ERR_UNREACHABLE: 1,
  CLI_ERR_TIMEOUT: 1,
  CLI_ERR_HTTP: 1,
  CLI_ERR_NOT_FOUND: 1,
  CLI_ERR_BAD_RESPONSE: 1,
  CLI_ERR_NO_LOCAL_RUN: 2,
  CLI_ERR_CHECK_FAILED: 3,
};

export class CliError extends FlotillaError {
  declare readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CliError';
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function usageError(message: string): CliError {
  return new CliError('CLI_ERR_USAGE', message);
}
