import type { BenchOptions } from './options.js';
import type { Peer } from './peers/peer.js';
import type { RunRow } from './results.js';
import { groupCpuSeconds, loadAverage } from './load/cpu-time.js';
import { runWrk, wrkArgs, type WrkRun } from './load/wrk.js';
import type { RequestShape } from './load/wrk-script.js';

export interface Scenario {
  readonly name: string;
  readonly shape: RequestShape;
}

/** A paced scenario offers the same load to every peer: its rounds are told apart by latency, not by rps. */
export function isPaced(scenario: Scenario): boolean {
  return (scenario.shape.thinkMs ?? 0) > 0;
}

export const SMALL_GET: Scenario = { name: 'small GET keep-alive', shape: { method: 'GET', path: '/small' } };
export const LARGE_GET: Scenario = { name: '64 KiB GET', shape: { method: 'GET', path: '/64k' } };
/**
 * Issue 15's "p99 at the same offered load": 50 ms of think time per
 * connection, so with the default 50 connections about 1 000 requests per
 * second, a third or less of what any Node peer here answers flat out, so
 * that every peer gets the same load and latency is what differs. wrk waits
 * for each answer before the think time, so this is a paced closed loop, not
 * an open-loop generator: a peer that stalls is offered less meanwhile
 * (coordinated omission), which flatters a slow peer, never a fast one.
 */
export const SMALL_GET_PACED: Scenario = { name: 'small GET paced (50 ms think time per connection)', shape: { method: 'GET', path: '/small', thinkMs: 50 } };
export const POST_4K: Scenario = { name: 'POST 4 KiB echo', shape: { method: 'POST', path: '/echo', bodyBytes: 4_096 } };

export interface MeasureContext {
  readonly options: BenchOptions;
  readonly scriptDir: string;
  /** Every command line run, for RESULTS.md. */
  readonly commands: string[];
  readonly log: (line: string) => void;
}

/** Load on a freshly started peer, discarded: every peer gets the same, whether it needs it (a JIT) or not. */
export async function warmUpPeer(ctx: MeasureContext, peer: Peer, scenario: Scenario = SMALL_GET): Promise<void> {
  await runWrk({ url: peer.url, shape: scenario.shape, connections: ctx.options.connections, threads: ctx.options.threads, scriptDir: ctx.scriptDir, durationS: ctx.options.peerWarmupS });
}

/** Warm-up (discarded), then the measured wrk run, with the peer's CPU time around it. */
export async function measure(ctx: MeasureContext, peer: Peer, scenario: Scenario, scenarioName = scenario.name): Promise<RunRow> {
  const base = { url: peer.url, shape: scenario.shape, connections: ctx.options.connections, threads: ctx.options.threads, scriptDir: ctx.scriptDir };
  if (ctx.options.warmupS > 0) await runWrk({ ...base, durationS: ctx.options.warmupS });
  const run: WrkRun = { ...base, durationS: ctx.options.durationS };
  const load = loadAverage();
  const cpuBefore = groupCpuSeconds(peer.child.pid);
  const result = await runWrk(run);
  const cpuSeconds = groupCpuSeconds(peer.child.pid) - cpuBefore;
  // One line per scenario and peer, whatever the rounds; ports change every run, so they are left out.
  const command = `wrk ${wrkArgs({ ...run, url: `<${peer.id}>` }, `<${scenario.shape.method} ${scenario.shape.path}${scenario.shape.bodyBytes ? ` +${scenario.shape.bodyBytes} B` : ''}${scenario.shape.thinkMs ? `, delay() ${scenario.shape.thinkMs} ms` : ''}.lua>`).join(' ')}   # ${scenarioName}`;
  if (!ctx.commands.includes(command)) ctx.commands.push(command);
  ctx.log(
    `${scenarioName.padEnd(28)} ${peer.label.padEnd(34)} ${result.rps.toFixed(0).padStart(7)} rps  p50 ${result.latencyMs.p50.toFixed(2)}  p99 ${result.latencyMs.p99.toFixed(2)}  p99.9 ${result.latencyMs.p999.toFixed(2)} ms  errors ${result.errors.total}  cpu ${cpuSeconds.toFixed(1)}s`,
  );
  return {
    scenario: scenarioName,
    target: peer.id,
    label: peer.label,
    result,
    cpuSeconds,
    requestsPerCpuSecond: cpuSeconds > 0 ? result.requests / cpuSeconds : 0,
    loadAverage: load,
  };
}

/**
 * Every peer measured `rounds` times, the order reversed every other round,
 * keeping each peer's best round (highest rps). On a machine shared with
 * other work, noise only ever slows a run down, and a burst of someone
 * else's load should not land on one peer alone; all rounds stay in the JSON.
 */
export async function measureRounds(ctx: MeasureContext, peers: readonly Peer[], scenario: Scenario, scenarioName = scenario.name): Promise<RunRow[]> {
  const all = new Map<string, RunRow[]>(peers.map((p) => [p.id, []]));
  for (let round = 0; round < ctx.options.rounds; round++) {
    const order = round % 2 === 0 ? peers : [...peers].reverse();
    for (const peer of order) all.get(peer.id)?.push(await measure(ctx, peer, scenario, scenarioName));
  }
  // Flat out, the best round has the highest rps; paced, every round has about the same rps and the best has the lowest p99.
  const better = isPaced(scenario) ? (a: RunRow, b: RunRow) => b.result.latencyMs.p99 < a.result.latencyMs.p99 : (a: RunRow, b: RunRow) => b.result.rps > a.result.rps;
  return peers.map((peer) => {
    const rows = all.get(peer.id) ?? [];
    const best = rows.reduce((a, b) => (better(a, b) ? b : a));
    return { ...best, roundsRps: rows.map((r) => Math.round(r.result.rps)) };
  });
}
