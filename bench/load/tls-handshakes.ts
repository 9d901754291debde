import { connect } from 'node:tls';
import type { LoadResult } from './wrk-parse.js';

export interface HandshakeRun {
  readonly port: number;
  readonly ca: Buffer;
  /** Connections in all; each makes one full handshake and one request. */
  readonly count: number;
  readonly concurrency: number;
  /** Hard limit for the whole run. */
  readonly timeoutMs: number;
}

const REQUEST = 'GET /small HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

/**
 * One new TLS connection per request: tls.connect without a `session`
 * (Node's client never resumes on its own), ALPN http/1.1, one GET /small
 * with Connection: close, read to the end, closed. So every connection is a
 * full handshake (ECDHE + certificate signature on the proxy), plus one small
 * proxied request, which costs the proxy little next to the handshake. A
 * connection that sends nothing after its handshake would be cheaper still
 * but is not what clients do, and a TLS 1.3 server may not have finished
 * its side of the handshake when such a client hangs up.
 */
function oneConnection(run: HandshakeRun): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect({ host: '127.0.0.1', port: run.port, servername: 'localhost', ca: run.ca, ALPNProtocols: ['http/1.1'] });
    socket.setTimeout(5_000, () => socket.destroy(new Error('timed out')));
    // write, not end: a half-close would let a server without allowHalfOpen (node:tls) close before answering.
    socket.once('secureConnect', () => socket.write(REQUEST));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.once('error', () => resolve(false));
    socket.once('close', (hadError) => resolve(!hadError && answer.startsWith('HTTP/1.1 200')));
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** `count` connections, `concurrency` at a time, each timed from connect to close. */
export async function runHandshakes(run: HandshakeRun): Promise<LoadResult> {
  const started = performance.now();
  const deadline = started + run.timeoutMs;
  const times: number[] = [];
  let failed = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < run.count && performance.now() < deadline) {
      next += 1;
      const t0 = performance.now();
      if (await oneConnection(run)) times.push(performance.now() - t0);
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: run.concurrency }, lane));
  const durationS = (performance.now() - started) / 1_000;
  const sorted = [...times].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    requests: sorted.length,
    durationS,
    rps: sorted.length / durationS,
    errors: { connect: failed, read: 0, write: 0, status: 0, timeout: 0, total: failed },
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted[sorted.length - 1] ?? 0, mean },
  };
}
