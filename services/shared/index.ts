export { FlotillaError, ConfigError, errorCode } from './errors.js';
export { EnvReader, deepFreeze, type Env } from './env-reader.js';
export { createLogger, isoTimeCachedPerMs, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
export { LogOutput, stdoutLogOutput, type LineSink } from './log-output.js';
export { createMetricsRegistry, LATENCY_BUCKETS } from './metrics.js';
export {
  createAdminServer,
  listen,
  closeServer,
  sendJson,
  type Readiness,
  type AdminHandler,
  type AdminServerOptions,
} from './admin-server.js';
export { installShutdown, delay, type ShutdownOptions } from './shutdown.js';
export { CrashBackoff } from './backoff.js';
export { dropUnreadBody, UNREAD_BODY_LIMITS, type UnreadBodyLimits } from './unread-body.js';
export {
  endpointId,
  endpointOrigin,
  type Endpoint,
  type EndpointListener,
  type EndpointSource,
} from './discovery/endpoint.js';
export { StaticEndpointSource, parseStaticEndpoint } from './discovery/static-source.js';
export { EndpointListeners } from './discovery/listeners.js';
export { endpointsFromSlices, sameEndpoints, type SlicePorts } from './discovery/endpoint-slices.js';
export { KubernetesEndpointSource, type KubernetesSourceOptions } from './discovery/kubernetes-source.js';
export { DnsEndpointSource, type DnsSourceOptions } from './discovery/dns-source.js';
export {
  readDiscoveryConfig,
  createEndpointSource,
  DISCOVERY_KINDS,
  type DiscoveryConfig,
} from './discovery/discovery-config.js';
export { HotCounter, HotHistogram } from './hot-metrics.js';
