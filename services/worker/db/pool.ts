import pg from 'pg';
import type { Logger } from '../../shared/index.js';
import type { DatabaseConfig } from '../config.js';

/** The pg client settings for one connection (pool and migrations share them). */
export function clientConfig(config: DatabaseConfig, applicationName: string): pg.ClientConfig {
  const base: pg.ClientConfig = config.connectionString
    ? { connectionString: config.connectionString }
    : {
        host: config.host,
        port: config.port,
        user: config.user,
        database: config.database,
        ...(config.password !== undefined ? { password: config.password } : {}),
      };
  return {
    ...base,
    application_name: applicationName,
    connectionTimeoutMillis: config.connectTimeoutMs,
    // Server-side limit per statement, and a client-side one a little later
    // in case the server cannot even answer (network partition).
    statement_timeout: config.statementTimeoutMs,
    query_timeout: config.statementTimeoutMs + 1_000,
    idle_in_transaction_session_timeout: config.idleInTransactionTimeoutMs,
    keepAlive: true,
  };
}

/**
 * A bounded pool. Idle clients whose connection dies (Postgres restart) emit
 * 'error' on the pool; without a listener that would crash the process.
 */
export function createPool(config: DatabaseConfig, logger: Logger, applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(config, applicationName),
    max: config.poolMax,
    idleTimeoutMillis: config.idleTimeoutMs,
    allowExitOnIdle: false,
  });
  pool.on('error', (err) => {
    logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database connection failed');
  });
  return pool;
}
