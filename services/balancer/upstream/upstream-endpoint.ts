import { Pool } from 'undici';
import { endpointOrigin, type Endpoint } from '../../shared/index.js';
import { OutlierDetector, type OutlierOptions } from '../health/outlier-detector.js';
import type { EndpointStateName } from '../metrics.js';
import { PeakEwma } from './peak-ewma.js';

export interface PoolOptions {
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

export interface UpstreamEndpointOptions {
  readonly pool: PoolOptions;
  readonly outlier: OutlierOptions;
  readonly ewmaDecayMs: number;
  readonly slowStartMs: number;
  /** When set, the endpoint warms up from this time (Date.now() scale); initial endpoints start warm. */
  readonly warmFrom?: number;
  readonly now?: () => number;
  /** Called when the endpoint's discovery entry or active-check verdict changes (the table's candidate cache listens). */
  readonly onStateChange?: () => void;
}

/** Slow start begins at this share of the traffic an endpoint would get, then grows linearly. */
const SLOW_START_MIN_WEIGHT = 0.1;

export interface UpstreamSnapshot {
  readonly endpoint: string;
  readonly name?: string;
  readonly state: EndpointStateName;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly inFlight: number;
  readonly ewmaMs: number | null;
  readonly weight: number;
  readonly consecutiveFailures: number;
  readonly ejections: number;
  readonly ejectedForMs: number;
  readonly activeHealth: 'healthy' | 'unhealthy' | 'unknown';
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
}

/**
 * One upstream endpoint with everything the picker and health logic need:
 * its own undici Pool (keep-alive, bounded connections), in-flight count,
 * peak-EWMA latency, outlier state, active-check result and slow-start clock.
 */
export class UpstreamEndpoint {
  readonly id: string;
  readonly pool: Pool;
  readonly outlier: OutlierDetector;
  readonly ewma: PeakEwma;
  inFlight = 0;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  private warmFrom: number;
  private latencyResetAt = 0;
  /**
   * Bumped whenever the latency history is forgotten. A try remembers the
   * epoch it started in; results of tries started before a reset (say,
   * timeouts of requests sent while the process was paused, landing after
   * it passed its checks again) are stale and must not judge it again.
   */
  latencyEpoch = 0;
  private readonly now: () => number;
  private entry: Endpoint;
  private activeVerdict: boolean | undefined;

  constructor(
    endpoint: Endpoint,
    private readonly options: UpstreamEndpointOptions,
  ) {
    this.entry = endpoint;
    this.id = endpoint.id;
    this.now = options.now ?? (() => Date.now());
    this.warmFrom = options.warmFrom ?? Number.NEGATIVE_INFINITY;
    this.outlier = new OutlierDetector(options.outlier, this.now);
    this.ewma = new PeakEwma(options.ewmaDecayMs);
    const p = options.pool;
    this.pool = new Pool(endpointOrigin(endpoint), {
      connections: p.connections,
      // Well below the worker's keepAliveTimeout, so the balancer closes an idle
      // connection before the worker does (the keep-alive race, see DESIGN.md).
      keepAliveTimeout: p.idleTimeoutMs,
      keepAliveMaxTimeout: p.idleTimeoutMs,
      headersTimeout: p.headersTimeoutMs,
      bodyTimeout: p.bodyTimeoutMs,
      connect: { timeout: p.connectTimeoutMs },
    });
  }

  /** The discovery entry: address, admin port, ready/serving/terminating conditions. */
  get endpoint(): Endpoint {
    return this.entry;
  }

  set endpoint(value: Endpoint) {
    this.entry = value;
    this.options.onStateChange?.();
  }

  /** Result of active /readyz checks; undefined until the first verdict (or with checks off). */
  get activeHealthy(): boolean | undefined {
    return this.activeVerdict;
  }

  set activeHealthy(value: boolean | undefined) {
    if (value === this.activeVerdict) return;
    this.activeVerdict = value;
    this.options.onStateChange?.();
  }

  /** May take new requests: ready, or serving while terminating when the table falls back to those. */
  get ready(): boolean {
    return this.endpoint.ready && !this.endpoint.terminating;
  }

  /** Neither ejected nor failing active checks. */
  isHealthy(): boolean {
    return this.outlier.state() === 'healthy' && this.activeHealthy !== false;
  }

  /**
   * Peak-EWMA latency for the picker. After an ejection ends, the samples
   * that led to it (timeouts of a paused process, say) are forgotten: the
   * ejection already paid for them, and with them the endpoint would look
   * slow for many decay periods and get no traffic to prove otherwise.
   * Slow start limits the risk of judging it afresh.
   */
  latencyMs(): number | undefined {
    const end = this.outlier.ejectionEnd();
    if (end > this.latencyResetAt && end <= this.now()) {
      this.latencyResetAt = end;
      this.ewma.reset();
      this.latencyEpoch += 1;
    }
    return this.ewma.get();
  }

  /** Forgets latency history (the endpoint passes active checks again). */
  resetLatency(): void {
    this.ewma.reset();
    this.latencyEpoch += 1;
  }

  /**
   * The endpoint is back after it was out of rotation (ready again in
   * discovery, passing active checks again): what it did before it left
   * (timeouts of a hung process, the slow last tries of a killed one) says
   * nothing about the process serving now. Kept, that history made a
   * restarted worker look hundreds of milliseconds slow, and p2c starved it
   * for tens of seconds while the EWMA decayed. Slow start bounds the risk of
   * judging it afresh.
   */
  judgeAfresh(now: number): void {
    this.resetLatency();
    this.warmUpFrom(now);
  }

  /** Share of traffic during slow start, in (0, 1]. */
  weight(): number {
    const window = this.options.slowStartMs;
    if (window <= 0) return 1;
    const elapsed = this.now() - this.warmFrom;
    if (elapsed >= window) return 1;
    return SLOW_START_MIN_WEIGHT + (1 - SLOW_START_MIN_WEIGHT) * Math.max(0, elapsed / window);
  }

  /** Starts a new warm-up period (after an ejection ends or active checks pass again). */
  warmUpFrom(time: number): void {
    if (this.options.slowStartMs > 0) this.warmFrom = time;
  }

  recordError(message: string): void {
    this.lastError = message;
    this.lastErrorAt = this.now();
  }

  stateName(): EndpointStateName {
    if (this.endpoint.terminating) return 'terminating';
    if (!this.endpoint.ready) return 'not_ready';
    if (this.outlier.state() === 'ejected') return 'ejected';
    if (this.activeHealthy === false) return 'unhealthy';
    if (this.weight() < 1) return 'slow_start';
    return 'healthy';
  }

  snapshot(): UpstreamSnapshot {
    const ewma = this.latencyMs();
    return {
      endpoint: this.id,
      ...(this.endpoint.name !== undefined ? { name: this.endpoint.name } : {}),
      state: this.stateName(),
      ready: this.endpoint.ready,
      serving: this.endpoint.serving,
      terminating: this.endpoint.terminating,
      inFlight: this.inFlight,
      ewmaMs: ewma === undefined ? null : Math.round(ewma * 100) / 100,
      weight: Math.round(this.weight() * 100) / 100,
      consecutiveFailures: this.outlier.consecutiveFailures(),
      ejections: this.outlier.ejections,
      ejectedForMs: this.outlier.remainingMs(),
      activeHealth: this.activeHealthy === undefined ? 'unknown' : this.activeHealthy ? 'healthy' : 'unhealthy',
      lastError: this.lastError ?? null,
      lastErrorAt: this.lastErrorAt === undefined ? null : new Date(this.lastErrorAt).toISOString(),
    };
  }
}
