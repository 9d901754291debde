import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface Readiness {
  readonly ready: boolean;
  /** Why the service is not ready (shown in the 503 body). */
  readonly reason?: string;
}

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface AdminServerOptions {
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
  /** Extra GET routes by exact path, such as the balancer's /admin/upstreams. */
  readonly routes?: Readonly<Record<string, AdminHandler>>;
  /**
   * The /metrics body when it is not simply `registry.metrics()` (the
   * balancer's cluster primary aggregates its workers' registries); served
   * with `registry.contentType`. A rejection answers 503.
   */
  readonly metricsText?: () => Promise<string>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

/**
 * The admin port both services expose: /livez, /readyz, /metrics and any
 * extra routes. It is a plain node:http server, separate from the data port,
 * so probes and scrapes keep answering while the data port is saturated.
 * Liveness never looks at dependencies: a database blip must not restart
 * every pod (only readiness does).
 */
export function createAdminServer(options: AdminServerOptions): Server {
  const { registry, readiness, logger, routes = {}, metricsText } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'FLT_ERR_METHOD_NOT_ALLOWED', message: 'admin endpoints accept GET only' } });
      return;
    }
    const handle = async (): Promise<void> => {
      if (path === '/livez') {
        sendJson(res, 200, { status: 'ok' });
      } else if (path === '/readyz') {
        const state = readiness();
        if (state.ready) sendJson(res, 200, { status: 'ready' });
        else sendJson(res, 503, { status: 'not ready', reason: state.reason ?? 'unknown' });
      } else if (path === '/metrics') {
        let body: string;
        try {
          body = metricsText !== undefined ? await metricsText() : await registry.metrics();
        } catch (err) {
          if (metricsText === undefined) throw err;
          logger.warn({ err }, 'metrics not available');
          sendJson(res, 503, { error: { code: 'FLT_ERR_METRICS_UNAVAILABLE', message: (err as Error).message } });
          return;
        }
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      } else {
        const route = routes[path];
        if (route) await route(req, res);
        else sendJson(res, 404, { error: { code: 'FLT_ERR_NOT_FOUND', message: `no admin route ${path}` } });
      }
    };
    handle().catch((err: unknown) => {
      logger.error({ err, path }, 'admin request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'FLT_ERR_ADMIN', message: 'admin handler failed' } });
      else res.destroy();
    });
  });
  // Probes are tiny; keep slow or idle clients from holding sockets open.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

/** Listens and resolves with the bound port (useful with port 0 in tests). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Stops accepting, ends idle keep-alive sockets, and resolves once every socket is gone. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
