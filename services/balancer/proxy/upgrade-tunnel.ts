import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../shared/index.js';
import type { BalancerConfig } from '../config.js';
import type { BalancerMetrics } from '../metrics.js';
import type { Picker } from '../pick/index.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import type { UpstreamTable } from '../upstream/upstream-table.js';
import { writeRawError } from './error-response.js';
import { addForwardingHeaders, clientAddress, forwardableHeaders, requestIdFrom, type HeaderMap } from './headers.js';
import { upstreamPath } from './request-target.js';

export interface TunnelDeps {
  readonly config: BalancerConfig;
  readonly table: UpstreamTable;
  readonly picker: Picker;
  readonly metrics: BalancerMetrics;
  readonly logger: Logger;
}

const KEEP_UPGRADE = new Set(['upgrade']);

function requestHead(method: string, path: string, headers: HeaderMap): string {
  const lines = [`${method} ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Upgrade requests (WebSocket and others, RFC 9110 §7.8) are tunnelled as
 * raw TCP: the balancer re-sends the request head to a picked endpoint with
 * `Connection: upgrade` and the Upgrade field kept (they are hop-by-hop, so
 * this hop sets them again), then pipes bytes both ways. The endpoint's
 * answer, 101 or not, reaches the client unchanged. A connection that
 * cannot be opened is retried on another endpoint (nothing was sent yet).
 */
export class UpgradeTunnels {
  private readonly open = new Set<Socket>();

  constructor(private readonly deps: TunnelDeps) {}

  get count(): number {
    return this.open.size / 2;
  }

  readonly handle = (req: IncomingMessage, client: Socket, head: Buffer): void => {
    client.on('error', () => client.destroy());
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const path = upstreamPath(req.url);
    if (path === undefined) {
      writeRawError(client, { code: 'LB_ERR_BAD_REQUEST', requestId });
      return;
    }
    const headers = forwardableHeaders(req.rawHeaders, new Set(), KEEP_UPGRADE);
    headers['connection'] = 'upgrade';
    addForwardingHeaders(headers, { clientIp: clientAddress(client.remoteAddress), host: req.headers.host, requestId, proto: this.deps.config.tls === undefined ? 'http' : 'https' });
    const tried = new Set<string>();
    const attempt = (): void => {
      const { endpoints } = this.deps.table.candidates();
      const exclude = new Set(tried);
      for (const e of endpoints) if (e.inFlight >= this.deps.config.limits.maxInFlightPerEndpoint) exclude.add(e.id);
      const upstream = this.deps.picker.pick(endpoints, { exclude });
      if (upstream === undefined || tried.size >= this.deps.config.retry.maxAttempts) {
        writeRawError(client, { code: tried.size > 0 ? 'LB_ERR_UPSTREAM_UNAVAILABLE' : 'LB_ERR_NO_ENDPOINTS', requestId, retryAfterSeconds: this.deps.config.limits.retryAfterSeconds });
        return;
      }
      tried.add(upstream.id);
      this.open_(upstream, client, requestHead(req.method ?? 'GET', path, headers), head, requestId, attempt);
    };
    attempt();
  };

  private open_(upstream: UpstreamEndpoint, client: Socket, requestHeadText: string, head: Buffer, requestId: string, retry: () => void): void {
    const { config, metrics, table, logger } = this.deps;
    const server = connect({ host: upstream.endpoint.host, port: upstream.endpoint.port });
    let connected = false;
    const connectTimer = setTimeout(() => server.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), config.timeouts.connectMs);
    server.once('error', (err) => {
      clearTimeout(connectTimer);
      if (connected) return;
      table.recordFailure(upstream, `upgrade connect: ${err.message}`);
      if (client.destroyed) return;
      retry();
    });
    server.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      if (client.destroyed) {
        server.destroy();
        return;
      }
      upstream.inFlight += 1;
      metrics.tunnels.inc();
      this.open.add(client).add(server);
      server.on('error', () => client.destroy());
      client.on('error', () => server.destroy());
      const closeBoth = (): void => {
        if (!this.open.has(server)) return;
        this.open.delete(client);
        this.open.delete(server);
        upstream.inFlight -= 1;
        metrics.tunnels.dec();
        client.destroy();
        server.destroy();
      };
      server.once('close', closeBoth);
      client.once('close', closeBoth);
      server.setNoDelay(true);
      client.setNoDelay(true);
      server.write(requestHeadText);
      if (head.length > 0) server.write(head);
      server.pipe(client);
      client.pipe(server);
      logger.debug({ requestId, upstream: upstream.id }, 'upgrade tunnel open');
    });
  }

  /** Ends every tunnel: the last step of a drain, since tunnels may live for hours. */
  closeAll(): void {
    for (const socket of this.open) socket.destroy();
  }
}
