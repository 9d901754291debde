import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { BalancerConfig } from '../config.js';
import type { RedirectConfig } from './tls-config.js';

/** A host as RFC 3986 §3.2.2 allows it (reg-name, IPv4, [IPv6]), then an optional port. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * Where a plain-HTTP request is sent: the same host and target over https,
 * on `httpsPort` (left out when 443). Undefined when the Host field is
 * missing or not a plain host: the Location must not carry what a client
 * smuggled into Host (RFC 9110 §7.2).
 */
export function redirectLocation(host: string | undefined, target: string | undefined, httpsPort: number): string | undefined {
  if (host === undefined) return undefined;
  const match = HOST.exec(host);
  const name = match?.[1];
  if (name === undefined) return undefined;
  const path = target !== undefined && target.startsWith('/') ? target : '/';
  return `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`;
}

/**
 * The optional plain-HTTP listener (BALANCER_HTTP_REDIRECT_PORT): it never
 * proxies, it answers every request with 308 Permanent Redirect to https
 * (308, not 301, so that a PUT stays a PUT; RFC 9110 §15.4.9). A request
 * body is not read: the connection closes after the answer. Same header
 * limits and timeouts as the data port.
 */
export function createRedirectServer(redirect: RedirectConfig, config: BalancerConfig): Server {
  const server = createServer(
    {
      maxHeaderSize: config.limits.maxHeaderBytes,
      headersTimeout: config.timeouts.clientHeaderMs,
      requestTimeout: config.timeouts.clientRequestMs,
      keepAliveTimeout: config.timeouts.clientKeepAliveMs,
      connectionsCheckingInterval: Math.min(1_000, config.timeouts.clientHeaderMs),
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const location = redirectLocation(req.headers.host, req.url, redirect.httpsPort);
      const status = location === undefined ? 400 : 308;
      const body = location === undefined ? 'a Host header is required\n' : `${location}\n`;
      res.writeHead(status, {
        ...(location !== undefined ? { location } : {}),
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        connection: 'close',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  );
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
