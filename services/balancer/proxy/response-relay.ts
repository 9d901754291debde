import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '../../shared/index.js';
import { BalancerError } from '../errors.js';
import { sendError } from './error-response.js';
import { appendHeader, forwardableResponseHeaders, VIA } from './headers.js';
import type { TryOutcome } from './upstream-try.js';

export interface RelayTarget {
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly log: Logger;
  readonly upstreamLabel: string;
}

/** A BalancerError raised by our own body stream, possibly wrapped by undici. */
export function balancerErrorIn(err: unknown): BalancerError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 3 && current instanceof Error; depth++) {
    if (current instanceof BalancerError) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * Sends an upstream response to the client: hop-by-hop fields stripped, Via
 * and X-Request-Id added, body streamed with backpressure. Releases the
 * endpoint's in-flight slot when the body is done either way.
 */
export async function relayResponse(ex: RelayTarget, outcome: Extract<TryOutcome, { kind: 'response' }>): Promise<void> {
  try {
    const headers = forwardableResponseHeaders(outcome.headers);
    appendHeader(headers, 'via', VIA);
    headers['x-request-id'] = ex.requestId;
    try {
      ex.res.writeHead(outcome.status, headers);
    } catch (err) {
      // A status or header Node refuses to send (RFC 9110 §5.5 field value
      // rules): the worker's answer cannot be relayed as is.
      ex.log.warn({ err, upstream: ex.upstreamLabel }, 'upstream response head not relayable');
      await outcome.body.dump().catch(() => undefined);
      sendError(ex.res, { code: 'LB_ERR_UPSTREAM_FAILED', message: 'upstream response could not be relayed', requestId: ex.requestId });
      return;
    }
    await pipeBody(outcome.body, ex.res);
  } catch (err) {
    // The client left, or the upstream broke off mid-body: the response is
    // already started, so the only honest signal left is a cut connection.
    ex.log.debug({ err, upstream: ex.upstreamLabel }, 'response stream ended early');
    ex.res.destroy();
  } finally {
    outcome.release();
  }
}

/**
 * body.pipe(res) as a promise. stream/promises' pipeline() costs an
 * AbortController and a DOMException per response (about a tenth of the
 * balancer's CPU in the small-GET profile); this does only what a relay
 * needs: resolve when the client has the whole body, reject (and stop
 * reading the upstream) when either side breaks off.
 */
function pipeBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    // Stays for good: destroying an unfinished undici body emits
    // RequestAbortedError, which nobody needs once the relay has settled, and
    // an 'error' event without a listener would crash the process.
    body.on('error', ignoreLateError);
    const cleanup = (): void => {
      body.off('error', onError);
      res.off('finish', onFinish);
      res.off('close', onClose);
      res.off('error', onError);
    };
    const onFinish = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      body.unpipe(res);
      body.destroy();
      reject(err);
    };
    const onClose = (): void => {
      if (!res.writableFinished) onError(new Error('client connection closed before the response was complete'));
    };
    body.once('error', onError);
    res.once('error', onError);
    res.once('finish', onFinish);
    res.once('close', onClose);
    body.pipe(res);
  });
}

function ignoreLateError(): void {}
