import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

export interface ProbeSummary {
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Event-loop lag seen from outside: one cheap GET at a time every `gapMs` on
 * one keep-alive connection. With no other load, its latency is the
 * balancer's queueing — mostly timers and sockets it is busy with.
 */
export async function probeLatency(url: string, count = 200, gapMs = 20): Promise<ProbeSummary> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(url, { agent, timeout: 5_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) times.push(performance.now() - start);
    else errors++;
    await new Promise((r) => setTimeout(r, gapMs));
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return { requests: count, errors, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), maxMs: times.at(-1) ?? Number.NaN };
}

/** VmRSS of one process, MiB (/proc/PID/status). */
export function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? Number.NaN : Number(kb) / 1024;
}

/** One sample from the balancer's /metrics (prom-client's default metrics and ours), or NaN when absent. */
export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}
