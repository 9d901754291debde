import type { Dispatcher } from 'undici';
import type { BalancerMetrics } from '../metrics.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import type { ClientPresence } from './client-presence.js';
import type { HeaderMap } from './headers.js';
import type { PreparedBody } from './request-body.js';
import { classifyError, type TryFailure } from './retry-policy.js';
import { UpstreamCall } from './upstream-call.js';

export interface TryRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderMap;
  readonly body: PreparedBody;
  /** This try's time limit until response headers (per-try timeout, cut to what is left of the total deadline). */
  readonly timeoutMs: number;
  /** Stops the try when the client goes away. */
  readonly client: ClientPresence;
}

/** The response body of a try: relayed into the client's response, or dropped. Either ends the endpoint's in-flight slot. */
export type TryBody = Pick<UpstreamCall, 'pipeTo' | 'discard'>;

export type TryOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** undici's raw header list: [name, value, name, value, …]. */
      readonly rawHeaders: readonly Buffer[];
      readonly body: TryBody;
      readonly latencyMs: number;
      /** The endpoint's latency epoch when this try started. */
      readonly epoch: number;
    }
  | {
      readonly kind: 'failure';
      readonly failure: TryFailure;
      readonly latencyMs: number;
      readonly epoch: number;
      readonly clientAborted: boolean;
      readonly error: unknown;
    };

/** Why a try was stopped by us; classifyError() reads `timedOut` for the first. */
class TryTimeoutError extends Error {
  readonly code = 'LB_TRY_TIMEOUT';
}
class ClientGoneError extends Error {
  readonly code = 'LB_CLIENT_GONE';
}

/**
 * One try against one endpoint through its pool, until response headers.
 * The endpoint's in-flight count covers the whole exchange (the picker's
 * load signal): it drops when the response body is done, relayed or
 * dropped, or when the try fails.
 */
export async function tryUpstream(upstream: UpstreamEndpoint, request: TryRequest, metrics: BalancerMetrics): Promise<TryOutcome> {
  const epoch = upstream.latencyEpoch;
  if (request.client.gone) {
    const error = new ClientGoneError('client went away before the try');
    return { kind: 'failure', failure: classifyError(error, false), latencyMs: 0, epoch, clientAborted: true, error };
  }
  // The balancer_upstream_in_flight gauge reads this count at scrape time.
  upstream.inFlight += 1;
  // onFinish cannot run before dispatch(), by which time stopWatching is set.
  const call: UpstreamCall = new UpstreamCall(() => {
    upstream.inFlight -= 1;
    stopWatching();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    call.cancel(new TryTimeoutError(`no response headers within ${request.timeoutMs} ms`));
  }, Math.max(1, request.timeoutMs));
  const stopWatching = request.client.watch(() => call.cancel(new ClientGoneError('client went away')));
  const body = request.body.kind === 'none' ? null : request.body.kind === 'buffered' ? request.body.data : request.body.stream;
  const started = performance.now();
  const headArrives = call.takeHead();
  upstream.pool.dispatch({ method: request.method as Dispatcher.HttpMethod, path: request.path, headers: request.headers, body }, call);
  const head = await headArrives;
  clearTimeout(timer);
  const latencyMs = performance.now() - started;
  metrics.upstreamDuration.observe({ upstream: upstream.id }, latencyMs / 1000);
  if (head.ok) return { kind: 'response', status: head.status, rawHeaders: head.rawHeaders, body: call, latencyMs, epoch };
  return {
    kind: 'failure',
    failure: classifyError(head.error, timedOut),
    latencyMs,
    epoch,
    clientAborted: request.client.gone && !timedOut,
    error: head.error,
  };
}
