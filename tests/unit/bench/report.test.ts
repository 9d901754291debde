import { failoverTable, ratio, runsTable } from '../../../bench/report/markdown.js';
import type { LoadResult } from '../../../bench/load/wrk-parse.js';
import type { RunRow } from '../../../bench/results.js';
import { percentile, summarizeFailover } from '../../../bench/load/failover-summary.js';
import { errorLabel } from '../../../bench/load/fixed-concurrency.js';
import { countMessages, firstLineTime } from '../../../bench/load/peer-log.js';

function row(target: string, rps: number, p99: number): RunRow {
  const result: LoadResult = {
    requests: rps * 10,
    durationS: 10,
    rps,
    errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0, total: 0 },
    latencyMs: { p50: 1, p90: 2, p99, p999: p99 * 2, max: p99 * 3, mean: 1 },
  };
  return { scenario: 'small GET', target, label: target, result, cpuSeconds: 10, requestsPerCpuSecond: rps, loadAverage: 1 };
}

describe('bench report', () => {
  it('when nginx and HAProxy rows exist in a scenario, then each row carries its rps and p99 ratios to them', () => {
    const md = runsTable([row('nginx', 10_000, 4), row('haproxy', 8_000, 2), row('balancer', 5_000, 8)]);
    const balancer = md.split('\n').find((l) => l.startsWith('| small GET | balancer'));
    expect(balancer).toContain('| 0.50× | 0.63× | 2.00× | 4.00× |');
    expect(md.split('\n')[1]).toMatch(/^\|( --- \|)+$/);
  });

  it('when a reference is missing or zero, then the ratio is a dash, not Infinity', () => {
    expect(ratio(5, undefined)).toBe('–');
    expect(ratio(5, 0)).toBe('–');
    expect(ratio(3, 2)).toBe('1.50×');
  });

  it('when requests fail after the kill, then the summary counts them by kind and times the last one from the kill', () => {
    const records = [
      { start: 0, end: 5, status: 200 },
      { start: 100, end: 130, status: 502, error: 'status 502 LB_ERR_UPSTREAM_FAILED' },
      { start: 120, end: 400, status: 0, error: 'ECONNRESET' },
      { start: 150, end: 160, status: 200 },
    ];
    const summary = summarizeFailover(records, 110, 1_000);
    expect(summary.errors).toBe(2);
    expect(summary.errorKinds).toEqual({ 'status 502 LB_ERR_UPSTREAM_FAILED': 1, ECONNRESET: 1 });
    expect(summary.lastErrorAfterKillMs).toBe(290);
    expect(summary.maxLatencyAroundKillMs).toBe(280);
    expect(failoverTable([{ target: 'x', label: 'x', killedUpstream: 'f2', killAtMs: 110, summary, detectedAfterKillMs: null, peerLog: {} }])).toContain('| 2 |');
  });

  it('when no request fails, then the time to the last error is null', () => {
    expect(summarizeFailover([{ start: 0, end: 1, status: 200 }], 0, 1_000).lastErrorAfterKillMs).toBeNull();
  });

  it('when a percentile is asked of sorted values, then it is the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 99)).toBe(0);
  });

  it('when an error body is our JSON shape, then its code joins the label; HTML bodies give the status alone', () => {
    expect(errorLabel(502, Buffer.from('{"error":{"code":"LB_ERR_X","message":"m"}}'))).toBe('status 502 LB_ERR_X');
    expect(errorLabel(502, Buffer.from('<html>Bad Gateway</html>'))).toBe('status 502');
  });
});

describe('peer log', () => {
  it('when lines are pino JSON or plain text, then they are counted by msg or by their text', () => {
    const lines = ['{"level":40,"msg":"retry budget exhausted"}', '{"level":40,"msg":"retry budget exhausted"}', '[WARNING] Server be/f2 is DOWN'];
    expect(countMessages(lines)).toEqual({ 'retry budget exhausted': 2, '[WARNING] Server be/f2 is DOWN': 1 });
  });

  it('when looking for the line that took an upstream out, then lines before the kill or before `from` do not count', () => {
    const lines = ['endpoint ejected', 'noise', 'endpoint ejected', 'endpoint ejected'];
    const times = [5, 20, 30, 40];
    expect(firstLineTime(lines, times, 0, 10, /ejected/)).toBe(30);
    expect(firstLineTime(lines, times, 3, 10, /ejected/)).toBe(40);
    expect(firstLineTime(lines, times, 0, 50, /ejected/)).toBeUndefined();
  });
});
