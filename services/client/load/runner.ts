import type { LocalRunState } from '../../local/index.js';
import { apiPaths } from '../api.js';
import { CliError } from '../errors.js';
import { HttpClient, toCliError } from '../http-client.js';
import { ChaosMonkey, type ChaosEvent, type ChaosMode } from './chaos.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { CheckLedger, type Violation } from './ledger.js';
import { formatMix, OpPicker, OPS, type Op, type OpMix } from './op-mix.js';
import { ProgressLine } from './progress.js';
import { LoadStats } from './stats.js';
import { verifyLedger } from './verify.js';
import { VirtualUser } from './virtual-user.js';

export interface LoadOptions {
  readonly url: string;
  /** Exactly one of durationMs and requests bounds the run. */
  readonly durationMs: number | undefined;
  readonly requests: number | undefined;
  readonly concurrency: number;
  readonly mix: OpMix;
  readonly keysPerUser: number;
  readonly counters: number;
  readonly check: boolean;
  readonly chaos: { readonly mode: ChaosMode; readonly intervalMs: number; readonly pauseMs: number } | undefined;
  readonly timeoutMs: number;
  readonly resolveAttempts: number;
  readonly runId: string;
  readonly progress: boolean;
}

export interface LoadDeps {
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly progressWrite: (text: string) => void;
  readonly readState: () => LocalRunState | undefined;
  /** Aborting ends the load early (Ctrl-C); the report and the read-back still run. */
  readonly signal?: AbortSignal;
  readonly onChaos?: (event: ChaosEvent) => void;
}

export interface CheckReport {
  readonly passed: boolean;
  readonly ackedWrites: number;
  readonly uncertainWrites: number;
  readonly ackedIncrements: number;
  readonly uncertainIncrements: number;
  readonly replays: number;
  readonly keysVerified: number;
  readonly countersVerified: number;
  readonly lostWrites: number;
  readonly staleReads: number;
  readonly lostIncrements: number;
  readonly duplicateIncrements: number;
  readonly replayMismatches: number;
  readonly unverified: number;
  readonly violations: readonly Violation[];
}

export interface LoadReport {
  readonly runId: string;
  readonly url: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly mix: string;
  readonly interrupted: boolean;
  readonly requests: { readonly total: number; readonly errors: number; readonly ratePerSec: number; readonly resolutionRetries: number };
  readonly latencyMs: LatencySummary;
  readonly operations: Partial<Record<Op, { readonly requests: number; readonly errors: number; readonly latencyMs: LatencySummary }>>;
  readonly errors: Record<string, number>;
  /** From the first client-visible error to the last, in ms since the start; null without errors. */
  readonly errorWindow: { readonly firstMs: number; readonly lastMs: number } | null;
  readonly chaos: { readonly mode: ChaosMode; readonly intervalMs: number; readonly events: readonly ChaosEvent[] } | null;
  readonly check: CheckReport | null;
}

/** Fails fast with a clear message when nothing (or not the API) answers at the URL. */
async function preflight(client: HttpClient, url: string): Promise<void> {
  let status: number;
  try {
    status = (await client.request('GET', apiPaths.kvList({ limit: 1 }))).status;
  } catch (err) {
    throw toCliError(err, url);
  }
  if (status !== 200) throw new CliError('CLI_ERR_HTTP', `${url} answered HTTP ${status} to GET /v1/kv; is it a Flotilla balancer or worker?`);
}

/**
 * Runs the load: `concurrency` virtual users issue operations from the mix
 * until the duration or request count is reached, optionally with chaos;
 * with --check, reads everything back at the end and judges the guarantees.
 */
