import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { PeerCertificate } from 'node:tls';

export interface H2Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface H2Options {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
}

/** An HTTP/2 session to the balancer over TLS (node:http2's client), connected and ready. */
export async function openSession(port: number, options: H2Options = {}, timeoutMs = 5_000): Promise<ClientHttp2Session> {
  const session = connect(`https://localhost:${port}`, {
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    servername: options.servername ?? 'localhost',
  });
  // An 'error' with no listener would throw out of the test process.
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`HTTP/2 connect timed out after ${timeoutMs} ms`)), timeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    session.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return session;
}

/** The server certificate a session got in its handshake. */
export function peerCertificateOf(session: ClientHttp2Session): PeerCertificate {
  const socket = session.socket as unknown as { getPeerCertificate(): PeerCertificate };
  return socket.getPeerCertificate();
}

/** One request on a session, bounded in time; rejects on a stream error or reset. */
export function h2Request(
  session: ClientHttp2Session,
  request: { method?: string; path: string; headers?: OutgoingHttpHeaders; body?: string | Buffer },
  timeoutMs = 10_000,
): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ':method': request.method ?? 'GET', ':path': request.path, ...(request.headers ?? {}) },
      { endStream: request.body === undefined },
    );
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`HTTP/2 ${request.method ?? 'GET'} ${request.path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString('utf8') });
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    stream.on('close', () => {
      clearTimeout(timer);
      if (stream.rstCode !== undefined && stream.rstCode !== 0) reject(new Error(`stream reset with code ${stream.rstCode}`));
    });
    if (request.body !== undefined) stream.end(request.body);
  });
}

export function closeSession(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      session.destroy();
      resolve();
    }, 2_000);
    session.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
