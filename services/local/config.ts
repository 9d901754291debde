import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { deepFreeze, LOG_LEVELS, type Env, type LogLevel } from '../shared/index.js';
import { LocalError } from './errors.js';

export interface LocalConfig {
  readonly workers: number;
  readonly balancerPort: number;
  readonly balancerAdminPort: number;
  /** Worker i (0-based) listens on workerPort + i and workerAdminPort + i. */
  readonly workerPort: number;
  readonly workerAdminPort: number;
  readonly postgresPort: number;
  /** Absolute; holds postgres/, logs/ and the state file. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly restartBackoffMs: number;
  readonly restartBackoffMaxMs: number;
  readonly startTimeoutMs: number;
}

export type LocalCommand = { readonly kind: 'help' } | { readonly kind: 'run'; readonly config: LocalConfig };

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly fallback: string;
}

/** One table drives parsing, validation messages and --help, so they cannot drift apart. */
export const LOCAL_SETTINGS = {
  workers: { flag: 'workers', env: 'FLOTILLA_WORKERS', fallback: '3', help: 'number of worker processes (1..32)' },
  port: { flag: 'port', env: 'FLOTILLA_PORT', fallback: '8080', help: 'balancer data port' },
  adminPort: { flag: 'admin-port', env: 'FLOTILLA_ADMIN_PORT', fallback: '9090', help: 'balancer admin port (/admin/upstreams, /metrics)' },
  workerPort: { flag: 'worker-port', env: 'FLOTILLA_WORKER_PORT', fallback: '8081', help: 'first worker data port; worker i uses port + i' },
  workerAdminPort: { flag: 'worker-admin-port', env: 'FLOTILLA_WORKER_ADMIN_PORT', fallback: '9091', help: 'first worker admin port; worker i uses port + i' },
  postgresPort: { flag: 'pg-port', env: 'FLOTILLA_PG_PORT', fallback: '54329', help: 'embedded Postgres port (127.0.0.1 only)' },
  dataDir: { flag: 'data-dir', env: 'FLOTILLA_DATA_DIR', fallback: '.data', help: 'folder for Postgres data, logs and the state file (kept between runs)' },
  logLevel: { flag: 'log-level', env: 'FLOTILLA_LOG_LEVEL', fallback: 'info', help: `log level of the services (${LOG_LEVELS.join(', ')})` },
  restartBackoffMs: { flag: 'restart-backoff-ms', env: 'FLOTILLA_RESTART_BACKOFF_MS', fallback: '500', help: 'first delay before restarting a crashed process; doubles per crash' },
  restartBackoffMaxMs: { flag: 'restart-backoff-max-ms', env: 'FLOTILLA_RESTART_BACKOFF_MAX_MS', fallback: '15000', help: 'longest delay between restarts' },
  startTimeoutMs: { flag: 'start-timeout-ms', env: 'FLOTILLA_START_TIMEOUT_MS', fallback: '60000', help: 'how long each part may take to become ready' },
} as const satisfies Record<string, Setting>;

type SettingName = keyof typeof LOCAL_SETTINGS;

/**
 * Parses `npm start -- [flags]` and the FLOTILLA_* environment once. A flag
 * wins over its variable; every bad value is reported in one LOCAL_ERR_CONFIG.
 */
export function parseLocalCommand(argv: readonly string[], env: Env, cwd: string): LocalCommand {
  const options = Object.fromEntries(
    Object.values(LOCAL_SETTINGS).map((setting) => [setting.flag, { type: 'string' as const }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (err) {
    throw new LocalError('LOCAL_ERR_CONFIG', `${(err as Error).message} (see --help)`, { cause: err });
  }
  if (parsed.values.help === true) return { kind: 'help' };

  const problems: string[] = [];
  const raw = (name: SettingName): { value: string; label: string } => {
    const setting = LOCAL_SETTINGS[name];
    const flagValue = parsed.values[setting.flag];
    if (typeof flagValue === 'string') return { value: flagValue, label: `--${setting.flag}` };
    const envValue = env[setting.env];
    if (envValue !== undefined && envValue !== '') return { value: envValue, label: setting.env };
    return { value: setting.fallback, label: `--${setting.flag}` };
  };
  const int = (name: SettingName, min: number, max: number): number => {
    const { value, label } = raw(name);
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
      problems.push(`${label}: "${value}" must be an integer in ${min}..${max}`);
      return Number(LOCAL_SETTINGS[name].fallback);
    }
    return number;
  };

  const workers = int('workers', 1, 32);
  const balancerPort = int('port', 1, 65535);
  const balancerAdminPort = int('adminPort', 1, 65535);
  const workerPort = int('workerPort', 1, 65535 - workers + 1);
  const workerAdminPort = int('workerAdminPort', 1, 65535 - workers + 1);
  const postgresPort = int('postgresPort', 1, 65535);
  const logLevelRaw = raw('logLevel');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelRaw.value)) {
    problems.push(`${logLevelRaw.label}: "${logLevelRaw.value}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const dataDirRaw = raw('dataDir');
  if (dataDirRaw.value.trim() === '') problems.push(`${dataDirRaw.label}: must not be empty`);
  const restartBackoffMs = int('restartBackoffMs', 10, 600_000);
  const restartBackoffMaxMs = int('restartBackoffMaxMs', 10, 3_600_000);
  if (restartBackoffMaxMs < restartBackoffMs) problems.push('--restart-backoff-max-ms: must be >= --restart-backoff-ms');
  const startTimeoutMs = int('startTimeoutMs', 1_000, 600_000);

  // The static upstream list names fixed ports, so every port must be distinct.
  const ports = new Map<number, string>();
  const claim = (port: number, owner: string): void => {
    const other = ports.get(port);
    if (other !== undefined) problems.push(`port ${port} is used twice (${other} and ${owner})`);
    else ports.set(port, owner);
  };
  claim(balancerPort, 'balancer');
  claim(balancerAdminPort, 'balancer admin');
  claim(postgresPort, 'postgres');
  for (let i = 0; i < workers; i += 1) {
    claim(workerPort + i, `worker ${i + 1}`);
    claim(workerAdminPort + i, `worker ${i + 1} admin`);
  }
  if (problems.length > 0) {
    throw new LocalError('LOCAL_ERR_CONFIG', `invalid local-run configuration:\n  - ${problems.join('\n  - ')}`);
  }
  const dataDir = isAbsolute(dataDirRaw.value) ? dataDirRaw.value : resolve(cwd, dataDirRaw.value);
  return {
    kind: 'run',
    config: deepFreeze({
      workers,
      balancerPort,
      balancerAdminPort,
      workerPort,
      workerAdminPort,
      postgresPort,
      dataDir,
      logLevel: logLevelRaw.value as LogLevel,
      restartBackoffMs,
      restartBackoffMaxMs,
      startTimeoutMs,
    }),
  };
}

export function localUsage(): string {
  const rows = Object.values(LOCAL_SETTINGS).map(
    (s) => `  --${s.flag.padEnd(24)} ${s.env.padEnd(32)} ${s.help} (default ${s.fallback})`,
  );
  return [
    'Usage: npm start -- [flags]',
    '',
    'Runs Flotilla locally: an embedded Postgres, N workers and the balancer.',
    'Ctrl-C stops everything. Each flag can also be set by its environment variable.',
    '',
    `  ${'flag'.padEnd(26)} ${'environment'.padEnd(32)} meaning`,
    ...rows,
    '',
  ].join('\n');
}
