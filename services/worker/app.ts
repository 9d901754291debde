import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { EndpointSource, Logger } from '../shared/index.js';
import type { WorkerConfig } from './config.js';
import { CounterRepository } from './db/counter-repository.js';
import type { Database } from './db/database.js';
import { KvRepository } from './db/kv-repository.js';
import { handleError } from './error-handler.js';
import { errorBody } from './errors.js';
import type { WorkerMetrics } from './metrics.js';
import { registerClusterRoutes, type ClusterIdentity } from './routes/cluster.js';
import { registerCounterRoutes } from './routes/counters.js';
import { registerKvRoutes } from './routes/kv.js';
import { requestLoggerFactory } from './request-logger.js';
import { buildSchemas } from './schemas.js';

export interface WorkerAppDeps {
  readonly logger: Logger;
  readonly db: Database;
  readonly metrics: WorkerMetrics;
  readonly peers: EndpointSource;
  readonly identity: ClusterIdentity;
  /** True once the worker drains: responses then close their connection. */
  readonly isDraining: () => boolean;
  /** True once the listener is closing: new requests are refused, unprocessed. */
  readonly isClosing: () => boolean;
}

/** A request id we keep from the client: short and from a safe alphabet, so it is harmless in logs. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFor(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

/** Builds the data-port app (unstarted): routes, validation, errors, request ids and metrics. */
export function buildWorkerApp(config: WorkerConfig, deps: WorkerAppDeps): FastifyInstance {
  const { limits } = config;
  // Typed as fastify's logger interface so the routes take the plain FastifyInstance.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    genReqId: requestIdFor,
    childLoggerFactory: requestLoggerFactory,
    requestIdLogLabel: 'requestId',
    disableRequestLogging: true,
    // Room for the {"value": …} envelope around the largest allowed value;
    // the value itself is measured exactly after parsing.
    bodyLimit: limits.valueMaxBytes + 4_096,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    // Our own hook below answers in the API's error format instead.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: limits.keyMaxLength * 12 },
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  });

  // The hooks run on every request, so they take fastify's callback form:
  // an async hook costs a promise and its microtasks per request and hook.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    if (!deps.isClosing()) {
      done();
      return;
    }
    // A request that arrives on a kept-alive connection after the listener
    // closed: refuse it before any work, so the client may send it elsewhere.
    // The header tells the balancer the request was not processed. Replying
    // from a callback hook ends the request there: done() is not called.
    void reply
      .code(503)
      .header('retry-after', '1')
      .header('x-flotilla-not-processed', '1')
      .send(errorBody('WRK_ERR_DRAINING', 'this worker is shutting down; the request was not processed'));
  });
  // While draining, every response ends its keep-alive connection, so clients
  // reconnect elsewhere and the server can close without waiting for idle
  // sockets to time out.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (deps.isDraining()) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    // A route may name itself for metrics (the kv wildcard route keeps `/v1/kv/:key`).
    const route = (request.routeOptions.config as { metricsRoute?: string }).metricsRoute ?? request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    const level = reply.statusCode >= 500 ? 'warn' : 'debug';
    // Skips building the line's fields when the level is off (debug, by default).
    if (deps.logger.isLevelEnabled(level)) {
      request.log[level]({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
    }
    done();
  });

  // The API speaks JSON only: a text/plain body is a 415, not a string value.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('WRK_ERR_ROUTE_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });

  const schemas = buildSchemas(limits);
  const context = { db: deps.db, kv: new KvRepository(), counters: new CounterRepository(), limits, metrics: deps.metrics };
  registerKvRoutes(app, context, schemas);
  registerCounterRoutes(app, context, schemas);
  registerClusterRoutes(app, deps.identity, deps.peers);
  return app;
}
