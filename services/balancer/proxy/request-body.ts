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
  const iterator = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return { kind: 'buffered', data: Buffer.concat(head, size) };
    const chunk = next.value;
    size += chunk.length;
    if (size > limits.maxBodyBytes) throw new BalancerError('LB_ERR_BODY_TOO_LARGE');
    head.push(chunk);
    if (size > limits.bufferBytes) break;
  }
  const maxBodyBytes = limits.maxBodyBytes;
  async function* rest(): AsyncGenerator<Buffer> {
    yield* head;
    let total = size;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      total += next.value.length;
      if (total > maxBodyBytes) throw new BalancerError('LB_ERR_BODY_TOO_LARGE');
      yield next.value;
    }
  }
  return { kind: 'stream', stream: Readable.from(rest(), { objectMode: false }) };
}
