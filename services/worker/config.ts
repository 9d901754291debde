import { hostname } from 'node:os';
import { deepFreeze, EnvReader, LOG_LEVELS, readDiscoveryConfig, type DiscoveryConfig, type Env, type LogLevel } from '../shared/index.js';

export interface DatabaseConfig {
  /** Full libpq connection string; when absent the PG* fields are used. */
  readonly connectionString?: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  readonly poolMax: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /**
   * Postgres ends a session that sits inside a transaction doing nothing for
   * this long (idle_in_transaction_session_timeout), releasing its locks.
   */
  readonly idleInTransactionTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** How often readiness pings Postgres. */
  readonly healthIntervalMs: number;
}

export interface LimitsConfig {
  readonly keyMaxLength: number;
  readonly valueMaxBytes: number;
  readonly jsonMaxDepth: number;
  readonly pageDefault: number;
  readonly pageMax: number;
}

export interface WorkerConfig {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly adminPort: number;
  readonly logLevel: LogLevel;
  readonly database: DatabaseConfig;
  readonly limits: LimitsConfig;
  readonly migrateOnStart: boolean;
  /** How long `worker migrate` waits for Postgres to accept connections (0: not at all). */
  readonly migrateWaitMs: number;
  readonly drainDelayMs: number;
  readonly shutdownTimeoutMs: number;
  /** Must stay above the balancer's upstream idle timeout (keep-alive race). */
  readonly keepAliveTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idempotencyTtlHours: number;
  /** How long a write token's record is kept: longer than any balancer retries one request (TOTAL_TIMEOUT_MS). */
  readonly writeTokenTtlSeconds: number;
  /** Where /v1/cluster finds this worker's peers (static PEERS by default). */
  readonly discovery: DiscoveryConfig;
}

/** Parses the worker's environment once; throws a ConfigError naming every bad variable. */
export function parseWorkerConfig(env: Env): WorkerConfig {
  const r = new EnvReader(env);
  const connectionString = r.optionalString('DATABASE_URL');
  if (connectionString !== undefined && !/^postgres(ql)?:\/\//.test(connectionString)) {
    r.problem('DATABASE_URL: must start with postgres:// or postgresql://');
  }
  const password = r.optionalString('PGPASSWORD');
  const database: DatabaseConfig = {
    ...(connectionString !== undefined ? { connectionString } : {}),
    host: r.string('PGHOST', '127.0.0.1'),
    port: r.int('PGPORT', 5432, { min: 1, max: 65535 }),
    user: r.string('PGUSER', 'postgres'),
    ...(password !== undefined ? { password } : {}),
    database: r.string('PGDATABASE', 'flotilla'),
    poolMax: r.int('PG_POOL_MAX', 10, { min: 1, max: 1000 }),
    connectTimeoutMs: r.int('PG_CONNECT_TIMEOUT_MS', 2_000, { min: 100, max: 120_000 }),
    statementTimeoutMs: r.int('PG_STATEMENT_TIMEOUT_MS', 5_000, { min: 100, max: 600_000 }),
    // A transaction's statements follow each other as fast as the event loop
    // turns, so a session idle inside one for seconds belongs to a worker
    // that hangs (SIGSTOP, a stuck node). Its row locks stall every other
    // worker's write to those rows until this ends it: shorter than the
    // balancer's per-try timeout (5 s), so a retry finds the rows free.
    idleInTransactionTimeoutMs: r.int('PG_IDLE_IN_TRANSACTION_TIMEOUT_MS', 2_000, { min: 100, max: 600_000 }),
    idleTimeoutMs: r.int('PG_IDLE_TIMEOUT_MS', 10_000, { min: 1_000, max: 3_600_000 }),
    healthIntervalMs: r.int('PG_HEALTH_INTERVAL_MS', 1_000, { min: 100, max: 60_000 }),
  };
  const limits: LimitsConfig = {
    keyMaxLength: r.int('KEY_MAX_LENGTH', 256, { min: 1, max: 4096 }),
    valueMaxBytes: r.int('VALUE_MAX_BYTES', 1_048_576, { min: 16, max: 64 * 1_048_576 }),
    jsonMaxDepth: r.int('JSON_MAX_DEPTH', 32, { min: 1, max: 1000 }),
    pageDefault: r.int('PAGE_DEFAULT_LIMIT', 100, { min: 1, max: 10_000 }),
    pageMax: r.int('PAGE_MAX_LIMIT', 1_000, { min: 1, max: 10_000 }),
  };
  if (limits.pageDefault > limits.pageMax) r.problem('PAGE_DEFAULT_LIMIT: must not exceed PAGE_MAX_LIMIT');

  const config: WorkerConfig = {
    id: r.string('WORKER_ID', r.string('POD_NAME', `${hostname()}-${process.pid}`)),
    host: r.string('HOST', '0.0.0.0'),
    port: r.port('PORT', 8080),
    adminPort: r.port('ADMIN_PORT', 9090),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    database,
    limits,
    migrateOnStart: r.bool('MIGRATE_ON_START', true),
    migrateWaitMs: r.int('MIGRATE_WAIT_MS', 120_000, { min: 0, max: 3_600_000 }),
    drainDelayMs: r.int('DRAIN_DELAY_MS', 5_000, { min: 0, max: 300_000 }),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 25_000, { min: 1_000, max: 600_000 }),
    keepAliveTimeoutMs: r.int('KEEP_ALIVE_TIMEOUT_MS', 72_000, { min: 1_000, max: 600_000 }),
    requestTimeoutMs: r.int('REQUEST_TIMEOUT_MS', 30_000, { min: 1_000, max: 600_000 }),
    idempotencyTtlHours: r.int('IDEMPOTENCY_TTL_HOURS', 24, { min: 1, max: 24 * 365 }),
    writeTokenTtlSeconds: r.int('WRITE_TOKEN_TTL_SECONDS', 600, { min: 60, max: 86_400 }),
    discovery: readDiscoveryConfig(r, 'PEERS'),
  };
  if (config.port !== 0 && config.port === config.adminPort) r.problem('ADMIN_PORT: must differ from PORT');
  if (config.drainDelayMs >= config.shutdownTimeoutMs) {
    r.problem('DRAIN_DELAY_MS: must be shorter than SHUTDOWN_TIMEOUT_MS');
  }
  r.finish();
  return deepFreeze(config);
}
