import { join } from 'node:path';
import type { Env } from '../shared/index.js';
import { usageError } from './errors.js';
import { parseBaseUrl, parseDuration } from './values.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9090';

/** Options every command takes; a flag wins over its environment variable. */
export interface GlobalOptions {
  readonly url: string;
  /** Undefined: take it from the local run's state file, else DEFAULT_ADMIN_URL. */
  readonly adminUrl: string | undefined;
  readonly stateFile: string;
  readonly timeoutMs: number | undefined;
  readonly json: boolean;
}

export const GLOBAL_FLAGS = {
  url: { type: 'string' },
  'admin-url': { type: 'string' },
  'state-file': { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface GlobalFlagValues {
  readonly url?: string | undefined;
  readonly 'admin-url'?: string | undefined;
  readonly 'state-file'?: string | undefined;
  readonly timeout?: string | undefined;
  readonly json?: boolean | undefined;
}

/** Resolves flags against FLOTILLA_URL, FLOTILLA_ADMIN_URL, FLOTILLA_STATE_FILE / FLOTILLA_DATA_DIR and FLOTILLA_TIMEOUT. */
export function resolveGlobalOptions(flags: GlobalFlagValues, env: Env, cwd: string): GlobalOptions {
  const pick = (flag: string | undefined, name: string): { value: string; label: string } | undefined => {
    if (flag !== undefined) return { value: flag, label: `--${name}` };
    const variable = `FLOTILLA_${name.toUpperCase().replaceAll('-', '_')}`;
    const fromEnv = env[variable];
    return fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, label: variable } : undefined;
  };
  const url = pick(flags.url, 'url');
  const adminUrl = pick(flags['admin-url'], 'admin-url');
  const timeout = pick(flags.timeout, 'timeout');
  const stateFile = pick(flags['state-file'], 'state-file');
  const dataDir = env.FLOTILLA_DATA_DIR;
  if (flags['state-file'] === '') throw usageError('--state-file: must not be empty');
  return {
    url: url === undefined ? DEFAULT_URL : parseBaseUrl(url.label, url.value),
    adminUrl: adminUrl === undefined ? undefined : parseBaseUrl(adminUrl.label, adminUrl.value),
    stateFile: stateFile?.value ?? join(dataDir !== undefined && dataDir !== '' ? dataDir : join(cwd, '.data'), 'local-run.json'),
    timeoutMs: timeout === undefined ? undefined : parseDuration('timeout', timeout.value),
    json: flags.json === true,
  };
}
