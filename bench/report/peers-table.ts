import type { RunRow } from '../results.js';
import { fmt, ratio, table } from './markdown.js';

/** The Node tag of a peer id (`balancer-deploy@24` → "24"), undefined for nginx, HAProxy, Caddy. */
export function nodeTag(id: string): string | undefined {
  return /@(\d+)$/.exec(id)?.[1];
}

/**
 * The issue-15 table: requests per CPU-second first (the figure a shared
 * machine disturbs least), then the ratios the goals are stated in — against
 * the minimal proxy, http-proxy and @fastify/http-proxy on the same Node, and
 * against nginx — then rps and latency for the record.
 */
export function peersTable(runs: readonly RunRow[]): string {
  const header = [
    'scenario',
    'target',
    'req/CPU-s',
    '÷ minimal proxy, same Node',
    '÷ http-proxy, same Node',
    '÷ @fastify/http-proxy, same Node',
    '÷ nginx',
    'CPU µs/req',
    'p99 ms',
    'p99 ÷ minimal proxy',
    'rps',
    'p50 ms',
    'errors',
    'rps of each round',
    'load avg',
  ];
  const rows = runs.map((run) => {
    const tag = nodeTag(run.target);
    const find = (id: string): RunRow | undefined => runs.find((r) => r.scenario === run.scenario && r.target === id);
    const sameNode = (base: string): RunRow | undefined => (tag === undefined ? undefined : find(`${base}@${tag}`));
    const baseline = sameNode('node-baseline');
    const perCpu = run.requestsPerCpuSecond;
    return [
      run.scenario,
      run.label,
      fmt(perCpu, 0),
      ratio(perCpu, baseline?.requestsPerCpuSecond),
      ratio(perCpu, sameNode('http-proxy')?.requestsPerCpuSecond),
      ratio(perCpu, sameNode('fastify-http-proxy')?.requestsPerCpuSecond),
      ratio(perCpu, find('nginx')?.requestsPerCpuSecond),
      perCpu > 0 ? fmt(1e6 / perCpu, 0) : '–',
      fmt(run.result.latencyMs.p99),
      ratio(run.result.latencyMs.p99, baseline?.result.latencyMs.p99),
      fmt(run.result.rps, 0),
      fmt(run.result.latencyMs.p50),
      String(run.result.errors.total),
      (run.roundsRps ?? [run.result.rps]).map((r) => fmt(r, 0)).join(' / '),
      fmt(run.loadAverage, 1),
    ];
  });
  return table(header, rows);
}
