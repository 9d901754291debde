import { execFile } from 'node:child_process';
import type { LoadResult } from './wrk-parse.js';

export const H2LOAD_BIN = '/usr/bin/h2load';

export interface H2loadRun {
  readonly url: string;
  readonly requests: number;
  readonly clients: number;
  /** Concurrent streams per client connection. */
  readonly streams: number;
}

export class H2loadOutputError extends Error {
  override readonly name = 'H2loadOutputError';
  readonly code = 'BENCH_ERR_H2LOAD_OUTPUT';
}

/** The exact command line, for RESULTS.md. */
export function h2loadArgs(run: H2loadRun): string[] {
  return ['-n', String(run.requests), '-c', String(run.clients), '-m', String(run.streams), '-t', '1', run.url];
}

/** "123us", "4.5ms", "1.2s" as milliseconds. */
function ms(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value);
  if (match === null) return Number.NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1_000 : match[2] === 'ms' ? n : n * 1_000;
}

/**
 * h2load's summary: "finished in 1.23s, 8130.08 req/s, …", "requests: N
 * total, N started, N done, N succeeded, F failed, E errored, T timeout",
 * and the "time for request:" min/max/mean row. h2load reports no
 * percentiles, so p50…p99.9 are NaN (not measured) rather than made up.
 */
export function parseH2load(out: string): LoadResult {
  const finished = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(out);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const time = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  if (finished === null || requests === null || status === null) throw new H2loadOutputError(`unexpected h2load output:\n${out.slice(-2_000)}`);
  const n = (m: RegExpExecArray, i: number): number => Number(m[i]);
  return {
    requests: n(requests, 4),
    durationS: ms(`${finished[1]}${finished[2]}`) / 1_000,
    rps: n(finished, 3),
    // Every request asked for that did not succeed (2xx) counts, whatever the reason.
    errors: { connect: 0, read: n(requests, 6), write: 0, status: n(status, 3) + n(status, 4), timeout: n(requests, 7), total: n(requests, 1) - n(requests, 4) },
    latencyMs: { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, p999: Number.NaN, max: time === null ? Number.NaN : ms(time[2] ?? ''), mean: time === null ? Number.NaN : ms(time[3] ?? '') },
  };
}

export function runH2load(run: H2loadRun, timeoutS: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(H2LOAD_BIN, h2loadArgs(run), { timeout: timeoutS * 1_000, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`h2load failed: ${err.message}\n${errOut}`, { cause: err }));
      else {
        try {
          resolve(parseH2load(out));
        } catch (parseErr) {
          reject(parseErr);
        }
      }
    });
  });
}
