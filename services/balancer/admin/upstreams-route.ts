import { sendJson, type AdminHandler } from '../../shared/index.js';
import type { UpstreamTable } from '../upstream/upstream-table.js';

export interface UpstreamsView {
  readonly picker: string;
  readonly draining: () => boolean;
  readonly inFlight: () => number;
  readonly tunnels: () => number;
}

/** GET /admin/upstreams: the live table, one row per endpoint, for people and scripts. */
export function upstreamsRoute(table: UpstreamTable, view: UpstreamsView): AdminHandler {
  return (_req, res) => {
    const candidates = table.candidates();
    sendJson(res, 200, {
      picker: view.picker,
      draining: view.draining(),
      inFlight: view.inFlight(),
      tunnels: view.tunnels(),
      panic: candidates.panic,
      upstreams: table.all().map((u) => u.snapshot()),
    });
  };
}
