import { sendJson, type AdminHandler } from '../../shared/index.js';
import type { UpstreamSnapshot } from '../upstream/upstream-endpoint.js';
import type { UpstreamTable } from '../upstream/upstream-table.js';

export interface UpstreamsView {
  readonly picker: string;
  readonly draining: () => boolean;
  readonly inFlight: () => number;
  readonly tunnels: () => number;
}

/** The body of GET /admin/upstreams; a cluster primary merges its workers' reports into one of these (plus `workers`). */
export interface UpstreamsReport {
  readonly picker: string;
  readonly draining: boolean;
  readonly inFlight: number;
  readonly tunnels: number;
  readonly panic: boolean;
  readonly upstreams: readonly UpstreamSnapshot[];
  /** Cluster mode only: how many worker processes the figures add up. */
  readonly workers?: number;
}

export function upstreamsReport(table: UpstreamTable, view: UpstreamsView): UpstreamsReport {
  const candidates = table.candidates();
  return {
    picker: view.picker,
    draining: view.draining(),
    inFlight: view.inFlight(),
    tunnels: view.tunnels(),
    panic: candidates.panic,
    upstreams: table.all().map((u) => u.snapshot()),
  };
}

/** GET /admin/upstreams: the live table, one row per endpoint, for people and scripts. */
export function upstreamsRoute(table: UpstreamTable, view: UpstreamsView): AdminHandler {
  return (_req, res) => sendJson(res, 200, upstreamsReport(table, view));
}
