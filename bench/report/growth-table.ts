import type { GrowthRow } from '../results.js';
import { fmt, table } from './markdown.js';

/** The "how cost grows with work" table: each case's req/CPU-s and p99 (when it had load), memory, lag, and what else it needs said. */
export function growthTable(rows: readonly GrowthRow[]): string {
  const header = ['case', 'req/CPU-s', 'p99 ms', 'rps', 'errors', 'RSS MiB', 'event-loop lag p99 ms (/metrics)', 'probe p50 / p99 / max ms', 'load avg', 'detail'];
  return table(
    header,
    rows.map((row) => [
      row.case,
      row.run ? fmt(row.run.requestsPerCpuSecond, 0) : '–',
      row.run ? fmt(row.run.result.latencyMs.p99) : '–',
      row.run ? fmt(row.run.result.rps, 0) : '–',
      row.run ? String(row.run.result.errors.total) : '–',
      fmt(row.rssMiB, 0),
      row.eventLoopLagP99Ms === undefined ? '–' : fmt(row.eventLoopLagP99Ms),
      row.probe ? `${fmt(row.probe.p50Ms)} / ${fmt(row.probe.p99Ms)} / ${fmt(row.probe.maxMs)}${row.probe.errors > 0 ? ` (${row.probe.errors} errors)` : ''}` : '–',
      row.run ? fmt(row.run.loadAverage, 1) : '–',
      row.detail,
    ]),
  );
}
