import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../k8s-static/render.js';
import { clusterLogsDir } from './cluster.js';

/**
 * The CLI's load generator (`flotilla load --check --json`) as a child
 * process inside the cluster's network namespace, aimed at the balancer's
 * Service: a bounded mixed load (put, get, del, idempotent increments,
 * counter reads) that records every acknowledged write and reads it all back
 * at the end (lost writes, duplicate increments, stale reads).
 */

export interface LoadReport {
  readonly requests: { readonly total: number; readonly errors: number; readonly ratePerSec: number };
  readonly errors: Record<string, number>;
  readonly errorWindow: { readonly firstMs: number; readonly lastMs: number } | null;
  readonly durationMs: number;
  readonly check: {
    readonly passed: boolean;
    readonly ackedWrites: number;
    readonly ackedIncrements: number;
    readonly lostWrites: number;
    readonly lostIncrements: number;
    readonly duplicateIncrements: number;
    readonly staleReads: number;
    readonly replayMismatches: number;
    readonly unverified: number;
  };
}

export interface RunningLoad {
  /** Date.now() when the load process started. */
  readonly startedAt: number;
  /** Resolves once the load has run its course and read everything back. */
  readonly done: Promise<{ code: number | null; report: LoadReport; stderr: string }>;
  /**
   * Lets the load run `tailMs` more (traffic on the recovered cluster), then
   * stops it as Ctrl-C would (it stops issuing, reads back and reports).
   */
  finishAfter(tailMs: number): Promise<{ code: number | null; report: LoadReport; stderr: string }>;
}

const running = new Set<ReturnType<typeof spawn>>();

/** Kills every load still running (a scenario that failed half-way leaves its load behind otherwise). */
export function killLoads(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** `durationS` bounds the load; a scenario usually ends it earlier with finishAfter. */
export function startLoad(url: string, options: { durationS: number; concurrency?: number }): RunningLoad {
  const args = [
    join(REPO_ROOT, 'dist/services/client/main.js'),
    'load',
    '--url',
    url,
    '--duration',
    `${options.durationS}s`,
    '--concurrency',
    String(options.concurrency ?? 8),
    '--check',
    '--json',
    '--no-progress',
  ];
  const startedAt = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // The load stops itself after durationS; the read-back after it is bounded by the CLI's own timeouts.
  const hardLimit = setTimeout(() => child.kill('SIGKILL'), (options.durationS + 180) * 1_000);
  const done = new Promise<{ code: number | null; report: LoadReport; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(hardLimit);
      running.delete(child);
      try {
        resolve({ code, report: JSON.parse(stdout) as LoadReport, stderr });
      } catch {
        reject(new Error(`load exited ${String(code)} without a JSON report:\n${stderr}\n${stdout.slice(0, 2_000)}`));
      }
    });
  });
  const finishAfter = async (tailMs: number): Promise<{ code: number | null; report: LoadReport; stderr: string }> => {
    await new Promise((r) => setTimeout(r, tailMs));
    if (child.exitCode === null) child.kill('SIGINT');
    return done;
  };
  return { startedAt, done, finishAfter };
}

/**
 * One row per scenario (requests, client errors by kind, the error window and
 * what recovery took), appended to a file beside the cluster's logs so that
 * a run leaves the figures k8s/README.md quotes; printed as well.
 */
export function recordFigures(scenario: string, report: LoadReport, recovery: string): void {
  const file = join(clusterLogsDir(), 'failover-figures.md');
  const errors = Object.entries(report.errors).map(([kind, count]) => `${count} × ${kind}`).join(', ') || '0';
  const row = `| ${scenario} | ${report.requests.total} | ${errors} | ${errorWindowSeconds(report).toFixed(1)} s | ${recovery} |`;
  appendFileSync(file, `${row}\n`);
  process.stdout.write(`${row}\n`);
}

export function errorWindowSeconds(report: LoadReport): number {
  return report.errorWindow === null ? 0 : (report.errorWindow.lastMs - report.errorWindow.firstMs) / 1_000;
}
