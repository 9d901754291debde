import { EnvReader, LOG_LEVELS, deepFreeze, readDiscoveryConfig, type DiscoveryConfig, type Env, type LogLevel } from '../shared/index.js';
import { usableCpus } from './cluster/parallelism.js';
import { readRedirectConfig, readTlsConfig, type RedirectConfig, type TlsConfig } from './tls/tls-config.js';

export const PICKERS = ['p2c-ewma', 'round-robin', 'least-request', 'consistent-hash'] as const;
export type PickerName = (typeof PICKERS)[number];

export type HashKey = { readonly kind: 'header'; readonly name: string } | { readonly kind: 'path-segment'; readonly index: number };

/** Upper bound of BALANCER_WORKERS (and of what `auto` picks). */
export const MAX_BALANCER_WORKERS = 64;

export interface BalancerConfig {
  /**
   * Data-plane processes: 1 runs in this process (no cluster, no IPC); more
   * runs a node:cluster primary (discovery, admin port) and this many workers
   * sharing the data port. Limits and the retry budget apply per worker.
   */
  readonly workers: number;
  readonly host: string;
  readonly port: number;
  readonly adminPort: number;
  /**
   * TLS on the data port (HTTP/2 and HTTP/1.1 by ALPN); undefined serves
   * plain HTTP/1.1, for local runs and clusters that terminate TLS elsewhere.
   */
  readonly tls?: TlsConfig;
  /** A plain-HTTP listener that answers every request with 308 to https (only with tls). */
  readonly redirect?: RedirectConfig;
  readonly logLevel: LogLevel;
  /** One info line per answered request (request id, upstream, status, duration, attempts). */
  readonly accessLog: boolean;
  /** Longest time an access line waits in the log batch (every other line is written at once); 0 writes each at once. */
  readonly accessLogFlushMs: number;
  /** Where endpoints come from: static (UPSTREAMS), kubernetes (EndpointSlices) or dns; see services/shared/discovery. */
  readonly discovery: DiscoveryConfig;
  readonly picker: PickerName;
  readonly hashKey?: HashKey;
  readonly timeouts: {
    readonly connectMs: number;
    /** One try, from dispatch to response headers. */
    readonly perTryMs: number;
    /** All tries of one request, from arrival to response headers. */
    readonly totalMs: number;
    /** Idle gap allowed while streaming an upstream response body. */
    readonly upstreamBodyIdleMs: number;
    /** Idle keep-alive connections to upstreams close after this; keep it well below the worker's keepAliveTimeout. */
    readonly upstreamIdleMs: number;
    readonly clientHeaderMs: number;
    readonly clientRequestMs: number;
    readonly clientKeepAliveMs: number;
  };
  readonly limits: {
    readonly maxHeaderBytes: number;
    /** Request-target length limit (414); RFC 9112 §3 asks for at least 8000 octets of request line. */
    readonly maxUrlBytes: number;
    /** Header field count limit (431); Node would otherwise drop fields past its maxHeadersCount silently. */
    readonly maxHeaderCount: number;
    readonly maxBodyBytes: number;
    /** Bodies up to this size are buffered before sending, which keeps them retryable. */
    readonly retryBufferBytes: number;
    readonly maxInFlight: number;
    readonly maxInFlightPerEndpoint: number;
    readonly connectionsPerEndpoint: number;
    readonly retryAfterSeconds: number;
  };
  readonly retry: {
    readonly maxAttempts: number;
    readonly budgetRatio: number;
    readonly minConcurrent: number;
    /** How long a retry may wait for a free budget slot. */
    readonly budgetWaitMs: number;
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
  };
  readonly outlier: {
    readonly consecutiveFailures: number;
    readonly baseEjectionMs: number;
    readonly maxEjectionMs: number;
    readonly maxEjectionPercent: number;
    /** Below this share of healthy endpoints the picker spreads over all of them (panic mode). */
    readonly panicThresholdPercent: number;
  };
  readonly activeHealth: {
    readonly enabled: boolean;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly unhealthyThreshold: number;
    readonly healthyThreshold: number;
  };
  readonly slowStartMs: number;
  readonly ewmaDecayMs: number;
  readonly drainDelayMs: number;
  readonly shutdownTimeoutMs: number;
}

