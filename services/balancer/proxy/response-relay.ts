import type { Logger } from '../../shared/index.js';
import { BalancerError } from '../errors.js';
import { writeHead, type ClientResponse } from './client-protocol.js';
import { sendError } from './error-response.js';
import { headerMapOf, relayableResponseHeaders } from './headers.js';
import type { TryOutcome } from './upstream-try.js';

export interface RelayTarget {
  readonly res: ClientResponse;
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
 * and X-Request-Id added, body streamed with backpressure. The endpoint's
 * in-flight slot ends with the body either way.
 */
export async function relayResponse(ex: RelayTarget, outcome: Extract<TryOutcome, { kind: 'response' }>): Promise<void> {
  try {
    const head = relayableResponseHeaders(outcome.rawHeaders, ex.requestId);
    writeHead(ex.res, outcome.status, ex.res.getHeaderNames().length === 0 ? head : headerMapOf(head));
  } catch (err) {
    // A status or header Node refuses to send (RFC 9110 §5.5 field value
    // rules): the worker's answer cannot be relayed as is.
    ex.log.warn({ err, upstream: ex.upstreamLabel }, 'upstream response head not relayable');
    await outcome.body.discard();
    sendError(ex.res, { code: 'LB_ERR_UPSTREAM_FAILED', message: 'upstream response could not be relayed', requestId: ex.requestId });
    return;
  }
  try {
    await outcome.body.pipeTo(ex.res);
  } catch (err) {
    // The client left, or the upstream broke off mid-body: the response was
    // already started, and the connection has been cut.
    ex.log.debug({ err, upstream: ex.upstreamLabel }, 'response stream ended early');
  }
}
