import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { createAdminServer, sendJson, type AdminHandler, type Logger } from '../../shared/index.js';
import { statusPageRoute } from '../admin/status-page.js';
import type { ClusterPrimary } from './cluster-primary.js';
import { isTrafficSeconds, isUpstreamsReport, mergeTraffic, mergeUpstreamReports } from './merge.js';
import { aggregateMetrics, isMetricsJson } from './metrics-aggregation.js';
import type { WorkerQueries } from './worker-queries.js';

export interface PrimaryAdminDeps {
  readonly primary: ClusterPrimary;
  readonly queries: WorkerQueries;
  /** The primary's own registry (process metrics, worker restarts); the workers' are added on every scrape. */
  readonly registry: Registry;
  readonly logger: Logger;
}

function unavailable(res: Parameters<AdminHandler>[1], failures: readonly string[]): void {
  sendJson(res, 503, { error: { code: 'FLT_ERR_WORKERS_UNAVAILABLE', message: failures.length > 0 ? failures.join('; ') : 'no balancer worker is listening' } });
}

/**
 * The admin port of a cluster primary, the same routes as a single-process
 * balancer: /readyz from the workers' reported states, and /metrics,
 * /admin/upstreams, /admin/traffic built from the answers of every listening
 * worker (one IPC question each, with a timeout). Plus /admin/workers.
 */
export function createPrimaryAdmin(deps: PrimaryAdminDeps): Server {
  const { primary, queries, registry, logger } = deps;
  const upstreams: AdminHandler = async (_req, res) => {
    const { answers, failures } = await queries.askAll(primary.listeningWorkers(), 'upstreams');
    const reports = answers.filter(isUpstreamsReport);
    if (failures.length > 0) logger.warn({ failures }, 'some workers did not answer /admin/upstreams');
    if (reports.length === 0) return unavailable(res, failures);
    sendJson(res, 200, mergeUpstreamReports(reports, primary.draining));
  };
  const traffic: AdminHandler = async (_req, res) => {
    const { answers, failures } = await queries.askAll(primary.listeningWorkers(), 'traffic');
    const seconds = answers.filter(isTrafficSeconds);
    if (failures.length > 0) logger.warn({ failures }, 'some workers did not answer /admin/traffic');
    if (seconds.length === 0) return unavailable(res, failures);
    sendJson(res, 200, mergeTraffic(seconds));
  };
  // Partial sums would look like counter resets to Prometheus: a scrape is all workers or a 503.
  const metricsText = async (): Promise<string> => {
    const { answers, failures } = await queries.askAll(primary.listeningWorkers(), 'metrics');
    if (failures.length > 0) throw new Error(`metrics incomplete: ${failures.join('; ')}`);
    const workers = answers.filter(isMetricsJson);
    if (workers.length !== answers.length) throw new Error('a worker sent malformed metrics');
    return aggregateMetrics([...workers, await registry.getMetricsAsJSON()]);
  };
  return createAdminServer({
    registry,
    logger,
    readiness: () => primary.readiness(),
    metricsText,
    routes: {
      '/admin/upstreams': upstreams,
      '/admin/traffic': traffic,
      '/admin/status': statusPageRoute(),
      '/admin/workers': (_req, res) => sendJson(res, 200, { draining: primary.draining, workers: primary.workers() }),
    },
  });
}
