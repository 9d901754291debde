import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly quick: boolean;
  /** Load once on each peer right after it starts: V8 needs seconds to optimise the balancer's hot path. */
  readonly peerWarmupS: number;
  /** Measured runs per peer and scenario; the best one is reported (see measureRounds). */
  readonly rounds: number;
  /** Load before each measured run, discarded. */
  readonly warmupS: number;
  readonly durationS: number;
  readonly connections: number;
  /**
   * Connections for the slow-upstream scenario: few enough that no proxy is
   * CPU-bound, so p99 shows where the picker sends requests, not which proxy
   * ran out of CPU first.
   */
  readonly slowConnections: number;
  readonly threads: number;
  readonly failoverS: number;
  readonly failoverConcurrency: number;
  /** Kills per peer: the balancer's failover errors come and go, one run says little. */
  readonly failoverRuns: number;
  readonly profileS: number;
  /** Upstream endpoints of the profiled balancer: 3 processes, or more endpoints spread over 3 processes (how cost grows). */
  readonly profileEndpoints: number;
  /** Scenario groups to run: proxy, proxy2, slow, failover, workers, writes, data, profile, peers, growth, gc. */
  readonly groups: ReadonlySet<string>;
  /** Process counts the proxy2 group compares (balancer BALANCER_WORKERS, nginx worker_processes, HAProxy nbthread). */
  readonly processes: readonly number[];
  readonly outDir: string;
  /** Node 24 binary for the peers group; default: the newest cached Node 24 (peers/node-runtime.ts). */
  readonly node24?: string;
  /** Upstream endpoint counts the growth group compares. */
  readonly endpoints: readonly number[];
  /** Idle keep-alive client connections the growth group holds open on the balancer. */
  readonly idleConnections: number;
}

export const GROUPS = ['proxy', 'proxy2', 'slow', 'failover', 'workers', 'writes', 'data', 'profile', 'tls', 'peers', 'growth', 'gc'] as const;

/** Issue 15's groups (about 7, 4 and 2 minutes): run when named with --only, so that a plain `npm run bench` keeps its length. */
const OPT_IN_GROUPS: readonly string[] = ['peers', 'growth', 'gc'];

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
  readonly code = 'BENCH_ERR_USAGE';
}

/**
 * `node dist/bench/run.js [--quick] [--only proxy,proxy2,slow,…] [--processes 1,2] [--duration S] [--rounds N] [--connections N] [--out DIR]
 *  [--node24 PATH] [--endpoints 3,100,1000] [--idle-connections N] [--profile-endpoints N]`.
 * Full: about 8 minutes on 2 cores; --quick: about 70 seconds, a smoke run whose
 * figures are too short to quote (the balancer's JIT is barely warm after 1 s).
 */
export function parseBenchArgs(argv: readonly string[], defaultOutDir: string): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      processes: { type: 'string' },
      out: { type: 'string' },
      node24: { type: 'string' },
      endpoints: { type: 'string' },
      'idle-connections': { type: 'string' },
      'profile-endpoints': { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const number = (raw: string | undefined, fallback: number, name: string): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`--${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  // --quick leaves out Postgres (half a minute of set-up alone: workers, writes), the profile and the multi-process group, unless asked for by --only.
  const defaults = GROUPS.filter((g) => !OPT_IN_GROUPS.includes(g) && !(quick && ['workers', 'writes', 'data', 'profile', 'proxy2'].includes(g)));
  const groups = new Set<string>(values.only === undefined ? defaults : values.only.split(',').map((g) => g.trim()));
  const unknown = [...groups].filter((g) => !(GROUPS as readonly string[]).includes(g));
  if (unknown.length > 0) throw new BenchUsageError(`--only: unknown group(s) ${unknown.join(', ')}; known: ${GROUPS.join(', ')}`);
  const processes = (values.processes ?? '1,2').split(',').map((p) => number(p.trim(), 1, 'processes'));
  if (processes.some((p) => p > 64)) throw new BenchUsageError(`--processes: at most 64 each, got "${values.processes}"`);
  const endpoints = (values.endpoints ?? '3,100,1000').split(',').map((e) => number(e.trim(), 3, 'endpoints'));
  if (endpoints.some((e) => e > 5_000)) throw new BenchUsageError(`--endpoints: at most 5000 each, got "${values.endpoints}"`);
  const profileEndpoints = number(values['profile-endpoints'], 3, 'profile-endpoints');
  if (profileEndpoints > 5_000) throw new BenchUsageError(`--profile-endpoints: at most 5000, got "${profileEndpoints}"`);
  const idleConnections = number(values['idle-connections'], 10_000, 'idle-connections');
  // Each idle connection is one fd in the holder and one in the balancer; the bench raises neither hard limit.
  if (idleConnections > 15_000) throw new BenchUsageError(`--idle-connections: at most 15000, got "${idleConnections}"`);
  return Object.freeze({
    quick,
    processes: [...new Set(processes)],
    peerWarmupS: quick ? 1 : 5,
    rounds: number(values.rounds, quick ? 1 : 2, 'rounds'),
    // --quick: the peer warm-up has just run; a second one per run would only cost time.
    warmupS: quick ? 0 : 1,
    durationS: number(values.duration, quick ? 2 : 5, 'duration'),
    connections: number(values.connections, 50, 'connections'),
    slowConnections: 8,
    // One wrk thread: on 2 cores a second one only takes CPU from the proxy under test.
    threads: 1,
    failoverS: quick ? 3 : 8,
    failoverConcurrency: 32,
    failoverRuns: quick ? 1 : 2,
    profileS: quick ? 4 : 10,
    profileEndpoints,
    groups,
    outDir: values.out ?? defaultOutDir,
    ...(values.node24 !== undefined ? { node24: values.node24 } : {}),
    endpoints: [...new Set(endpoints)],
    idleConnections,
  });
}