export async function runLoad(options: LoadOptions, deps: LoadDeps): Promise<{ report: LoadReport; distribution: string }> {
  const client = new HttpClient(options.url, { timeoutMs: options.timeoutMs, connections: options.concurrency + 4 });
  const latency = new LatencyRecorder();
  try {
    await preflight(client, options.url);
    const startedAt = deps.now();
    const stats = new LoadStats(() => deps.now() - startedAt);
    const ledger = options.check ? new CheckLedger(() => deps.now() - startedAt) : undefined;
    const picker = new OpPicker(options.mix);
    const chaos =
      options.chaos === undefined
        ? undefined
        : new ChaosMonkey({ ...options.chaos, readState: deps.readState, random: deps.random, now: () => deps.now() - startedAt, ...(deps.onChaos ? { onEvent: deps.onChaos } : {}) });
    const progress = options.progress
      ? new ProgressLine(deps.progressWrite, stats, latency, deps.now, startedAt, () => (chaos ? `  chaos ${chaos.events.length}` : ''))
      : undefined;

    let stopped = false;
    let interrupted = false;
    let issued = 0;
    const timer = options.durationMs === undefined ? undefined : setTimeout(() => (stopped = true), options.durationMs);
    const onAbort = (): void => {
      stopped = true;
      interrupted = true;
    };
    deps.signal?.addEventListener('abort', onAbort);
    const userDeps = {
      client,
      stats,
      latency,
      ledger,
      runId: options.runId,
      keysPerUser: options.keysPerUser,
      counters: options.counters,
      resolveAttempts: options.resolveAttempts,
      random: deps.random,
      now: deps.now,
      sleep: deps.sleep,
    };
    const users = Array.from({ length: options.concurrency }, (_, index) => new VirtualUser(index, userDeps));
    progress?.start();
    chaos?.start();
    try {
      await Promise.all(
        users.map(async (user) => {
          while (!stopped && (options.requests === undefined || issued < options.requests)) {
            issued += 1;
            await user.run(picker.pick(deps.random));
          }
        }),
      );
    } finally {
      clearTimeout(timer);
      chaos?.stop();
      progress?.stop();
      deps.signal?.removeEventListener('abort', onAbort);
    }
    const durationMs = Math.round(deps.now() - startedAt);

    let check: CheckReport | null = null;
    if (ledger !== undefined) {
      const verified = await verifyLedger({ client, ledger, runId: options.runId, parallel: 16, attempts: 12, sleep: deps.sleep });
      const counts = ledger.counts;
      check = {
        passed: ledger.passed,
        ackedWrites: ledger.ackedWrites,
        uncertainWrites: ledger.uncertainWrites,
        ackedIncrements: ledger.ackedIncrements,
        uncertainIncrements: ledger.uncertainIncrements,
        replays: ledger.replays,
        keysVerified: verified.keys,
        countersVerified: verified.counters,
        lostWrites: counts['lost-write'],
        staleReads: counts['stale-read'],
        lostIncrements: counts['lost-increment'],
        duplicateIncrements: counts['duplicate-increment'],
        replayMismatches: counts['replay-mismatch'],
        unverified: counts.unverified,
        violations: ledger.violations,
      };
    }
    const operations: LoadReport['operations'] = {};
    for (const op of OPS) {
      if (options.mix[op] > 0) operations[op] = { ...stats.byOp[op], latencyMs: latency.summary(op) };
    }
    const report: LoadReport = {
      runId: options.runId,
      url: options.url,
      startedAt: new Date(Date.now() - durationMs).toISOString(),
      durationMs,
      concurrency: options.concurrency,
      mix: formatMix(options.mix),
      interrupted,
      requests: {
        total: stats.requests,
        errors: stats.errors,
        ratePerSec: Math.round((stats.requests * 1_000) / Math.max(1, durationMs)),
        resolutionRetries: stats.resolutionRetries,
      },
      latencyMs: latency.summary(),
      operations,
      errors: stats.errorBreakdown(),
      errorWindow: stats.errorWindow(),
      chaos: options.chaos && chaos ? { mode: options.chaos.mode, intervalMs: options.chaos.intervalMs, events: chaos.events } : null,
      check,
    };
    return { report, distribution: latency.distribution() };
  } finally {
    latency.destroy();
    await client.close();
  }
}
