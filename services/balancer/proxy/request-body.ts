import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { BalancerError } from '../errors.js';

export type PreparedBody =
  | { readonly kind: 'none' }
  /** Whole body in memory: can be sent again on a retry. */
  | { readonly kind: 'buffered'; readonly data: Buffer }
  /** Too large to keep: streamed once, so the request is not retryable. */
  | { readonly kind: 'stream'; readonly stream: Readable };

export interface BodyLimits {
  /** Bodies up to this size are read fully before the first try. */
  readonly bufferBytes: number;
  readonly maxBodyBytes: number;
}

/** RFC 9112 §6.3: a request has a body only with Transfer-Encoding or a non-zero Content-Length. */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * Reads up to `bufferBytes` of the request body. A body that ends within
 * that is returned whole (retryable, and a malformed chunked body fails
 * here, before anything is forwarded); a longer one is returned as a stream
 * that replays what was read and then continues from the socket, still
 * counting against `maxBodyBytes`. Throws LB_ERR_BODY_TOO_LARGE.
 */
export async function prepareBody(req: IncomingMessage, limits: BodyLimits): Promise<PreparedBody> {
  if (!hasBody(req)) return { kind: 'none' };
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) throw new BalancerError('LB_ERR_BODY_TOO_LARGE');
  const head = await readHead(req, limits);
  if (head.complete) return { kind: 'buffered', data: Buffer.concat(head.chunks, head.size) };
  const maxBodyBytes = limits.maxBodyBytes;
  const { chunks, size } = head;
  async function* rest(): AsyncGenerator<Buffer> {
    yield* chunks;
    let total = size;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBodyBytes) throw new BalancerError('LB_ERR_BODY_TOO_LARGE');
      yield chunk;
    }
  }
  return { kind: 'stream', stream: Readable.from(rest(), { objectMode: false }) };
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
function readHead(req: IncomingMessage, limits: BodyLimits): Promise<BodyHead> {
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
