import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { errorCode, type Logger } from '../../shared/index.js';
import type { DatabaseConfig } from '../config.js';
import { isConnectionError } from './pg-errors.js';
import { clientConfig } from './pool.js';
import { waitForDatabase } from './wait-for-database.js';

/** The SQL migrations ship next to the compiled code (the build copies them). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Applies pending migrations. node-pg-migrate holds a Postgres advisory lock
 * for the whole run; in `wait` mode a replica that starts at the same moment
 * blocks until the first has finished, then finds nothing to do. So many
 * replicas (or an initContainer plus replicas) can start together.
 */
export async function migrate(config: DatabaseConfig, logger: Logger): Promise<string[]> {
  const log = logger.child({ component: 'migrate' });
  // Our own client rather than a databaseUrl: node-pg-migrate's client has no
  // 'error' listener, so a connection cut mid-run (Postgres restarting) would
  // be an unhandled 'error' event that kills the process instead of a
  // rejected query that the caller can retry.
  const client = new pg.Client(clientConfig(config, 'flotilla-migrate'));
  client.on('error', (err) => log.warn({ code: errorCode(err), reason: err.message }, 'migration connection lost'));
  try {
    await client.connect();
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      advisoryLockMode: 'wait',
      singleTransaction: true,
      checkOrder: true,
      logger: {
        debug: (msg: string) => log.debug(msg),
        info: (msg: string) => log.info(msg),
        warn: (msg: string) => log.warn(msg),
        error: (msg: string) => log.error(msg),
      },
    });
    return applied.map((m) => m.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * `worker migrate`, the initContainer: waits for Postgres, migrates, and when
 * the connection is lost midway, waits and runs again, all within
 * `timeoutMs`. A rollout that changes the Postgres StatefulSet and the worker
 * Deployment in one apply restarts Postgres while the workers' initContainers
 * are migrating; failing then costs the pod a CrashLoopBackOff (seen on the
 * local cluster under skaffold). The run is one transaction
 * (singleTransaction), so a lost connection rolled it all back and the next
 * run starts from what is committed.
 */
export async function migrateWhenReachable(config: DatabaseConfig, logger: Logger, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await waitForDatabase(config, logger, Math.max(0, deadline - Date.now()));
    try {
      return await migrate(config, logger);
    } catch (err) {
      if (!isConnectionError(err) || Date.now() >= deadline) throw err;
      logger.warn({ code: errorCode(err), reason: (err as Error).message }, 'lost the database while migrating; running again once it is back');
    }
  }
}
