import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { groupCpuSeconds } from '../load/cpu-time.js';
import { startBalancer } from '../peers/balancer.js';
import type { Peer } from '../peers/peer.js';
import { TestPostgres } from '../../tests/helpers/postgres.js';
import type { ScenarioContext } from './context.js';
import { startBenchWorker } from './real-workers.js';

const KEYS = 1_000;
const CONCURRENCY = 32;
const BODY = JSON.stringify({ value: { greeting: 'hello', n: 42, tags: ['bench', 'kv'] } });

interface WriteFigures {
  readonly writes: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU of the worker per write, µs. */
  readonly workerCpuUs: number;
}

/**
 * PUTs of a small value over 1 000 keys, 32 at a time, for `seconds`: writes
 * per second, p50/p99 (ms) and the worker's CPU per write. `token` sends a
 * fresh Flotilla-Write-Token with each request, as the balancer does.
 */
async function measureWrites(url: string, seconds: number, token: boolean, workerPgid: number): Promise<WriteFigures> {
  const pool = new Pool(url, { connections: CONCURRENCY, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = groupCpuSeconds(workerPgid);
  const started = performance.now();
  const until = started + seconds * 1_000;
  const loop = async (lane: number): Promise<void> => {
    for (let i = lane; performance.now() < until; i += CONCURRENCY) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers['flotilla-write-token'] = randomUUID();
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'PUT', path: `/v1/kv/bench-put-${i % KEYS}`, headers, body: BODY });
        await res.body.dump();
        if (res.statusCode >= 300) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, lane) => loop(lane)));
  const elapsedS = (performance.now() - started) / 1_000;
  const cpu = groupCpuSeconds(workerPgid) - cpuBefore;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    writes: latencies.length,
    perSecond: latencies.length / elapsedS,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    workerCpuUs: (cpu / latencies.length) * 1e6,
  };
}

/**
 * What a write costs: one worker on an embedded Postgres, PUTs straight to
 * it without a write token and with one (the balancer's exactly-once
 * record), and through the balancer (which adds the token). The rows are
 * measured in one run, so their ratios hold even on a busy machine.
 */
export async function runWritePath(ctx: ScenarioContext): Promise<void> {
  const postgres = await TestPostgres.start();
  const peers: Peer[] = [];
  try {
    const databaseUrl = await postgres.createDatabase('flotilla_bench_writes');
    const worker = await startBenchWorker(ctx.children, databaseUrl, 'w1');
    await fetch(`${worker.url}/v1/kv/bench-put-0`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: BODY });
    const balancer = await startBalancer(ctx.children, [worker], { readyPath: '/v1/kv/bench-put-0' });
    peers.push(balancer);
    const seconds = ctx.options.durationS;
    const rows: [string, string, boolean][] = [
      ['PUT straight to the worker, no write token', worker.url, false],
      ['PUT straight to the worker, a write token each', worker.url, true],
      ['PUT through the balancer (it adds the token)', balancer.url, false],
    ];
    // Warm up every path once (JIT, pool, Postgres caches), then measure.
    for (const [, url, token] of rows) await measureWrites(url, Math.max(1, ctx.options.warmupS), token, worker.child.pid);
    let first: WriteFigures | undefined;
    for (const [label, url, token] of rows) {
      const f = await measureWrites(url, seconds, token, worker.child.pid);
      first ??= f;
      const line =
        `${label}: ${Math.round(f.perSecond)} writes/s (${(f.perSecond / first.perSecond).toFixed(2)}× the first row), ` +
        `p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, worker ${Math.round(f.workerCpuUs)} µs CPU/write, ${f.errors} errors`;
      ctx.log(`writes: ${line}`);
      ctx.notes.push(`Write path (${CONCURRENCY} concurrent PUTs over ${KEYS} keys, ${seconds} s, one worker on embedded Postgres), ${line}`);
    }
  } finally {
    await Promise.all(peers.map((p) => ctx.children.stop(p.child)));
    await postgres.destroy();
  }
}
