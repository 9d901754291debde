import { Readable } from 'node:stream';
import { BalancerError } from '../errors.js';
import { requestHasBody, type ClientRequest } from './client-protocol.js';

export type PreparedBody =
  | { readonly kind: 'none' }
  /** Whole body in memory: can be sent again on a retry. */
  | { readonly kind: 'buffered'; readonly data: Buffer }
  /**
   * Too large to keep: streamed once, so the request is not retryable.
   * `dropRest()` reads and drops what the upstream did not take (it answered
   * early, a 413), so that the client's connection goes on.
   */
  | { readonly kind: 'stream'; readonly stream: Readable; readonly dropRest: () => void };

/** The body of a request that has none. */
export const NO_BODY: PreparedBody = { kind: 'none' };

export interface BodyLimits {
  /** Bodies up to this size are read fully before the first try. */
  readonly bufferBytes: number;
  readonly maxBodyBytes: number;
}

/**
 * Reads up to `bufferBytes` of the request body. A body that ends within
 * that is returned whole (retryable, and a malformed chunked body fails
 * here, before anything is forwarded); a longer one is returned as a stream
 * that replays what was read and then continues from the socket, still
 * counting against `maxBodyBytes`. Throws LB_ERR_BODY_TOO_LARGE.
 * `releaseUnread` lets go of what the client still sends once the answer
 * is out (client-protocol.ts: read and dropped on HTTP/1.1, the stream
 * reset with NO_ERROR on HTTP/2).
 */
export async function prepareBody(req: ClientRequest, limits: BodyLimits, releaseUnread: () => void): Promise<PreparedBody> {
  if (!requestHasBody(req)) return NO_BODY;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) throw new BalancerError('LB_ERR_BODY_TOO_LARGE');
  const head = await readHead(req, limits);
  if (head.complete) return { kind: 'buffered', data: Buffer.concat(head.chunks, head.size) };
  return streamRest(req, head, limits.maxBodyBytes, releaseUnread);
}

/**
 * The body as a stream: what readHead() took, then the rest from the
 * request, with backpressure (the request is paused while the stream is
 * full) and still counting against `maxBodyBytes`. Plain events rather than
 * an async iterator over the request, so that an upstream that stops
 * reading (it answered early and undici closed its socket) does not leave
 * the request stuck in a suspended loop: dropRest() lets it go.
 */
function streamRest(req: ClientRequest, head: BodyHead, maxBodyBytes: number, releaseUnread: () => void): PreparedBody {
  let total = head.size;
  let detached = false;
  const detach = (): void => {
    if (detached) return;
    detached = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
  };
  const stream = new Readable({
    read: () => {
      if (!detached) req.resume();
    },
    destroy: (err, callback) => {
      detach();
      callback(err);
    },
  });
  const onData = (chunk: Buffer): void => {
    total += chunk.length;
    if (total > maxBodyBytes) {
      detach();
      req.pause();
      stream.destroy(new BalancerError('LB_ERR_BODY_TOO_LARGE'));
    } else if (!stream.push(chunk)) {
      req.pause();
    }
  };
  const onEnd = (): void => {
    detach();
    stream.push(null);
  };
  // The client went away mid-body (no 'error' on an IncomingMessage then).
  const onClose = (): void => {
    detach();
    stream.destroy(new Error('client closed the connection before the request body ended'));
  };
  for (const chunk of head.chunks) stream.push(chunk);
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('close', onClose);
  const dropRest = (): void => {
    if (req.complete) return;
    detach();
    stream.destroy();
    releaseUnread();
  };
  return { kind: 'stream', stream, dropRest };
}

interface BodyHead {
  readonly chunks: Buffer[];
  readonly size: number;
  /** The whole body: it ended within the buffer limit. */
  readonly complete: boolean;
}

/**
 * Reads with 'data' events until the body ends or passes `bufferBytes`, then
 * pauses the request. Events rather than an async iterator: most bodies are
 * small and end here, and the iterator's promise per chunk was measurable.
 */
function readHead(req: ClientRequest, limits: BodyLimits): Promise<BodyHead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > limits.maxBodyBytes) {
        cleanup();
        req.pause();
        reject(new BalancerError('LB_ERR_BODY_TOO_LARGE'));
      } else if (size > limits.bufferBytes) {
        cleanup();
        req.pause();
        resolve({ chunks, size, complete: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ chunks, size, complete: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    // The client went away mid-body (no 'error' on an IncomingMessage then).
    const onClose = (): void => {
      cleanup();
      reject(new Error('client closed the connection before the request body ended'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}
