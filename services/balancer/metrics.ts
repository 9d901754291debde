import { Counter, Gauge, type Registry } from 'prom-client';
import { HotCounter, HotHistogram, LATENCY_BUCKETS } from '../shared/index.js';

export const ENDPOINT_STATES = ['healthy', 'slow_start', 'ejected', 'unhealthy', 'not_ready', 'terminating'] as const;
export type EndpointStateName = (typeof ENDPOINT_STATES)[number];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** Keeps the method label bounded: arbitrary extension methods share one label value. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : 'OTHER';
}

export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** The balancer's Prometheus metrics, registered on the instance's own registry (no global state). */
export class BalancerMetrics {
  /** The metrics written on every request are hot ones (shared/hot-metrics.ts): prom-client's cost ~3 µs an observe() and ~1.5 µs an inc(). */
  readonly requests: HotCounter<'upstream' | 'method' | 'status_class'>;
  readonly duration: HotHistogram<'method' | 'status_class'>;
  readonly upstreamDuration: HotHistogram<'upstream'>;
  readonly retries: Counter<'reason'>;
  readonly budgetExhausted: Counter;
  readonly ejections: Counter<'upstream'>;
  readonly endpointState: Gauge<'upstream' | 'state'>;
  readonly inFlight: Gauge;
  readonly upstreamInFlight: Gauge<'upstream'>;
  readonly shed: Counter<'reason'>;
  readonly clientErrors: Counter<'code'>;
  readonly tunnels: Gauge;
  readonly protocolRequests: HotCounter<'protocol' | 'scheme'>;
  readonly tlsHandshakes: Counter<'result'>;
  readonly certificateExpiry: Gauge;
  readonly certificateReloads: Counter<'result'>;
  readonly http2Goaways: Counter<'reason'>;
  /** Set by the balancer: writes every endpoint's current state into the gauge. */
  beforeStateScrape: (() => void) | undefined;
  /** Set by the balancer: client requests admitted and not yet answered. */
  readInFlight: (() => number) | undefined;
  /** Set by the balancer: [endpoint id, requests in flight to it] for every known endpoint. */
  readUpstreamInFlight: (() => Iterable<readonly [string, number]>) | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new HotCounter({
      name: 'balancer_requests_total',
      help: 'Requests answered, by the last upstream tried ("none" for balancer answers), method and status class',
      labelNames: ['upstream', 'method', 'status_class'],
      registers,
    });
    this.duration = new HotHistogram({
      name: 'balancer_request_duration_seconds',
      help: 'Time from request arrival to response headers sent, all tries included',
      labelNames: ['method', 'status_class'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamDuration = new HotHistogram({
      name: 'balancer_upstream_try_duration_seconds',
      help: 'Time of one upstream try until its response headers (or failure)',
      labelNames: ['upstream'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'balancer_retries_total',
      help: 'Retries made, by reason of the failed try',
      labelNames: ['reason'],
      registers,
    });
    this.budgetExhausted = new Counter({
      name: 'balancer_retry_budget_exhausted_total',
      help: 'Retries that were safe but refused because the retry budget was used up',
      registers,
    });
    this.ejections = new Counter({
      name: 'balancer_ejections_total',
      help: 'Outlier ejections, by endpoint',
      labelNames: ['upstream'],
      registers,
    });
    // States also change with time alone (an ejection ends, slow start
    // finishes), so they are refreshed on every scrape.
    const refresh = (): void => this.beforeStateScrape?.();
    this.endpointState = new Gauge({
      name: 'balancer_endpoint_state',
      help: '1 for the current state of each known endpoint, 0 for the others',
      labelNames: ['upstream', 'state'],
      registers,
      collect: refresh,
    });
    // The in-flight gauges are read from the live counts at scrape time:
    // an inc() and dec() per request and endpoint cost more than a scrape.
    this.inFlight = new Gauge({
      name: 'balancer_in_flight',
      help: 'Client requests being handled',
      registers,
      collect: () => this.inFlight.set(this.readInFlight?.() ?? 0),
    });
    this.upstreamInFlight = new Gauge({
      name: 'balancer_upstream_in_flight',
      help: 'Requests (and tunnels) in flight to each endpoint',
      labelNames: ['upstream'],
      registers,
      collect: () => {
        this.upstreamInFlight.reset();
        for (const [upstream, count] of this.readUpstreamInFlight?.() ?? []) this.upstreamInFlight.set({ upstream }, count);
      },
    });
    this.shed = new Counter({
      name: 'balancer_shed_total',
      help: 'Requests refused with a fast 503 because of a concurrency limit',
      labelNames: ['reason'],
      registers,
    });
    this.clientErrors = new Counter({
      name: 'balancer_client_errors_total',
      help: 'Malformed, oversized or too slow client requests answered by the balancer',
      labelNames: ['code'],
      registers,
    });
    this.tunnels = new Gauge({ name: 'balancer_tunnels_open', help: 'Upgrade (WebSocket) tunnels open', registers });
    this.protocolRequests = new HotCounter({
      name: 'balancer_protocol_requests_total',
      help: 'Requests answered, by the protocol the client negotiated (h2 or http/1.1) and the scheme of the data port',
      labelNames: ['protocol', 'scheme'],
      registers,
    });
    this.tlsHandshakes = new Counter({
      name: 'balancer_tls_handshakes_total',
      help: 'TLS handshakes on the data port, by result (ok, failed)',
      labelNames: ['result'],
      registers,
    });
    // A timestamp, not a duration, so that an alert compares it with time()
    // and a scrape gap does not matter. In cluster mode the workers' values
    // are combined with min (metrics-aggregation.ts): the soonest expiry.
    this.certificateExpiry = new Gauge({
      name: 'balancer_tls_certificate_expiry_timestamp_seconds',
      help: 'Unix time at which the served certificate expires (notAfter of the leaf)',
      registers,
    });
    this.certificateReloads = new Counter({
      name: 'balancer_tls_certificate_reloads_total',
      help: 'Certificate reloads after the files changed, by result (ok, failed: the new pair was refused and the old one stays)',
      labelNames: ['result'],
      registers,
    });
    this.http2Goaways = new Counter({
      name: 'balancer_http2_goaway_total',
      help: 'HTTP/2 connections the balancer closed with GOAWAY, by reason (reset_flood, settings_timeout, idle, draining, protocol_error)',
      labelNames: ['reason'],
      registers,
    });
  }

  setEndpointState(upstream: string, state: EndpointStateName): void {
    for (const candidate of ENDPOINT_STATES) this.endpointState.set({ upstream, state: candidate }, candidate === state ? 1 : 0);
  }

  forgetEndpoint(upstream: string): void {
    for (const state of ENDPOINT_STATES) this.endpointState.remove({ upstream, state });
    this.upstreamInFlight.remove({ upstream });
  }
}
