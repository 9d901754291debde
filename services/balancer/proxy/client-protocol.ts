import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse, constants as h2 } from 'node:http2';
import type { Writable } from 'node:stream';
import { dropUnreadBody } from '../../shared/index.js';

/**
 * A client request as the proxy handler sees it: node:http's for HTTP/1.1
 * (plain, or over TLS through http2's allowHTTP1), or node:http2's
 * compatibility objects for HTTP/2. Both are streams with the same fields
 * the handler reads (method, url, headers, rawHeaders, complete); what
 * differs between the protocols is kept in this module.
 */
export type ClientRequest = IncomingMessage | Http2ServerRequest;
export type ClientResponse = ServerResponse | Http2ServerResponse;

export function isHttp2(req: ClientRequest): req is Http2ServerRequest {
  return req instanceof Http2ServerRequest;
}

/** The label value of balancer_protocol_requests_total: the ALPN names (RFC 7301), "http/1.1" also for plain HTTP. */
export function protocolLabel(req: ClientRequest): 'h2' | 'http/1.1' {
  return isHttp2(req) ? 'h2' : 'http/1.1';
}

/**
 * The request's authority: Host for HTTP/1.1; `:authority` for HTTP/2,
 * which RFC 9113 §8.3.1 prefers over a Host field (a client translating
 * from HTTP/1.1 may send both; they must then agree, and :authority wins).
 */
export function authorityOf(req: ClientRequest): string | undefined {
  if (isHttp2(req)) {
    const authority = req.headers[':authority'];
    if (typeof authority === 'string' && authority.length > 0) return authority;
  }
  const host = req.headers.host;
  return typeof host === 'string' ? host : undefined;
}

/**
 * RFC 9112 §6.3: an HTTP/1.1 request has a body only with Transfer-Encoding
 * or a non-zero Content-Length. HTTP/2 frames the body itself (RFC 9113
 * §8.1): a request has one unless its HEADERS frame ended the stream, and
 * Content-Length is optional.
 */
export function requestHasBody(req: ClientRequest): boolean {
  if (isHttp2(req)) return !req.stream.endAfterHeaders && req.headers['content-length'] !== '0';
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Header fields of the request, pseudo-header fields (RFC 9113 §8.3) not counted. */
export function headerFieldCount(req: ClientRequest): number {
  if (!isHttp2(req)) return req.rawHeaders.length / 2;
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (!(req.rawHeaders[i] ?? '').startsWith(':')) count += 1;
  return count;
}

/**
 * While draining, the client is told to take further requests elsewhere:
 * `Connection: close` on HTTP/1.1, a graceful GOAWAY on HTTP/2 (the
 * session's other streams finish; RFC 9113 §6.8). HTTP/2 has no Connection
 * field, and Node refuses one on an HTTP/2 response.
 */
export function askToReconnect(req: ClientRequest, res: ClientResponse): void {
  if (isHttp2(req)) {
    const session = req.stream.session;
    if (session !== undefined && !session.closed && !session.destroyed) session.close();
  } else {
    res.setHeader('connection', 'close');
  }
}

/**
 * Ends the exchange after an answer given before the body was read
 * (a 413, a limit error). HTTP/1.1 reads the rest and drops it so that the
 * answer is not reset away (dropUnreadBody). HTTP/2 does not need that:
 * once the response is complete, RST_STREAM with NO_ERROR asks the client
 * to stop sending this body (RFC 9113 §8.1), and the connection with its
 * other streams goes on.
 */
export function releaseUnreadBody(req: ClientRequest, res: ClientResponse): void {
  if (!isHttp2(req)) {
    dropUnreadBody(req);
    return;
  }
  if (req.complete) return;
  const stream = req.stream;
  const reset = (): void => {
    if (!stream.closed && !stream.destroyed) stream.close(h2.NGHTTP2_NO_ERROR);
  };
  if (res.writableFinished) reset();
  else res.once('finish', reset);
}

/**
 * Writes a response head. HTTP/1.1 takes the flat [name, value, …] list
 * (repeated fields stay separate, no object built); Node's HTTP/2
 * compatibility response takes it too at run time, but its types only know
 * the object form. Connection-specific fields (RFC 9113 §8.2.2) are never
 * in `headers` here: headers.ts drops them from every relayed head.
 */
export function writeHead(res: ClientResponse, status: number, headers: string[] | OutgoingHttpHeaders): void {
  if (res instanceof Http2ServerResponse) {
    // @ts-expect-error Http2ServerResponse.writeHead accepts a flat list at run time (lib/internal/http2/compat.js), not in @types/node 20
    res.writeHead(status, headers);
  } else {
    res.writeHead(status, headers);
  }
}

/**
 * Whether a response wants 'drain' before more is written. Node 20's HTTP/2
 * compatibility response has no writableNeedDrain (Node 22 added it); its
 * write() result says the same, so a false write() is taken as "wait",
 * unless the response is gone (a destroyed one never drains).
 */
export function needsDrain(res: Writable, wrote: boolean): boolean {
  if (wrote) return false;
  const flag = (res as { writableNeedDrain?: boolean }).writableNeedDrain;
  return flag ?? !res.destroyed;
}
