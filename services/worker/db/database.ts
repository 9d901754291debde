import type pg from 'pg';
import { errorCode, type Logger } from '../../shared/index.js';
import { WorkerError } from '../errors.js';
import { isConnectionError, isQueryTimeout, isRetryableTransactionError } from './pg-errors.js';

/**
 * Whether a transaction may run again after its connection died mid-way.
 * - `rerunnable`: running it twice has the effect of running it once (reads,
 *   unconditional upserts, anything guarded by an Idempotency-Key row or a
 *   write token).
 * - `once`: a second run could apply twice or answer wrongly (a conditional
 *   write whose first run may have committed): only retried when the failure
 *   happened before anything was sent.
 */
export type RerunSafety = 'rerunnable' | 'once';

export interface DatabaseOptions {
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly healthIntervalMs: number;
  readonly connectTimeoutMs: number;
  /** Attempts for one transaction, counting the first. */
  readonly maxAttempts?: number;
}

type Health = { readonly up: true } | { readonly up: false; readonly reason: string };

/**
 * The worker's only way to Postgres: transactions with safe retries, and a
 * health view that readiness and fail-fast use. When Postgres is away,
 * requests get a 503 at once instead of waiting in the pool's queue; a
 * background ping notices the return, so the worker recovers without a restart.
 */
export class Database {
  private health: Health = { up: false, reason: 'database not checked yet' };
  private timer: NodeJS.Timeout | undefined;
  private readonly maxAttempts: number;

  constructor(private readonly options: DatabaseOptions) {
    this.maxAttempts = options.maxAttempts ?? 3;
    // pg emits 'error' on a client whose connection dies; on a checked-out
    // client (the pool listens only to idle ones) that would crash the
    // process without a listener. One listener per connection, for its
    // life, rather than one added and removed per request: the query that
    // was running, or the next one, fails with the same error, and
    // withClient() marks the database down from that.
    options.pool.on('connect', (client) => client.on('error', ignoreReportedElsewhere));
  }

  get pool(): pg.Pool {
    return this.options.pool;
  }

  isUp(): boolean {
    return this.health.up;
  }

  downReason(): string | undefined {
    return this.health.up ? undefined : this.health.reason;
  }

  /** Pings now, then every healthIntervalMs until stop(). */
  async startHealthChecks(): Promise<void> {
    await this.ping();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.ping().finally(() => {
          if (this.timer !== undefined) tick();
        });
      }, this.options.healthIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  stopHealthChecks(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async ping(): Promise<boolean> {
    try {
      await this.options.pool.query('SELECT 1');
      this.markUp();
    } catch (err) {
      this.markDown(err);
    }
    return this.health.up;
  }

  private markUp(): void {
    if (!this.health.up) this.options.logger.info('database reachable');
    this.health = { up: true };
  }

  private markDown(err: unknown): void {
    const reason = `database unreachable: ${err instanceof Error ? err.message : String(err)}`;
    if (this.health.up) this.options.logger.warn({ reason }, 'database unreachable');
    this.health = { up: false, reason };
  }

  /** Runs fn inside BEGIN/COMMIT with the retries its safety allows. */
  transaction<T>(safety: RerunSafety, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(safety, fn, true);
  }

  /**
   * Runs fn's statements without BEGIN/COMMIT, each atomic on its own: one
   * round trip per statement instead of three, for work whose statements
   * need no shared transaction (a read, a single-statement write).
   */
  statements<T>(safety: RerunSafety, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(safety, fn, false);
  }

  private async withClient<T>(safety: RerunSafety, fn: (client: pg.PoolClient) => Promise<T>, transactional: boolean): Promise<T> {
    if (!this.health.up) {
      throw new WorkerError('WRK_ERR_DB_UNAVAILABLE', this.health.reason);
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.options.pool.connect();
      } catch (err) {
        // Nothing was sent: always safe to try again.
        lastError = err;
        // A pool-queue timeout (no code) means saturation, not an absent database.
        if (isConnectionError(err) && errorCode(err) !== undefined) this.markDown(err);
        if (!this.health.up) break;
        await backoff(attempt);
        continue;
      }
      let sent = false;
      try {
        if (transactional) await client.query('BEGIN');
        sent = true;
        const result = await fn(client);
        if (transactional) await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        lastError = err;
        const broken = isConnectionError(err) || isQueryTimeout(err);
        if (broken) {
          client.release(err instanceof Error ? err : true);
        } else {
          if (transactional) await client.query('ROLLBACK').catch(() => undefined);
          client.release();
        }
        if (isRetryableTransactionError(err)) {
          await backoff(attempt);
          continue;
        }
        if (err instanceof WorkerError || !broken) throw err;
        if (isConnectionError(err)) this.markDown(err);
        if (sent && safety === 'once') break;
        await backoff(attempt);
      }
    }
    throw toUnavailable(lastError);
  }
}

function ignoreReportedElsewhere(): void {}

function backoff(attempt: number): Promise<void> {
  // 25 ms, 50 ms, 100 ms … with full jitter, so retries from many requests spread out.
  const ms = Math.random() * 25 * 2 ** (attempt - 1);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toUnavailable(err: unknown): WorkerError {
  if (err instanceof WorkerError) return err;
  if (isQueryTimeout(err)) {
    return new WorkerError('WRK_ERR_DB_TIMEOUT', 'the database did not answer in time', { cause: err });
  }
  if (isConnectionError(err)) {
    return new WorkerError('WRK_ERR_DB_UNAVAILABLE', 'the database is unavailable; the outcome of a write in flight is unknown', {
      cause: err,
    });
  }
  return new WorkerError('WRK_ERR_INTERNAL', 'internal error', { cause: err });
}
