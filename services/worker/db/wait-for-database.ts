import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { CrashBackoff, errorCode, type Logger } from '../../shared/index.js';
import type { DatabaseConfig } from '../config.js';
import { isConnectionError } from './pg-errors.js';
import { clientConfig } from './pool.js';

/**
 * Waits until Postgres accepts a connection, for at most `timeoutMs`.
 *
 * On Kubernetes the `migrate` initContainer usually starts before the
 * Postgres pod is ready. Failing at once sends the pod into CrashLoopBackOff
 * with a growing delay: on the real cluster every worker pod restarted its
 * initContainer three times and lost about 40 s. Only "the database is not
 * there yet" is waited out (refused, unresolvable, starting up); a wrong
 * password or a missing database fails at once.
 */
export async function waitForDatabase(config: DatabaseConfig, logger: Logger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const backoff = new CrashBackoff(250, 2_000, Number.POSITIVE_INFINITY);
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client(clientConfig(config, 'flotilla-migrate'));
    // A connection that dies after connect() would otherwise emit an unhandled 'error'.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      if (attempt > 1) logger.info({ attempt }, 'the database accepts connections');
      return;
    } catch (err) {
      const left = deadline - Date.now();
      if (!isConnectionError(err) || left <= 0) throw err;
      const delayMs = Math.min(backoff.next(0), left);
      logger.info({ attempt, code: errorCode(err), reason: (err as Error).message, retryInMs: delayMs }, 'waiting for the database');
      await sleep(delayMs);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
