import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { closeServer, createAdminServer, createMetricsRegistry, delay, listen, type EndpointSource, type Logger, type Readiness } from '../shared/index.js';
import { AccessLog } from './access-log.js';
import { RecentTraffic } from './admin/recent-traffic.js';
import { statusPageRoute } from './admin/status-page.js';
import { trafficRoute } from './admin/traffic-route.js';
import { upstreamsReport, upstreamsRoute, type UpstreamsReport, type UpstreamsView } from './admin/upstreams-route.js';
import type { BalancerConfig } from './config.js';
import { ActiveHealthChecker } from './health/active-checker.js';
import { BalancerMetrics } from './metrics.js';
import { createPicker } from './pick/index.js';
import { createClientErrorListener } from './proxy/client-errors.js';
import { FirstRequestTimer } from './proxy/first-request-timer.js';
import { ProxyHandler } from './proxy/proxy-handler.js';
import { RetryBudget } from './proxy/retry-budget.js';
import { UpgradeTunnels } from './proxy/upgrade-tunnel.js';
import { UpstreamTable } from './upstream/upstream-table.js';
import { loadCertificatePair } from './tls/certificate-pair.js';
import { CertificateReloader, pairFilesOf } from './tls/certificate-reloader.js';
import { createRedirectServer } from './tls/redirect-server.js';
import { SecureDataServer } from './tls/secure-server.js';

export interface BalancerDeps {
  readonly source: EndpointSource;
  readonly logger: Logger;
  /** The access log (main.ts: batched on stdout); default: one written line by line to stdout, for in-process tests. */
  readonly accessLog?: AccessLog;
  /** A registry of its own by default (tests may run several balancers in one process). */
  readonly registry?: Registry;
  readonly random?: () => number;
  /**
   * false in a cluster worker (BALANCER_WORKERS > 1): the primary serves the
   * admin port and asks the worker for readiness(), upstreams() and
   * traffic over IPC. start() then binds the data port only and logs
   * "balancer worker listening" (the primary logs "balancer listening").
   */
  readonly adminServer?: boolean;
}

export interface BoundPorts {
  readonly port: number;
  /** The plain listener that only redirects to https (BALANCER_HTTP_REDIRECT_PORT). */
  readonly redirectPort?: number;
  /** Undefined without an admin server of its own (a cluster worker). */
  readonly adminPort?: number;
}

export interface Balancer {
  readonly table: UpstreamTable;
  readonly registry: Registry;
  /** Starts discovery, health checks and both listeners; resolves with the bound ports. */
  start(): Promise<BoundPorts>;
  /**
   * The graceful shutdown: readiness fails, traffic is still served for the
   * drain delay (while endpoint removal spreads to whoever routes to us),
   * then the listener closes, in-flight requests finish, tunnels and pools
   * close, and the admin port goes last.
   */
  shutdown(): Promise<void>;
  readonly draining: boolean;
  /** What /readyz answers. */
  readiness(): Readiness;
  /** What /admin/upstreams answers. */
  upstreams(): UpstreamsReport;
  /** The last minutes of traffic behind /admin/traffic. */
  readonly traffic: RecentTraffic;
}

