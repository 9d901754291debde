import type { LoadResult } from '../../../bench/load/wrk-parse.js';
import { metricValue } from '../../../bench/load/probe.js';
import { nodeTag, peersTable } from '../../../bench/report/peers-table.js';
import type { RunRow } from '../../../bench/results.js';

function row(target: string, perCpu: number): RunRow {
  const result: LoadResult = {
    requests: perCpu,
    durationS: 5,
    rps: perCpu / 5,
    errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0, total: 0 },
    latencyMs: { p50: 1, p90: 2, p99: perCpu / 1_000, p999: 9, max: 9, mean: 1 },
  };
  return { scenario: 'peers: small GET', target, label: target, result, cpuSeconds: 1, requestsPerCpuSecond: perCpu, loadAverage: 1 };
}

describe('bench peers table', () => {
  it('when peers run on two Node versions, then each Node peer is compared with the Node proxies of its own version and with nginx', () => {
    const md = peersTable([
      row('nginx', 40_000),
      row('node-baseline@20', 8_000),
      row('http-proxy@20', 4_000),
      row('fastify-http-proxy@20', 5_000),
      row('balancer@20', 6_000),
      row('node-baseline@24', 10_000),
      row('http-proxy@24', 5_000),
      row('fastify-http-proxy@24', 4_000),
      row('balancer@24', 8_000),
    ]);
    const line = (target: string): string | undefined => md.split('\n').find((l) => l.startsWith(`| peers: small GET | ${target} |`));
    expect(line('balancer@20')).toContain('| 6000 | 0.75× | 1.50× | 1.20× | 0.15× | 167 |');
    expect(line('balancer@24')).toContain('| 8000 | 0.80× | 1.60× | 2.00× | 0.20× | 125 |');
    // nginx has no Node: the same-Node ratios are dashes.
    expect(line('nginx')).toContain('| 40000 | – | – | – | 1.00× |');
  });

  it('when an id carries @<major>, then that is its Node tag', () => {
    expect(nodeTag('balancer-deploy@24')).toBe('24');
    expect(nodeTag('nginx')).toBeUndefined();
  });

  it('when /metrics text holds a sample, then metricValue reads it, and NaN when it is absent', () => {
    const text = '# HELP x\nnodejs_eventloop_lag_p99_seconds 0.0123\nnodejs_eventloop_lag_p99_seconds_x 5\n';
    expect(metricValue(text, 'nodejs_eventloop_lag_p99_seconds')).toBeCloseTo(0.0123);
    expect(metricValue(text, 'missing')).toBeNaN();
  });
});
