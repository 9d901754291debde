import { RESULT_MARKER } from './wrk-parse.js';

export interface RequestShape {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Bytes of body to send with every request (POST). */
  readonly bodyBytes?: number;
  /**
   * Think time: each connection waits this long after an answer before its
   * next request (wrk's delay() hook), which paces the load at about
   * connections × 1000 / thinkMs requests per second instead of as fast as
   * the proxy answers.
   */
  readonly thinkMs?: number;
}

/**
 * The Lua script for one wrk run: the request to send, and a `done` hook that
 * prints every figure we need on one JSON line (see parseWrkOutput).
 * https://github.com/wg/wrk/blob/4.1.0/SCRIPTING
 */
export function wrkScript(shape: RequestShape): string {
  const lines = [`wrk.method = "${shape.method}"`, `wrk.path = "${shape.path}"`];
  if (shape.bodyBytes !== undefined && shape.bodyBytes > 0) {
    lines.push(`wrk.body = string.rep("x", ${shape.bodyBytes})`, `wrk.headers["Content-Type"] = "application/octet-stream"`);
  }
  if (shape.thinkMs !== undefined && shape.thinkMs > 0) lines.push(`delay = function() return ${shape.thinkMs} end`);
  const fields = [
    ['requests', 'summary.requests'],
    ['durationUs', 'summary.duration'],
    ['connect', 'summary.errors.connect'],
    ['read', 'summary.errors.read'],
    ['write', 'summary.errors.write'],
    ['status', 'summary.errors.status'],
    ['timeout', 'summary.errors.timeout'],
    ['p50', 'latency:percentile(50)'],
    ['p90', 'latency:percentile(90)'],
    ['p99', 'latency:percentile(99)'],
    ['p999', 'latency:percentile(99.9)'],
    ['max', 'latency.max'],
    ['mean', 'latency.mean'],
  ] as const;
  // %.1f everywhere: LuaJIT's %d rejects non-integral numbers, and mean is one.
  const format = fields.map(([name]) => `"${name}":%.1f`).join(',');
  lines.push(
    'done = function(summary, latency, requests)',
    `  io.write(string.format('${RESULT_MARKER}{${format}}\\n', ${fields.map(([, expr]) => expr).join(', ')}))`,
    'end',
  );
  return `${lines.join('\n')}\n`;
}
