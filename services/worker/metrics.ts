import type pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import { HotHistogram, LATENCY_BUCKETS } from '../shared/index.js';

export interface WorkerMetrics {
  /** Observed on every request: a HotHistogram (shared/hot-metrics.ts), not prom-client's. */
  readonly httpDuration: HotHistogram<'method' | 'route' | 'status_code'>;
  readonly idempotentReplays: Counter<'route'>;
}

/** The worker's own series; pool gauges are read from the pool at scrape time. */
export function createWorkerMetrics(registry: Registry, pool: pg.Pool): WorkerMetrics {
  const httpDuration = new HotHistogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests on the data port, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const idempotentReplays = new Counter({
    name: 'worker_idempotent_replays_total',
    help: 'Requests answered from a stored response because their Idempotency-Key was seen before.',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'pg_pool_clients',
    help: 'Connections the Postgres pool holds (idle and in use).',
    registers: [registry],
    collect() {
      this.set(pool.totalCount);
    },
  });
  new Gauge({
    name: 'pg_pool_idle_clients',
    help: 'Idle connections in the Postgres pool.',
    registers: [registry],
    collect() {
      this.set(pool.idleCount);
    },
  });
  new Gauge({
    name: 'pg_pool_waiting_requests',
    help: 'Queries waiting for a free connection from the Postgres pool.',
    registers: [registry],
    collect() {
      this.set(pool.waitingCount);
    },
  });
  return { httpDuration, idempotentReplays };
}
