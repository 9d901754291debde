import type { Endpoint, EndpointSource, Logger } from '../../shared/index.js';
import type { BalancerMetrics } from '../metrics.js';
import { UpstreamEndpoint, type UpstreamEndpointOptions } from './upstream-endpoint.js';

export interface UpstreamTableOptions extends Omit<UpstreamEndpointOptions, 'warmFrom'> {
  readonly maxEjectionPercent: number;
  readonly panicThresholdPercent: number;
}

export interface Candidates {
  readonly endpoints: readonly UpstreamEndpoint[];
  /** True when too few endpoints are healthy and unhealthy ones are used too. */
  readonly panic: boolean;
}

const isReady = (u: UpstreamEndpoint): boolean => u.ready;
const isServing = (u: UpstreamEndpoint): boolean => u.endpoint.serving;

/**
 * The live set of upstream endpoints, fed only through the EndpointSource
 * interface (static today, Kubernetes EndpointSlices later). It owns one
 * UpstreamEndpoint (and Pool) per endpoint id, applies EndpointSlice
 * conditions, enforces the ejection cap, and closes the pools of removed
 * endpoints after their in-flight requests finish.
 */
export class UpstreamTable {
  private readonly byId = new Map<string, UpstreamEndpoint>();
  private readonly closing = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private initialized = false;
  private readonly now: () => number;
  /**
   * candidates() as last computed, reused until something that decides
   * membership changes: the endpoint set or an entry's conditions, an
   * ejection, an active-check verdict (each calls invalidate()), or the end
   * of an ejection, a point in time kept in cachedUntil. Every request asks,
   * and computing it is a pass over every endpoint: at 1 000 endpoints that
   * pass was most of the balancer's time per request.
   */
  private cached: Candidates | undefined;
  private cachedUntil = 0;
  private readonly invalidate = (): void => {
    this.cached = undefined;
  };

  constructor(
    private readonly source: EndpointSource,
    private readonly options: UpstreamTableOptions,
    private readonly metrics: BalancerMetrics,
    private readonly logger: Logger,
  ) {
    this.now = options.now ?? (() => Date.now());
  }

  /** Subscribes to the source and takes its current view; the source itself is started by the caller. */
  attach(): void {
    this.unsubscribe ??= this.source.subscribe((endpoints) => this.apply(endpoints));
    this.apply(this.source.current());
  }

  get size(): number {
    return this.byId.size;
  }

  all(): readonly UpstreamEndpoint[] {
    return [...this.byId.values()];
  }

  get(id: string): UpstreamEndpoint | undefined {
    return this.byId.get(id);
  }

  apply(endpoints: readonly Endpoint[]): void {
    const seen = new Set<string>();
    for (const endpoint of endpoints) {
      // A source may list an endpoint twice (two EndpointSlices during an update); the first wins.
      if (seen.has(endpoint.id)) continue;
      seen.add(endpoint.id);
      const existing = this.byId.get(endpoint.id);
      if (existing) {
        const returns = !existing.ready && endpoint.ready && !endpoint.terminating;
        existing.endpoint = endpoint;
        if (returns) {
          // Ready again in discovery (a restarted container, a readiness probe passing again).
          existing.judgeAfresh(this.now());
          this.logger.info({ upstream: endpoint.id }, 'endpoint ready again; judged afresh in slow start');
        }
        continue;
      }
      const upstream = new UpstreamEndpoint(endpoint, {
        ...this.options,
        onStateChange: this.invalidate,
        // Endpoints present at start take full traffic at once; later ones warm up.
        ...(this.initialized ? { warmFrom: this.now() } : {}),
      });
      this.byId.set(endpoint.id, upstream);
      this.logger.info({ upstream: endpoint.id, ready: endpoint.ready, terminating: endpoint.terminating }, 'endpoint added');
    }
    this.invalidate();
    if (endpoints.length > 0) this.initialized = true;
    for (const [id, upstream] of this.byId) {
      if (seen.has(id)) continue;
      this.byId.delete(id);
      this.metrics.forgetEndpoint(id);
      this.logger.info({ upstream: id, inFlight: upstream.inFlight }, 'endpoint removed; closing its pool after in-flight requests');
      this.closePool(upstream);
    }
    this.refreshStateMetrics();
  }

  private closePool(upstream: UpstreamEndpoint): void {
    // Pool.close() lets queued and running requests finish and refuses new ones.
    const done = upstream.pool.close().catch((err: unknown) => {
      this.logger.warn({ err, upstream: upstream.id }, 'closing pool failed');
    });
    this.closing.add(done);
    void done.finally(() => this.closing.delete(done));
  }

