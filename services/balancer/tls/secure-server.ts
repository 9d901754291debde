import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../shared/index.js';
import type { BalancerConfig } from '../config.js';
import type { BalancerMetrics } from '../metrics.js';
import type { ClientRequest, ClientResponse } from '../proxy/client-protocol.js';
import { secureContextOptions, type CertificatePair } from './certificate-pair.js';
import { Http2SessionGuard } from './http2-session-guard.js';
import type { TlsConfig } from './tls-config.js';

export interface SecureServerHandlers {
  readonly request: (req: ClientRequest, res: ClientResponse) => void;
  /** HTTP/1.1 Upgrade over TLS (WebSocket), as on the plain listener. */
  readonly upgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
  /** HTTP/1.1 parse errors, as on the plain listener. */
  readonly clientError: (err: Error, socket: Socket) => void;
  /** A new HTTP/1.1 connection after its handshake (the first-request timer). */
  readonly http1Connection: (socket: TLSSocket) => void;
  readonly http1Request: (req: IncomingMessage) => void;
}

/**
 * The settings node:http's Server takes as options. With allowHTTP1, node:http2
 * hands HTTP/1.1 connections to node:http's connection listener with the
 * Http2SecureServer as `this` (lib/internal/http2/core.js), which reads these
 * as plain properties; createSecureServer takes none of them as options.
 */
interface Http1Settings {
  maxHeaderSize: number;
  maxHeadersCount: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  requireHostHeader: boolean;
  connectionsCheckingInterval: number;
}

/**
 * The TLS data listener: node:http2's secure server with allowHTTP1, so ALPN
 * picks h2 or http/1.1 (RFC 7301) and both reach the same proxy handler. TLS
 * 1.2 and 1.3 only, the configured ciphers, client certificates required and
 * verified when a CA file is set. HTTP/2 limits follow the HTTP/1.1 ones:
 * SETTINGS_MAX_HEADER_LIST_SIZE is MAX_HEADER_BYTES (Node resets a stream
 * over it with ENHANCE_YOUR_CALM), header pairs are bounded, a session's
 * memory is bounded, and each session gets an Http2SessionGuard.
 */
export class SecureDataServer {
  readonly server: Http2SecureServer;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly http1Sockets = new Set<TLSSocket>();

  constructor(config: BalancerConfig & { readonly tls: TlsConfig }, pair: CertificatePair, handlers: SecureServerHandlers, metrics: BalancerMetrics, logger: Logger) {
    const { tls, limits, timeouts } = config;
    const mutual = tls.caFile !== undefined;
    this.server = createSecureServer({
      ...secureContextOptions(pair, { minVersion: tls.minVersion, ciphers: tls.ciphers }),
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      requestCert: mutual,
      rejectUnauthorized: mutual,
      // A client that stalls in the handshake holds a socket like a silent one.
      handshakeTimeout: timeouts.clientHeaderMs,
      settings: {
        maxConcurrentStreams: tls.http2.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderBytes,
        enablePush: false,
      },
      // Twice the field limit plus the pseudo-headers: past MAX_HEADER_COUNT
      // the proxy answers 431 itself; this bounds what Node buffers first.
      maxHeaderListPairs: limits.maxHeaderCount * 2 + 4,
      maxSessionMemory: tls.http2.maxSessionMemoryMb,
    });
    const http1 = this.server as unknown as Http1Settings;
    http1.maxHeaderSize = limits.maxHeaderBytes;
    // node:http drops fields past this silently; the proxy's own count (431) needs them all.
    http1.maxHeadersCount = limits.maxHeaderCount + 1;
    http1.headersTimeout = timeouts.clientHeaderMs;
    http1.requestTimeout = timeouts.clientRequestMs;
    http1.keepAliveTimeout = timeouts.clientKeepAliveMs;
    http1.requireHostHeader = true;
    http1.connectionsCheckingInterval = Math.min(1_000, timeouts.clientHeaderMs);

    this.server.on('secureConnection', (socket: TLSSocket) => {
      metrics.tlsHandshakes.inc({ result: 'ok' });
      if (socket.alpnProtocol === 'h2') return;
      this.http1Sockets.add(socket);
      socket.once('close', () => this.http1Sockets.delete(socket));
      handlers.http1Connection(socket);
    });
    this.server.on('tlsClientError', (err: Error & { code?: string }) => {
      // Wrong protocol version, no shared cipher, a client certificate
      // refused, a handshake past its timeout: the socket is already closed.
      metrics.tlsHandshakes.inc({ result: 'failed' });
      logger.debug({ err: { message: err.message, code: err.code } }, 'TLS handshake failed');
    });
    this.server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      new Http2SessionGuard(
        session,
        { settingsTimeoutMs: tls.http2.settingsTimeoutMs, firstStreamMs: timeouts.clientHeaderMs, idleMs: timeouts.clientKeepAliveMs, maxResetsPer10s: tls.http2.maxResetsPer10s },
        metrics,
        logger,
      );
    });
    // Protocol errors of one session (a flood nghttp2 refused, bad frames):
    // Node has already sent GOAWAY and destroys the session.
    this.server.on('sessionError', (err: Error) => logger.debug({ err: { message: err.message } }, 'HTTP/2 session error'));
    this.server.on('request', (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse) => {
      if (!('stream' in req)) handlers.http1Request(req);
      handlers.request(req, res as ClientResponse);
    });
    this.server.on('upgrade', handlers.upgrade);
    this.server.on('clientError', handlers.clientError);
  }

  /** Installs a new certificate for new handshakes (certificate-reloader.ts). */
  setSecureContext(options: Parameters<Http2SecureServer['setSecureContext']>[0]): void {
    this.server.setSecureContext(options);
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  /**
   * Stops accepting and tells every HTTP/2 client to go elsewhere (graceful
   * GOAWAY: streams in progress finish). Resolves once every connection is
   * gone; closeAll() ends what is left after the in-flight requests.
   */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
    for (const session of this.sessions) if (!session.closed) session.close();
    return closed;
  }

  /** Ends every connection still open (idle HTTP/1.1 keep-alive, sessions past their GOAWAY). */
  closeAll(): void {
    for (const session of this.sessions) session.destroy();
    for (const socket of this.http1Sockets) socket.destroy();
  }
}
