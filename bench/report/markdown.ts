import { PEERS_PREFIX, type BenchResults, type FailoverRow, type ProfileEntry, type RunRow } from '../results.js';
import { growthTable } from './growth-table.js';
import { peersTable } from './peers-table.js';

/** Fixed-precision numbers that stay readable across 0.1 ms and 30 000 rps. */
export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toFixed(d);
}

/** "0.85×" — a ratio of this row to a reference; "–" when the reference is missing or zero. */
export function ratio(value: number, reference: number | undefined): string {
  if (reference === undefined || reference === 0 || !Number.isFinite(value)) return '–';
  return `${(value / reference).toFixed(2)}×`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * One row per target and scenario. Ratios compare each row with nginx's and
 * HAProxy's default rows of the same scenario: for the balancer rows they are
 * the balancer/nginx and balancer/HAProxy figures the targets are about.
 */
export function runsTable(runs: readonly RunRow[]): string {
  // req/CPU-s first: on a shared machine it is the figure that moves least (issue 15).
  const header = ['scenario', 'target', 'req/CPU-s', 'rps', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'rps ÷ nginx', 'rps ÷ HAProxy', 'p99 ÷ nginx', 'p99 ÷ HAProxy', 'rps of each round', 'load avg'];
  const rows = runs.map((run) => {
    const nginx = runs.find((r) => r.scenario === run.scenario && r.target === 'nginx');
    const haproxy = runs.find((r) => r.scenario === run.scenario && r.target === 'haproxy');
    const { result } = run;
    return [
      run.scenario,
      run.label,
      fmt(run.requestsPerCpuSecond, 0),
      fmt(result.rps, 0),
      fmt(result.latencyMs.p50),
      fmt(result.latencyMs.p99),
      fmt(result.latencyMs.p999),
      String(result.errors.total),
      ratio(result.rps, nginx?.result.rps),
      ratio(result.rps, haproxy?.result.rps),
      ratio(result.latencyMs.p99, nginx?.result.latencyMs.p99),
      ratio(result.latencyMs.p99, haproxy?.result.latencyMs.p99),
      (run.roundsRps ?? [run.result.rps]).map((r) => fmt(r, 0)).join(' / '),
      fmt(run.loadAverage, 1),
    ];
  });
  return table(header, rows);
}

export function failoverTable(rows: readonly FailoverRow[]): string {
  const header = [
    'target',
    'requests',
    'rps',
    'client errors',
    'error kinds',
    'last error after kill ms',
    'upstream taken out after kill ms (peer log)',
    'slowest request around kill ms',
    'p99 ms',
    'peer log during the run',
  ];
  return table(
    header,
    rows.map(({ label, summary: s, peerLog, detectedAfterKillMs }) => [
      label,
      String(s.requests),
      fmt(s.rps, 0),
      String(s.errors),
      Object.entries(s.errorKinds).map(([k, n]) => `${k}: ${n}`).join(', ') || '–',
      s.lastErrorAfterKillMs === null ? '–' : fmt(s.lastErrorAfterKillMs, 0),
      detectedAfterKillMs === null ? '–' : fmt(detectedAfterKillMs, 0),
      fmt(s.maxLatencyAroundKillMs, 0),
      fmt(s.p99Ms),
      Object.entries(peerLog).map(([k, n]) => `${k.replace(/\|/g, '/')} ×${n}`).join('; ') || '–',
    ]),
  );
}

export function profileTable(top: readonly ProfileEntry[], kind = 'self'): string {
  return table(
    [`${kind} %`, `${kind} ms`, 'function', 'where'],
    top.map((e) => [fmt(e.selfPercent, 1), fmt(e.selfMs, 0), `\`${e.functionName}\``, e.location]),
  );
}

export function resultsMarkdown(results: BenchResults): string {
  const parts = [
    `# Bench results (${results.date})`,
    '',
    `Machine: ${Object.entries(results.machine).map(([k, v]) => `${k} ${v}`).join('; ')}`,
    '',
    `Versions: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join('; ')}`,
    '',
    `Settings: ${Object.entries(results.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    '',
  ];
  const peerRuns = results.runs.filter((r) => r.scenario.startsWith(PEERS_PREFIX));
  const otherRuns = results.runs.filter((r) => !r.scenario.startsWith(PEERS_PREFIX));
  if (otherRuns.length > 0) parts.push('## Throughput and latency (wrk)', '', runsTable(otherRuns), '');
  if (peerRuns.length > 0) parts.push('## Node peers on each Node, nginx, HAProxy, Caddy (issue 15)', '', peersTable(peerRuns), '');
  if (results.growth !== undefined && results.growth.length > 0) parts.push('## How cost grows with work (issue 15)', '', growthTable(results.growth), '');
  if (results.failover.length > 0) parts.push('## Failover (SIGKILL of one upstream mid-run)', '', failoverTable(results.failover), '');
  if (results.profile) {
    parts.push(`## Balancer CPU profile, small GET (${fmt(results.profile.totalMs, 0)} ms sampled)`, '');
    parts.push(table(['category', 'self %'], Object.entries(results.profile.byCategory).map(([k, v]) => [k, fmt(v, 1)])), '');
    parts.push('Self time, busiest functions:', '', profileTable(results.profile.top), '');
    parts.push('Inclusive time of balancer functions and of the library calls they make (→):', '', profileTable(results.profile.inclusive, 'inclusive'), '');
  }
  if (results.notes.length > 0) parts.push('## Notes', '', ...results.notes.map((n) => `- ${n}`), '');
  parts.push('## Commands', '', '```', ...results.commands, '```', '');
  return parts.join('\n');
}
