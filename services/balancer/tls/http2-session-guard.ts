import { constants as h2, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Logger } from '../../shared/index.js';
import type { BalancerMetrics } from '../metrics.js';

export interface SessionGuardOptions {
  /** The client must ACK our SETTINGS within this. */
  readonly settingsTimeoutMs: number;
  /** A new connection must open its first stream within this (CLIENT_HEADER_TIMEOUT_MS). */
  readonly firstStreamMs: number;
  /** A connection with no open stream for this long is closed (CLIENT_KEEP_ALIVE_TIMEOUT_MS). */
  readonly idleMs: number;
  /** Streams the client may cancel per 10 s. */
  readonly maxResetsPer10s: number;
}

type GoawayReason = 'reset_flood' | 'settings_timeout' | 'idle';

const GOAWAY_CODE: Record<GoawayReason, number> = {
  reset_flood: h2.NGHTTP2_ENHANCE_YOUR_CALM,
  settings_timeout: h2.NGHTTP2_SETTINGS_TIMEOUT,
  idle: h2.NGHTTP2_NO_ERROR,
};

/**
 * Per-connection defences of the HTTP/2 listener that Node's options do not
 * give:
 * - SETTINGS timeout (RFC 9113 §6.5.3): a client that never acknowledges
 *   our SETTINGS (so never agreed to our limits) is closed.
 * - Idle connections: Node's session timeout counts any frame, so a client
 *   sending PINGs would hold a connection for ever; here idle means no open
 *   stream, for `firstStreamMs` after connecting (the HTTP/2 side of the
 *   silent-connection defence in proxy/first-request-timer.ts) and for
 *   `idleMs` after the last stream.
 * - Rapid reset (CVE-2023-44487): every cancelled stream costs us a request
 *   (and perhaps an upstream try) but does not count against
 *   maxConcurrentStreams. nghttp2 1.57+ (Node ≥ 20.8.1) sends GOAWAY only
 *   after a burst of 1000 resets, then 33 per second; a token bucket of
 *   `maxResetsPer10s` per 10 s is far tighter, and a client past it gets
 *   GOAWAY(ENHANCE_YOUR_CALM) and is closed. Browsers cancel streams now and
 *   then (navigation), not hundreds a second.
 */
export class Http2SessionGuard {
  private openStreams = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private settingsTimer: NodeJS.Timeout | undefined;
  private tokens: number;
  private refilledAt = performance.now();
  private closed = false;

  constructor(
    private readonly session: ServerHttp2Session,
    private readonly options: SessionGuardOptions,
    private readonly metrics: BalancerMetrics,
    private readonly logger: Logger,
  ) {
    this.tokens = options.maxResetsPer10s;
    this.settingsTimer = setTimeout(() => this.goaway('settings_timeout'), options.settingsTimeoutMs);
    this.settingsTimer.unref();
    // 'localSettings' is emitted when the client's ACK of our SETTINGS arrives.
    session.once('localSettings', () => clearTimeout(this.settingsTimer));
    session.on('stream', this.onStream);
    session.once('close', () => this.dispose());
    this.armIdle(options.firstStreamMs);
  }

  private readonly onStream = (stream: ServerHttp2Stream): void => {
    this.openStreams += 1;
    clearTimeout(this.idleTimer);
    stream.once('aborted', this.onAborted);
    stream.once('close', () => {
      this.openStreams -= 1;
      if (this.openStreams === 0) this.armIdle(this.options.idleMs);
    });
  };

  /** A stream the client reset before our response ended (RST_STREAM from its side). */
  private readonly onAborted = (): void => {
    const now = performance.now();
    const perMs = this.options.maxResetsPer10s / 10_000;
    this.tokens = Math.min(this.options.maxResetsPer10s, this.tokens + (now - this.refilledAt) * perMs);
    this.refilledAt = now;
    this.tokens -= 1;
    if (this.tokens < 0) this.goaway('reset_flood');
  };

  private armIdle(ms: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.openStreams === 0) this.goaway('idle');
    }, ms);
    this.idleTimer.unref();
  }

  private goaway(reason: GoawayReason): void {
    if (this.closed || this.session.destroyed) return;
    this.closed = true;
    this.metrics.http2Goaways.inc({ reason });
    const socket = this.session.socket;
    const fields = { reason, remoteAddress: socket?.remoteAddress, openStreams: this.openStreams };
    if (reason === 'idle') this.logger.debug(fields, 'HTTP/2 connection idle; closing');
    else this.logger.warn(fields, 'HTTP/2 connection misbehaved; sent GOAWAY and closed it');
    try {
      this.session.goaway(GOAWAY_CODE[reason]);
    } catch {
      // The session closed in between; nothing to tell the client.
    }
    if (reason === 'idle') this.session.close();
    // Not at once: the GOAWAY frame should leave first (destroy() would drop it).
    else setImmediate(() => this.session.destroy());
  }

  private dispose(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.settingsTimer);
  }
}
