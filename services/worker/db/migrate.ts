import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../../shared/index.js';
import type { DatabaseConfig } from '../config.js';
import { clientConfig } from './pool.js';

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
  const applied = await runner({
    databaseUrl: clientConfig(config, 'flotilla-migrate'),
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
}
