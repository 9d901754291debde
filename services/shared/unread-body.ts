import type { IncomingMessage } from 'node:http';

export interface UnreadBodyLimits {
  /** Past this many dropped bytes the connection is destroyed. */
  readonly maxBytes: number;
  /** Past this the connection is destroyed, however little arrived. */
  readonly timeoutMs: number;
}

/** Enough for any body a client sends before it reads our 413 (Node's fetch sends 16 MiB whole), bounded. */
export const UNREAD_BODY_LIMITS: UnreadBodyLimits = { maxBytes: 64 * 1_048_576, timeoutMs: 10_000 };

/**
 * Reads and drops what is left of a request body after an early final
 * answer (a 413 sent before the body arrived), so that the answer reaches
 * the client. A socket closed while unread data sits in its receive buffer
 * makes the kernel send a reset, and the reset can destroy the answer before
 * the client has read it: a client still uploading sees EPIPE or ECONNRESET
 * instead of the 413 (a balancer in front turned that into a 502 and ejected
 * a healthy worker). This is the lingering close of RFC 9112 §9.6; once the
 * body has ended the connection may even serve the next request. The answer
 * must not carry `Connection: close` (Node would close at once). A client
 * that keeps sending past the limits loses the connection.
 */
export function dropUnreadBody(req: IncomingMessage, limits: UnreadBodyLimits = UNREAD_BODY_LIMITS): void {
  if (req.complete || req.destroyed) return;
  let dropped = 0;
  const timer = setTimeout(() => req.socket.destroy(), limits.timeoutMs);
  timer.unref();
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped <= limits.maxBytes) return;
    stop();
    req.socket.destroy();
  };
  req.on('data', onData);
  req.once('end', stop);
  req.once('close', stop);
  req.resume();
}
