import type { FastifyReply } from 'fastify';
import type { LimitsConfig } from '../config.js';
import type { CounterRepository } from '../db/counter-repository.js';
import type { Database } from '../db/database.js';
import type { IdempotentResult } from '../db/idempotency.js';
import type { KvRepository } from '../db/kv-repository.js';
import type { WorkerMetrics } from '../metrics.js';

/** What the API routes need, passed in explicitly (no singletons). */
export interface RouteContext {
  readonly db: Database;
  readonly kv: KvRepository;
  readonly counters: CounterRepository;
  readonly limits: LimitsConfig;
  readonly metrics: WorkerMetrics;
}

export interface WriteHeaders {
  'idempotency-key'?: string;
  /** The balancer's own token for one client request, the same on each of its tries (write-tokens.ts). */
  'flotilla-write-token'?: string;
  'if-match'?: string;
  'if-none-match'?: string;
}

/** Sends a (possibly replayed) stored response; replays are marked and counted. */
export function sendStored(reply: FastifyReply, result: IdempotentResult, context: RouteContext, route: string): FastifyReply {
  const { response, replayed } = result;
  if (replayed) {
    context.metrics.idempotentReplays.inc({ route });
    void reply.header('idempotent-replayed', 'true');
  }
  void reply.headers(response.headers).code(response.statusCode);
  return response.body === null ? reply.send() : reply.send(response.body);
}
