import { sendJson, type AdminHandler } from '../../shared/index.js';
import type { RecentTraffic } from './recent-traffic.js';

/** GET /admin/traffic: the last five minutes in 10-second intervals, and the last 10 seconds alone. */
export function trafficRoute(traffic: RecentTraffic): AdminHandler {
  return (_req, res) => {
    const points = traffic.points(10);
    sendJson(res, 200, { intervalSeconds: 10, latencyIsUpperBound: true, last: points[points.length - 1] ?? null, points });
  };
}
