import { closeServer, createMetricsRegistry, listen, type EndpointSource, type Logger } from '../../shared/index.js';
import type { BalancerConfig } from '../config.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { ClusterPrimary } from './cluster-primary.js';
import { createPrimaryAdmin } from './primary-admin.js';
import { WorkerQueries } from './worker-queries.js';

/** How long the admin port waits for a worker's answer. */
export const WORKER_QUERY_TIMEOUT_MS = 2_000;

export interface RunningPrimary {
  readonly port: number;
  readonly adminPort: number;
  shutdown(signal: NodeJS.Signals): Promise<void>;
  /** SIGKILLs every worker (shutdown past its limit). */
  killAll(): void;
}

/**
 * The cluster primary (BALANCER_WORKERS > 1): discovery once for all
 * workers, the admin port, the workers' life cycle. Logs "balancer
 * listening" once every worker listens on the data port.
 */
export async function startClusterPrimary(config: BalancerConfig, source: EndpointSource, logger: Logger): Promise<RunningPrimary> {
  const registry = createMetricsRegistry();
  const queries = new WorkerQueries(WORKER_QUERY_TIMEOUT_MS);
  const metrics = new ClusterMetrics(registry);
  const running = new ClusterPrimary(config, { source, logger, queries, metrics });
  metrics.countListening = () => running.listeningWorkers().length;
  const admin = createPrimaryAdmin({ primary: running, queries, registry, logger });
  try {
    await source.start();
    const adminPort = await listen(admin, config.adminPort, config.host);
    await running.start();
    const port = running.port ?? config.port;
    logger.info(
      {
        port,
        adminPort,
        host: config.host,
        workers: config.workers,
        workerPids: running.workers().map((w) => w.pid),
        discovery: source.description,
        picker: config.picker,
        tls: config.tls !== undefined,
        ...(running.redirectPort !== undefined ? { redirectPort: running.redirectPort } : {}),
        perWorkerLimits: {
          maxInFlight: config.limits.maxInFlight,
          maxInFlightPerEndpoint: config.limits.maxInFlightPerEndpoint,
          connectionsPerEndpoint: config.limits.connectionsPerEndpoint,
          retryBudgetRatio: config.retry.budgetRatio,
          retryMinConcurrent: config.retry.minConcurrent,
        },
        note: 'MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_ENDPOINT, CONNECTIONS_PER_ENDPOINT and the retry budget apply per worker process',
      },
      'balancer listening',
    );
    return {
      port,
      adminPort,
      killAll: () => running.killAll(),
      async shutdown(signal) {
        try {
          await running.shutdown(signal);
        } finally {
          await source.stop();
          await closeServer(admin);
          logger.info('balancer stopped');
        }
      },
    };
  } catch (err) {
    running.killAll();
    await source.stop();
    await closeServer(admin);
    throw err;
  }
}