export function buildBalancer(config: BalancerConfig, deps: BalancerDeps): Balancer {
  const { source, logger } = deps;
  const registry = deps.registry ?? createMetricsRegistry();
  const metrics = new BalancerMetrics(registry);
  const random = deps.random ?? Math.random;
  const table = new UpstreamTable(
    source,
    {
      pool: {
        connections: config.limits.connectionsPerEndpoint,
        connectTimeoutMs: config.timeouts.connectMs,
        idleTimeoutMs: config.timeouts.upstreamIdleMs,
        // Our per-try timer is the real limit; undici's is a backstop.
        headersTimeoutMs: config.timeouts.totalMs,
        bodyTimeoutMs: config.timeouts.upstreamBodyIdleMs,
      },
      outlier: config.outlier,
      ewmaDecayMs: config.ewmaDecayMs,
      slowStartMs: config.slowStartMs,
      maxEjectionPercent: config.outlier.maxEjectionPercent,
      panicThresholdPercent: config.outlier.panicThresholdPercent,
    },
    metrics,
    logger,
  );
  const picker = createPicker(config.picker, random);
  let draining = false;
  let started = false;
  const traffic = new RecentTraffic();
  const proxy = new ProxyHandler({
    config,
    table,
    picker,
    budget: new RetryBudget(config.retry.budgetRatio, config.retry.minConcurrent),
    metrics,
    logger,
    accessLog: deps.accessLog ?? new AccessLog('balancer', { write: (line) => process.stdout.write(line) }),
    random,
    isDraining: () => draining,
    traffic,
  });
  // Gauges written from the live state at scrape time (see BalancerMetrics).
  metrics.beforeStateScrape = () => table.refreshStateMetrics();
  metrics.readInFlight = () => proxy.inFlight;
  metrics.readUpstreamInFlight = () => table.inFlightCounts();
  const tunnels = new UpgradeTunnels({ config, table, picker, metrics, logger });
  const checker = config.activeHealth.enabled ? new ActiveHealthChecker(table, config.activeHealth, logger) : undefined;

  const firstRequest = new FirstRequestTimer(config.timeouts.clientHeaderMs, metrics);
  const clientErrors = createClientErrorListener(proxy, metrics);
  const data = config.tls === undefined ? plainDataServer(config, proxy, firstRequest, tunnels, clientErrors) : undefined;
  let secure: SecureDataServer | undefined;
  let reloader: CertificateReloader | undefined;
  if (config.tls !== undefined) {
    const tls = config.tls;
    // Checked by parseBalancerConfig already; loaded again for the bytes.
    const pair = loadCertificatePair(pairFilesOf(tls));
    secure = new SecureDataServer(
      { ...config, tls },
      pair,
      {
        request: proxy.handle,
        upgrade: (req, socket, head) => {
          firstRequest.onUpgrade(req);
          tunnels.handle(req, socket, head);
        },
        clientError: clientErrors,
        http1Connection: firstRequest.onConnection,
        http1Request: firstRequest.onRequest,
      },
      metrics,
      logger,
    );
    reloader = new CertificateReloader(tls, pair, secure, metrics, logger);
  }
  const redirect = config.redirect === undefined ? undefined : createRedirectServer(config.redirect, config);

  const readiness = (): Readiness => {
    if (draining) return { ready: false, reason: 'draining' };
    if (!started) return { ready: false, reason: 'starting' };
    if (table.size === 0) return { ready: false, reason: 'no upstream endpoint known yet' };
    return { ready: true };
  };
  const view: UpstreamsView = {
    picker: picker.name,
    draining: () => draining,
    inFlight: () => proxy.inFlight,
    tunnels: () => tunnels.count,
  };
  const admin =
    deps.adminServer === false
      ? undefined
      : createAdminServer({
          registry,
          logger,
          readiness,
          routes: {
            '/admin/upstreams': upstreamsRoute(table, view),
            '/admin/traffic': trafficRoute(traffic),
            '/admin/status': statusPageRoute(),
          },
        });

  return {
    table,
    registry,
    traffic,
    get draining() {
      return draining;
    },
    readiness,
    upstreams: () => upstreamsReport(table, view),
    async start() {
      table.attach();
      await source.start();
      table.attach();
      checker?.start();
      const adminPort = admin === undefined ? undefined : await listen(admin, config.adminPort, config.host);
      const port = secure !== undefined ? await secure.listen(config.port, config.host) : await listen(data as Server, config.port, config.host);
      const redirectPort = redirect === undefined || config.redirect === undefined ? undefined : await listen(redirect, config.redirect.port, config.host);
      reloader?.start();
      started = true;
      const fields = {
        port,
        host: config.host,
        discovery: source.description,
        picker: picker.name,
        tls: secure !== undefined,
        ...(redirectPort !== undefined ? { redirectPort } : {}),
      };
      if (admin === undefined) logger.info(fields, 'balancer worker listening');
      else logger.info({ ...fields, adminPort }, 'balancer listening');
      return { port, ...(adminPort !== undefined ? { adminPort } : {}), ...(redirectPort !== undefined ? { redirectPort } : {}) };
    },
    async shutdown() {
      draining = true;
      proxy.drain();
      logger.info({ drainDelayMs: config.drainDelayMs, inFlight: proxy.inFlight }, 'draining: readiness off, still serving');
      await delay(config.drainDelayMs);
      reloader?.stop();
      const closed = secure !== undefined ? secure.close() : closeServer(data as Server);
      const redirectClosed = redirect === undefined ? Promise.resolve() : closeServer(redirect);
      logger.info({ inFlight: proxy.inFlight }, 'listener closed; waiting for in-flight requests');
      await proxy.whenIdle();
      // Keep-alive sockets left idle after their last response.
      data?.closeIdleConnections();
      tunnels.closeAll();
      data?.closeAllConnections();
      secure?.closeAll();
      redirect?.closeAllConnections();
      await closed;
      await redirectClosed;
      await checker?.stop();
      await table.close();
      await source.stop();
      if (admin !== undefined) await closeServer(admin);
      logger.info('balancer stopped');
    },
  };
}

/** The plain HTTP/1.1 data listener (no TLS configured). */
function plainDataServer(
  config: BalancerConfig,
  proxy: ProxyHandler,
  firstRequest: FirstRequestTimer,
  tunnels: UpgradeTunnels,
  clientErrors: ReturnType<typeof createClientErrorListener>,
): Server {
  const server: Server = createServer({
    maxHeaderSize: config.limits.maxHeaderBytes,
    headersTimeout: config.timeouts.clientHeaderMs,
    requestTimeout: config.timeouts.clientRequestMs,
    keepAliveTimeout: config.timeouts.clientKeepAliveMs,
    // How often Node looks for connections past headersTimeout/requestTimeout
    // (default 30 s, far too coarse for a 10 s header limit).
    connectionsCheckingInterval: Math.min(1_000, config.timeouts.clientHeaderMs),
    requireHostHeader: true,
  });
  server.on('connection', firstRequest.onConnection);
  server.on('request', firstRequest.onRequest);
  server.on('request', proxy.handle);
  server.on('upgrade', firstRequest.onUpgrade);
  server.on('upgrade', tunnels.handle);
  server.on('clientError', clientErrors);
  return server;
}
