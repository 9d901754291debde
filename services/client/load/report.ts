import { renderTable } from '../table.js';
import type { LoadReport } from './runner.js';

const ms = (value: number): string => value.toFixed(2);

/** The human report: totals, per-operation latency, the HDR percentile table, errors, chaos and the check verdict. */
export function formatReport(report: LoadReport, distribution: string): string {
  const out: string[] = [];
  const seconds = (report.durationMs / 1_000).toFixed(1);
  out.push(
    `Load run ${report.runId} against ${report.url}${report.interrupted ? ' (interrupted)' : ''}`,
    `  ${report.requests.total} requests in ${seconds}s = ${report.requests.ratePerSec}/s, concurrency ${report.concurrency}, mix ${report.mix}`,
    `  errors: ${report.requests.errors}${report.requests.resolutionRetries > 0 ? `   (plus ${report.requests.resolutionRetries} same-key retries to settle uncertain writes)` : ''}`,
    '',
  );
  const rows = Object.entries(report.operations).map(([op, stats]) => [
    op,
    String(stats.requests),
    String(stats.errors),
    ms(stats.latencyMs.p50Ms),
    ms(stats.latencyMs.p90Ms),
    ms(stats.latencyMs.p99Ms),
    ms(stats.latencyMs.p999Ms),
    ms(stats.latencyMs.maxMs),
  ]);
  const all = report.latencyMs;
  rows.push(['all', String(report.requests.total), String(report.requests.errors), ms(all.p50Ms), ms(all.p90Ms), ms(all.p99Ms), ms(all.p999Ms), ms(all.maxMs)]);
  out.push(renderTable(['OP', 'REQUESTS', 'ERRORS', 'P50 MS', 'P90 MS', 'P99 MS', 'P99.9 MS', 'MAX MS'], rows));
  out.push('Latency distribution (HdrHistogram, milliseconds):', distribution.trimEnd(), '');
  const errors = Object.entries(report.errors);
  const window = report.errorWindow;
  const windowLine = window === null ? '' : `\n  window: ${(window.firstMs / 1_000).toFixed(1)} s to ${(window.lastMs / 1_000).toFixed(1)} s after the start`;
  out.push(errors.length === 0 ? 'Errors: none' : `Errors:\n${errors.map(([kind, count]) => `  ${kind.padEnd(24)} ${count}`).join('\n')}${windowLine}`, '');
  if (report.chaos !== null) {
    out.push(`Chaos: ${report.chaos.mode} every ${report.chaos.intervalMs} ms, ${report.chaos.events.length} events`);
    for (const event of report.chaos.events) {
      out.push(`  ${(event.atMs / 1_000).toFixed(1).padStart(6)}s  ${event.signal.padEnd(8)} ${event.worker} (pid ${event.pid})`);
    }
    out.push('');
  }
  const check = report.check;
  if (check !== null) {
    out.push(
      `Check: ${check.passed ? 'PASSED' : 'FAILED'}`,
      `  acknowledged writes      ${check.ackedWrites}   (uncertain: ${check.uncertainWrites})`,
      `  acknowledged increments  ${check.ackedIncrements}   (uncertain: ${check.uncertainIncrements}, deliberate replays: ${check.replays})`,
      `  read back                ${check.keysVerified} keys, ${check.countersVerified} counters`,
      `  lost writes              ${check.lostWrites}`,
      `  lost increments          ${check.lostIncrements}`,
      `  duplicate increments     ${check.duplicateIncrements}`,
      `  replay mismatches        ${check.replayMismatches}`,
      `  stale reads              ${check.staleReads}`,
      `  unverified               ${check.unverified}`,
    );
    for (const violation of check.violations.slice(0, 20)) {
      out.push(`  ! ${violation.kind} ${violation.target} at ${(violation.atMs / 1_000).toFixed(1)}s: expected ${violation.expected}, saw ${violation.observed}`);
    }
    out.push('');
  }
  return out.join('\n');
}
