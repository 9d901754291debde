import { sendJson, type AdminHandler } from '../../shared/index.js';
import type { RecentTraffic, TrafficPoint } from './recent-traffic.js';

export interface TrafficReport {
  readonly intervalSeconds: number;
  readonly latencyIsUpperBound: true;
  readonly last: TrafficPoint | null;
  readonly points: readonly TrafficPoint[];
}

/** The last five minutes in 10-second intervals, and the last 10 seconds alone. */
export function trafficReport(traffic: RecentTraffic): TrafficReport {
  const points = traffic.points(10);
  return { intervalSeconds: 10, latencyIsUpperBound: true, last: points[points.length - 1] ?? null, points };
}

/** GET /admin/traffic. */
export function trafficRoute(traffic: RecentTraffic): AdminHandler {
  return (_req, res) => sendJson(res, 200, trafficReport(traffic));
}