  /**
   * Endpoints that may take a new request. Ready ones first; when none is
   * ready, serving-but-terminating ones, as kube-proxy does, rather than
   * failing everything. Among those, the healthy ones, unless fewer than the
   * panic threshold are healthy: then all of them (panic mode), since
   * concentrating all traffic on one survivor tends to kill it too.
   */
  candidates(): Candidates {
    const now = this.now();
    if (this.cached !== undefined && now < this.cachedUntil) return this.cached;
    this.cached = this.computeCandidates();
    this.cachedUntil = this.nextEjectionEnd(now);
    return this.cached;
  }

  private computeCandidates(): Candidates {
    let { eligible, healthy } = this.eligibleBy(isReady);
    if (eligible.length === 0) ({ eligible, healthy } = this.eligibleBy(isServing));
    if (eligible.length === 0) return { endpoints: [], panic: false };
    const threshold = this.options.panicThresholdPercent / 100;
    if (healthy.length === 0 || healthy.length < eligible.length * threshold) return { endpoints: eligible, panic: true };
    return { endpoints: healthy, panic: false };
  }

  /** The earliest end of an ejection still running at `now`, when the candidates change by themselves; Infinity if none runs. */
  private nextEjectionEnd(now: number): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const u of this.byId.values()) {
      const end = u.outlier.ejectionEnd();
      if (end > now && end < earliest) earliest = end;
    }
    return earliest;
  }

  /** The endpoints passing `eligible`, and the healthy ones among them, in one pass (this runs for every request). */
  private eligibleBy(eligible: (u: UpstreamEndpoint) => boolean): { eligible: UpstreamEndpoint[]; healthy: UpstreamEndpoint[] } {
    const result = { eligible: [] as UpstreamEndpoint[], healthy: [] as UpstreamEndpoint[] };
    for (const u of this.byId.values()) {
      if (!eligible(u)) continue;
      result.eligible.push(u);
      if (u.isHealthy()) result.healthy.push(u);
    }
    return result;
  }

  /** `epoch` is the endpoint's latency epoch when the try started; a stale one only resets the failure streak. */
  recordSuccess(upstream: UpstreamEndpoint, latencyMs: number, epoch = upstream.latencyEpoch): void {
    if (epoch === upstream.latencyEpoch) upstream.ewma.observe(latencyMs);
    upstream.outlier.recordSuccess();
  }

  /** A gateway failure (connect error, timeout, 502/503/504); may eject, within the ejection cap. */
  recordFailure(upstream: UpstreamEndpoint, reason: string, latencyMs?: number, epoch = upstream.latencyEpoch): void {
    upstream.recordError(reason);
    // A try from before the endpoint was judged afresh (ejection over, checks
    // passing again) says nothing about it now.
    if (epoch !== upstream.latencyEpoch) return;
    // A failed try still says how long the endpoint made us wait.
    if (latencyMs !== undefined) upstream.ewma.observe(latencyMs);
    if (!upstream.outlier.recordFailure()) return;
    const total = this.byId.size;
    const ejected = this.all().filter((u) => u.outlier.state() === 'ejected').length;
    const percent = this.options.maxEjectionPercent;
    // Envoy's rule: at least one endpoint may be ejected whenever ejection is enabled at all.
    const cap = percent === 0 ? 0 : Math.max(1, Math.floor((total * percent) / 100));
    if (ejected >= cap) {
      this.logger.warn({ upstream: upstream.id, ejected, cap }, 'endpoint qualifies for ejection but the ejection cap is reached');
      return;
    }
    const duration = upstream.outlier.eject();
    this.invalidate();
    upstream.warmUpFrom(this.now() + duration);
    this.metrics.ejections.inc({ upstream: upstream.id });
    this.logger.warn({ upstream: upstream.id, durationMs: duration, reason }, 'endpoint ejected');
    this.refreshStateMetrics();
  }

  /** [endpoint id, in-flight count] of every known endpoint, for the in-flight gauge at scrape time. */
  *inFlightCounts(): Iterable<readonly [string, number]> {
    for (const upstream of this.byId.values()) yield [upstream.id, upstream.inFlight];
  }

  refreshStateMetrics(): void {
    for (const upstream of this.byId.values()) this.metrics.setEndpointState(upstream.id, upstream.stateName());
  }

  /** Unsubscribes and closes every pool, waiting for in-flight requests to finish. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const upstream of this.byId.values()) this.closePool(upstream);
    this.byId.clear();
    this.invalidate();
    await Promise.all([...this.closing]);
  }
}
