import type { Socket } from 'node:net';
import { errorCode } from '../../shared/index.js';
import type { BalancerErrorCode } from '../errors.js';
import type { BalancerMetrics } from '../metrics.js';
import { sendError, writeRawError } from './error-response.js';
import type { ProxyHandler } from './proxy-handler.js';

/** Maps a Node http parser or server error to the balancer's answer; undefined means just close. */
export function clientErrorAnswer(err: unknown): BalancerErrorCode | undefined {
  const code = errorCode(err) ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE') return undefined;
  if (code === 'HPE_HEADER_OVERFLOW') return 'LB_ERR_HEADERS_TOO_LARGE';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') return 'LB_ERR_REQUEST_TIMEOUT';
  // Every other llhttp error (HPE_*): conflicting Content-Length and
  // Transfer-Encoding, bad chunk sizes, invalid header syntax. RFC 9112 §6.3
  // requires a 400 and closing the connection, since the framing is unknown.
  return 'LB_ERR_BAD_REQUEST';
}

/**
 * The data server's `clientError` listener. A request that is already being
 * handled (a bad chunk in its body, a body that came too slowly) is answered
 * through its ServerResponse; an error in a request pipelined behind a fully
 * read one closes the connection after that one's answer; otherwise a raw
 * response goes on the socket.
 * Either way the connection closes, and nothing was forwarded upstream.
 */
export function createClientErrorListener(proxy: ProxyHandler, metrics: BalancerMetrics): (err: Error, socket: Socket) => void {
  return (err, socket) => {
    const code = clientErrorAnswer(err);
    if (code === undefined) {
      socket.destroy();
      return;
    }
    metrics.clientErrors.inc({ code });
    const res = proxy.responseFor(socket);
    if (res?.req.complete === true) {
      // The error is in a pipelined request after this one (RFC 9112 §9.3.2).
      // This request was read whole and may already be at a worker, so its
      // own answer must not be replaced by a 400 (a client could then retry
      // a POST that was applied): let it finish, then close the connection
      // without reading further.
      res.shouldKeepAlive = false;
      if (res.writableFinished) socket.destroy();
      else res.once('finish', () => socket.destroy());
      return;
    }
    if (res !== undefined) {
      if (!sendError(res, { code, close: true })) socket.destroy();
      else res.once('finish', () => socket.destroy());
      return;
    }
    writeRawError(socket, { code });
  };
}