function parseHashKey(reader: EnvReader, raw: string | undefined): HashKey | undefined {
  if (raw === undefined) return undefined;
  const header = /^header:([A-Za-z0-9!#$%&'*+.^_`|~-]+)$/.exec(raw);
  if (header?.[1] !== undefined) return { kind: 'header', name: header[1].toLowerCase() };
  const segment = /^path-segment:(\d{1,2})$/.exec(raw);
  if (segment?.[1] !== undefined) return { kind: 'path-segment', index: Number(segment[1]) };
  reader.problem(`HASH_KEY: "${raw}" must be header:<name> or path-segment:<n>`);
  return undefined;
}

/** What `auto` means: the CPUs this process may use (affinity and cgroup CPU quota), 1..MAX_BALANCER_WORKERS. */
export function defaultParallelism(): number {
  return usableCpus(MAX_BALANCER_WORKERS);
}

function parseWorkers(reader: EnvReader, parallelism: () => number): number {
  const raw = reader.optionalString('BALANCER_WORKERS');
  if (raw === undefined) return 1;
  const value = raw.trim().toLowerCase();
  if (value === 'auto') return parallelism();
  if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_BALANCER_WORKERS) return Number(value);
  reader.problem(`BALANCER_WORKERS: "${raw}" is not allowed (allowed: auto or an integer 1..${MAX_BALANCER_WORKERS})`);
  return 1;
}

/** Parses the balancer's configuration from an environment map; throws one ConfigError listing every bad variable. */
export function parseBalancerConfig(env: Env, parallelism: () => number = defaultParallelism): Readonly<BalancerConfig> {
  const r = new EnvReader(env);
  const picker = r.oneOf('BALANCER_PICKER', PICKERS, 'p2c-ewma');
  const hashKey = parseHashKey(r, r.optionalString('HASH_KEY'));
  if (picker === 'consistent-hash' && hashKey === undefined) {
    r.problem('HASH_KEY: required when BALANCER_PICKER=consistent-hash (header:<name> or path-segment:<n>)');
  }
  const discovery = readDiscoveryConfig(r, 'UPSTREAMS');
  if (discovery.kind === 'static' && discovery.entries.length === 0) {
    r.problem('UPSTREAMS: required with DISCOVERY=static (comma-separated http://host:port[?admin=PORT])');
  }
  const maxBodyBytes = r.int('MAX_BODY_BYTES', 10_485_760, { min: 1 });
  const ms = (name: string, fallback: number, min = 1): number => r.int(name, fallback, { min, max: 86_400_000 });
  const tls = readTlsConfig(r);
  const redirect = readRedirectConfig(r, tls);
  const config: BalancerConfig = {
    workers: parseWorkers(r, parallelism),
    host: r.string('BALANCER_HOST', '0.0.0.0'),
    port: r.port('BALANCER_PORT', 8080),
    adminPort: r.port('BALANCER_ADMIN_PORT', 9090),
    ...(tls !== undefined ? { tls } : {}),
    ...(redirect !== undefined ? { redirect } : {}),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    accessLog: r.bool('ACCESS_LOG', true),
    accessLogFlushMs: r.int('ACCESS_LOG_FLUSH_MS', 100, { min: 0, max: 10_000 }),
    discovery,
    picker,
    ...(hashKey !== undefined ? { hashKey } : {}),
    timeouts: {
      connectMs: ms('CONNECT_TIMEOUT_MS', 1_000),
      perTryMs: ms('PER_TRY_TIMEOUT_MS', 5_000),
      totalMs: ms('TOTAL_TIMEOUT_MS', 15_000),
      upstreamBodyIdleMs: ms('UPSTREAM_BODY_IDLE_TIMEOUT_MS', 30_000),
      upstreamIdleMs: ms('UPSTREAM_IDLE_TIMEOUT_MS', 30_000),
      clientHeaderMs: ms('CLIENT_HEADER_TIMEOUT_MS', 10_000),
      clientRequestMs: ms('CLIENT_REQUEST_TIMEOUT_MS', 60_000),
      clientKeepAliveMs: ms('CLIENT_KEEP_ALIVE_TIMEOUT_MS', 65_000),
    },
    limits: {
      maxHeaderBytes: r.int('MAX_HEADER_BYTES', 16_384, { min: 1_024, max: 1_048_576 }),
      maxUrlBytes: r.int('MAX_URL_BYTES', 8_192, { min: 256, max: 1_048_576 }),
      maxHeaderCount: r.int('MAX_HEADER_COUNT', 100, { min: 10, max: 10_000 }),
      maxBodyBytes,
      retryBufferBytes: Math.min(
        r.int('RETRY_BUFFER_BYTES', 65_536, { min: 0, max: 16_777_216 }),
        maxBodyBytes,
      ),
      maxInFlight: r.int('MAX_IN_FLIGHT', 2_000, { min: 1 }),
      maxInFlightPerEndpoint: r.int('MAX_IN_FLIGHT_PER_ENDPOINT', 256, { min: 1 }),
      connectionsPerEndpoint: r.int('CONNECTIONS_PER_ENDPOINT', 64, { min: 1, max: 10_000 }),
      retryAfterSeconds: r.int('RETRY_AFTER_SECONDS', 1, { min: 0, max: 3_600 }),
    },
    retry: {
      maxAttempts: r.int('RETRY_MAX_ATTEMPTS', 3, { min: 1, max: 10 }),
      budgetRatio: r.number('RETRY_BUDGET_RATIO', 0.2, { min: 0, max: 1 }),
      minConcurrent: r.int('RETRY_MIN_CONCURRENT', 3, { min: 0 }),
      budgetWaitMs: ms('RETRY_BUDGET_WAIT_MS', 1_000, 0),
      backoffBaseMs: ms('RETRY_BACKOFF_BASE_MS', 10, 0),
      backoffMaxMs: ms('RETRY_BACKOFF_MAX_MS', 200, 0),
    },
    outlier: {
      consecutiveFailures: r.int('OUTLIER_CONSECUTIVE_FAILURES', 5, { min: 1 }),
      baseEjectionMs: ms('OUTLIER_BASE_EJECTION_MS', 5_000),
      maxEjectionMs: ms('OUTLIER_MAX_EJECTION_MS', 60_000),
      maxEjectionPercent: r.int('OUTLIER_MAX_EJECTION_PERCENT', 50, { min: 0, max: 100 }),
      panicThresholdPercent: r.int('PANIC_THRESHOLD_PERCENT', 50, { min: 0, max: 100 }),
    },
    activeHealth: {
      enabled: r.bool('HEALTH_CHECK_ENABLED', false),
      intervalMs: ms('HEALTH_CHECK_INTERVAL_MS', 2_000),
      timeoutMs: ms('HEALTH_CHECK_TIMEOUT_MS', 1_000),
      unhealthyThreshold: r.int('HEALTH_CHECK_UNHEALTHY_THRESHOLD', 2, { min: 1 }),
      healthyThreshold: r.int('HEALTH_CHECK_HEALTHY_THRESHOLD', 1, { min: 1 }),
    },
    slowStartMs: ms('SLOW_START_MS', 10_000, 0),
    ewmaDecayMs: ms('EWMA_DECAY_MS', 10_000),
    drainDelayMs: ms('DRAIN_DELAY_MS', 5_000, 0),
    shutdownTimeoutMs: ms('SHUTDOWN_TIMEOUT_MS', 30_000),
  };
  if (config.outlier.maxEjectionMs < config.outlier.baseEjectionMs) {
    r.problem('OUTLIER_MAX_EJECTION_MS: must be >= OUTLIER_BASE_EJECTION_MS');
  }
  if (config.timeouts.totalMs < config.timeouts.perTryMs) {
    r.problem('TOTAL_TIMEOUT_MS: must be >= PER_TRY_TIMEOUT_MS');
  }
  if (config.drainDelayMs >= config.shutdownTimeoutMs) {
    r.problem('DRAIN_DELAY_MS: must be below SHUTDOWN_TIMEOUT_MS');
  }
  r.finish();
  return deepFreeze(config);
}
