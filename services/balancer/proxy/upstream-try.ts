import type { Dispatcher } from 'undici';
import type { BalancerMetrics } from '../metrics.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import type { HeaderMap } from './headers.js';
import type { PreparedBody } from './request-body.js';
import { classifyError, type TryFailure } from './retry-policy.js';

export interface TryRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderMap;
  readonly body: PreparedBody;
  /** This try's time limit until response headers (per-try timeout, cut to what is left of the total deadline). */
  readonly timeoutMs: number;
  /** Aborted when the client goes away. */
  readonly clientSignal: AbortSignal;
}

export type TryOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Dispatcher.ResponseData['headers'];
      readonly body: Dispatcher.ResponseData['body'];
      readonly latencyMs: number;
      /** The endpoint's latency epoch when this try started. */
      readonly epoch: number;
      /** Call once the response body is done (streamed or dumped): the endpoint's in-flight count drops. */
      readonly release: () => void;
    }
  | {
      readonly kind: 'failure';
      readonly failure: TryFailure;
      readonly latencyMs: number;
      readonly epoch: number;
      readonly clientAborted: boolean;
      readonly error: unknown;
    };

/**
 * One try against one endpoint through its pool, until response headers.
 * The endpoint's in-flight count covers the whole exchange (the picker's
 * load signal), so on success it is released by the caller after the body.
 */
export async function tryUpstream(upstream: UpstreamEndpoint, request: TryRequest, metrics: BalancerMetrics): Promise<TryOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, Math.max(1, request.timeoutMs));
  const onClientGone = (): void => controller.abort();
  request.clientSignal.addEventListener('abort', onClientGone, { once: true });
  upstream.inFlight += 1;
  metrics.upstreamInFlight.inc({ upstream: upstream.id });
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    upstream.inFlight -= 1;
    metrics.upstreamInFlight.dec({ upstream: upstream.id });
  };
  const body = request.body.kind === 'none' ? null : request.body.kind === 'buffered' ? request.body.data : request.body.stream;
  const started = performance.now();
  const epoch = upstream.latencyEpoch;
  try {
    const data = await upstream.pool.request({
      method: request.method as Dispatcher.HttpMethod,
      path: request.path,
      headers: request.headers,
      body,
      signal: controller.signal,
    });
    const latencyMs = performance.now() - started;
    metrics.upstreamDuration.observe({ upstream: upstream.id }, latencyMs / 1000);
    return { kind: 'response', status: data.statusCode, headers: data.headers, body: data.body, latencyMs, epoch, release };
  } catch (error) {
    release();
    const latencyMs = performance.now() - started;
    metrics.upstreamDuration.observe({ upstream: upstream.id }, latencyMs / 1000);
    return {
      kind: 'failure',
      failure: classifyError(error, timedOut),
      latencyMs,
      epoch,
      clientAborted: request.clientSignal.aborted && !timedOut,
      error,
    };
  } finally {
    clearTimeout(timer);
    request.clientSignal.removeEventListener('abort', onClientGone);
  }
}
