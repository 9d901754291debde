import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import {
  closeServer,
  createAdminServer,
  createMetricsRegistry,
  delay,
  listen,
  createEndpointSource,
  type EndpointSource,
  type Logger,
  type Readiness,
} from '../shared/index.js';
import { buildWorkerApp } from './app.js';
import type { WorkerConfig } from './config.js';
import { Database } from './db/database.js';
import { deleteExpiredKeys } from './db/idempotency.js';
import { deleteExpiredTokens } from './db/write-tokens.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { createWorkerMetrics } from './metrics.js';

type Phase = 'starting' | 'migrating' | 'serving' | 'draining' | 'closing' | 'stopped';

export interface WorkerAddresses {
  readonly port: number;
  readonly adminPort: number;
}

/**
 * One worker process: admin port first (so probes answer while Postgres is
 * still away), then migrations, then the data port. stop() is the graceful
 * shutdown: readiness fails at once, traffic keeps flowing for the drain
 * delay (endpoint removal takes time to spread), then the listener closes,
 * in-flight requests finish and the pool closes.
 */
export class WorkerService {
  private phase: Phase = 'starting';
  private readonly db: Database;
  private readonly app: FastifyInstance;
  private readonly admin: Server;
  private readonly peers: EndpointSource;
  private readonly cleanupTimers: NodeJS.Timeout[] = [];
  private readonly stopping = new AbortController();

  constructor(
    private readonly config: WorkerConfig,
    private readonly logger: Logger,
  ) {
    const registry = createMetricsRegistry();
    const pool = createPool(config.database, logger, `flotilla-worker-${config.id}`);
    this.db = new Database({
      pool,
      logger: logger.child({ component: 'db' }),
      healthIntervalMs: config.database.healthIntervalMs,
      connectTimeoutMs: config.database.connectTimeoutMs,
    });
    this.peers = createEndpointSource(config.discovery, logger);
    this.app = buildWorkerApp(config, {
      logger,
      db: this.db,
      metrics: createWorkerMetrics(registry, pool),
      peers: this.peers,
      identity: { id: config.id, startedAt: new Date().toISOString() },
      isDraining: () => this.phase === 'draining' || this.phase === 'closing' || this.phase === 'stopped',
      isClosing: () => this.phase === 'closing' || this.phase === 'stopped',
    });
    this.admin = createAdminServer({ registry, logger, readiness: () => this.readiness() });
  }

  readiness(): Readiness {
    if (this.phase !== 'serving') return { ready: false, reason: this.phase };
    if (!this.db.isUp()) return { ready: false, reason: this.db.downReason() ?? 'database unreachable' };
    return { ready: true };
  }

  async start(): Promise<WorkerAddresses> {
    const adminPort = await listen(this.admin, this.config.adminPort, this.config.host);
    this.logger.info({ adminPort }, 'admin listening');
    if (this.config.migrateOnStart) {
      this.phase = 'migrating';
      await this.migrateWithRetry();
    }
    if (this.stopping.signal.aborted) throw new Error('stopped during start-up');
    await this.db.startHealthChecks();
    await this.peers.start();
    await this.app.listen({ port: this.config.port, host: this.config.host });
    const address = this.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : this.config.port;
    this.phase = 'serving';
    this.scheduleKeyCleanup();
    this.logger.info({ port, adminPort, id: this.config.id }, 'worker listening');
    return { port, adminPort };
  }

  /** Postgres may start after the worker (a fresh cluster): keep trying, with capped backoff. */
  private async migrateWithRetry(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const applied = await migrate(this.config.database, this.logger);
        if (applied.length > 0) this.logger.info({ applied }, 'migrations applied');
        return;
      } catch (err) {
        if (this.stopping.signal.aborted) throw err;
        const wait = Math.min(5_000, 200 * 2 ** Math.min(attempt, 5));
        this.logger.warn({ attempt, wait, error: (err as Error).message }, 'migrations failed; retrying');
        await delay(wait, this.stopping.signal);
      }
    }
  }

  /**
   * Expired Idempotency-Keys every 10 minutes (kept for hours), expired write
   * tokens every minute (kept for minutes, one per PUT or DELETE through the
   * balancer). Every worker runs it; a pass that finds nothing is one index scan.
   */
  private scheduleKeyCleanup(): void {
    const every = (intervalMs: number, what: string, level: 'info' | 'debug', purge: () => Promise<number>): void => {
      const timer = setInterval(() => {
        purge()
          .then((deleted) => {
            if (deleted > 0) this.logger[level]({ deleted }, `expired ${what}s deleted`);
          })
          .catch((err: unknown) => this.logger.debug({ error: (err as Error).message }, `${what} cleanup skipped`));
      }, intervalMs);
      timer.unref();
      this.cleanupTimers.push(timer);
    };
    every(10 * 60_000, 'idempotency key', 'info', () => deleteExpiredKeys(this.db.pool, this.config.idempotencyTtlHours));
    every(60_000, 'write token', 'debug', () => deleteExpiredTokens(this.db.pool, this.config.writeTokenTtlSeconds));
  }

  async stop(drainDelayMs = this.config.drainDelayMs): Promise<void> {
    this.stopping.abort();
    this.phase = 'draining';
    this.logger.info({ drainDelayMs }, 'draining: readiness is now failing');
    await delay(drainDelayMs);
    for (const timer of this.cleanupTimers.splice(0)) clearInterval(timer);
    this.phase = 'closing';
    // fastify waits for in-flight requests and closes idle keep-alive sockets.
    await this.app.close();
    this.db.stopHealthChecks();
    await this.peers.stop();
    await this.db.pool.end();
    this.phase = 'stopped';
    await closeServer(this.admin);
  }
}
