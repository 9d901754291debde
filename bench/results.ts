import type { FailoverSummary } from './load/failover-summary.js';
import type { LoadResult } from './load/wrk-parse.js';

/** Scenario names of the peers group (issue 15): prefixed, so that its rows get their own table and do not mix with the proxy group's. */
export const PEERS_PREFIX = 'peers: ';

/** One wrk measurement of one target in one scenario. */
export interface RunRow {
  readonly scenario: string;
  readonly target: string;
  readonly label: string;
  readonly result: LoadResult;
  /** CPU seconds the target's process group used during the measured run. */
  readonly cpuSeconds: number;
  /** Requests per CPU-second of the target: less sensitive than rps to other load on the machine. */
  readonly requestsPerCpuSecond: number;
  /** 1-minute load average when the run started (noise indicator). */
  readonly loadAverage: number;
  /** rps of every round (the row shows the best one); see measureRounds. */
  readonly roundsRps?: readonly number[];
}

/** One row of the growth group (issue 15): how the balancer's cost moves with endpoints, idle connections and churn. */
export interface GrowthRow {
  readonly case: string;
  /** The wrk run of this case (small GET), when it has one. */
  readonly run?: RunRow;
  /** VmRSS of the balancer after the case's load, MiB. */
  readonly rssMiB: number;
  /** prom-client's nodejs_eventloop_lag_p99_seconds from /metrics, ms (its 10 ms sampling resolution is the floor). */
  readonly eventLoopLagP99Ms?: number;
  /** One GET /small at a time, 20 ms apart, with no other load: lag seen from outside. */
  readonly probe?: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number; readonly errors: number };
  /** What else the row needs said (connections opened, endpoint changes seen, …). */
  readonly detail: string;
}

export interface FailoverRow {
  readonly target: string;
  readonly label: string;
  readonly killedUpstream: string;
  readonly killAtMs: number;
  readonly summary: FailoverSummary;
  /**
   * From the kill to the peer's own log line saying it took the upstream out
   * (our "endpoint ejected", HAProxy's "is DOWN"); null when it logs none
   * (nginx logs to its error_log file, not to us).
   */
  readonly detectedAfterKillMs: number | null;
  /** The peer's own log lines during the run, by message (JSON `msg`, else the line cut to 100 chars) → count. */
  readonly peerLog: Readonly<Record<string, number>>;
}

export interface ProfileEntry {
  readonly functionName: string;
  readonly location: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}

export interface BenchResults {
  readonly date: string;
  readonly machine: Readonly<Record<string, string>>;
  readonly versions: Readonly<Record<string, string>>;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly commands: readonly string[];
  readonly runs: readonly RunRow[];
  readonly failover: readonly FailoverRow[];
  readonly growth?: readonly GrowthRow[];
  readonly profile?: {
    readonly totalMs: number;
    readonly top: readonly ProfileEntry[];
    readonly byCategory: Readonly<Record<string, number>>;
    /** selfMs/selfPercent hold inclusive time here. */
    readonly inclusive: readonly ProfileEntry[];
  };
  readonly notes: readonly string[];
}
