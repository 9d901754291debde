import { runFixedLoad } from '../load/fixed-concurrency.js';
import { summarizeFailover } from '../load/failover-summary.js';
import { countMessages, firstLineTime } from '../load/peer-log.js';
import { startBalancer } from '../peers/balancer.js';
import { startHaproxy } from '../peers/haproxy.js';
import { startNginx } from '../peers/nginx.js';
import type { Peer } from '../peers/peer.js';
import { startUpstreams, stopUpstreams, type Upstream } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

/** Log lines that say a peer stopped sending to an upstream: ours, and HAProxy's health check verdict. */
const TAKEN_OUT = /endpoint ejected|is DOWN/;

type StartPeer = (ctx: ScenarioContext, upstreams: readonly Upstream[]) => Promise<Peer>;

const PEERS: readonly StartPeer[] = [
  (ctx, u) => startNginx(ctx.children, ctx.tmp, u),
  (ctx, u) => startHaproxy(ctx.children, ctx.tmp, u),
  (ctx, u) => startBalancer(ctx.children, u),
];

/**
 * SIGKILL of one of three upstreams a third of the way into a fixed-
 * concurrency GET load, for each proxy with fresh upstreams. The client
 * records every request, so the table can say how many failed and how long
 * after the kill the last one did.
 */
export async function runFailover(ctx: ScenarioContext): Promise<void> {
  const durationMs = ctx.options.failoverS * 1_000;
  const killAtMs = Math.round(durationMs / 3);
  for (let run = 1; run <= ctx.options.failoverRuns; run++) {
    for (const start of PEERS) await failOnce(ctx, start, run);
  }
  ctx.commands.push(
    `failover: node http load, ${ctx.options.failoverConcurrency} concurrent keep-alive GET /small for ${ctx.options.failoverS}s, SIGKILL of upstream 2 of 3 at ${killAtMs} ms, ${ctx.options.failoverRuns} run(s) per peer (bench/scenarios/failover.ts)`,
  );
}

/** One kill against one peer, with fresh upstreams (the killed one stays dead). */
async function failOnce(ctx: ScenarioContext, start: StartPeer, run: number): Promise<void> {
  const durationMs = ctx.options.failoverS * 1_000;
  const killAtMs = Math.round(durationMs / 3);
  const upstreams = await startUpstreams(ctx.children, [0, 0, 0], 'f');
  let peer: Peer | undefined;
  try {
    peer = await start(ctx, upstreams);
    const victim = upstreams[1];
    if (victim === undefined) throw new Error('no upstream to kill');
    // Warm-up: every pooled connection open before the kill, as in steady state.
    await runFixedLoad({ url: `${peer.url}/small`, concurrency: ctx.options.failoverConcurrency, durationMs: ctx.options.peerWarmupS * 1_000 });
    const logFrom = peer.child.lines.length;
    let killedAt = Number.POSITIVE_INFINITY;
    const { records, atMs } = await runFixedLoad({
      url: `${peer.url}/small`,
      concurrency: ctx.options.failoverConcurrency,
      durationMs,
      atMs: killAtMs,
      at: () => {
        killedAt = performance.now();
        ctx.children.crash(victim.child);
      },
    });
    const summary = summarizeFailover(records, atMs ?? killAtMs, durationMs);
    const peerLog = countMessages(peer.child.lines.slice(logFrom));
    const detectedAt = firstLineTime(peer.child.lines, peer.child.lineTimes, logFrom, killedAt, TAKEN_OUT);
    const detectedAfterKillMs = detectedAt === undefined ? null : detectedAt - killedAt;
    const label = ctx.options.failoverRuns > 1 ? `${peer.label} (run ${run})` : peer.label;
    ctx.failover.push({ target: peer.id, label, killedUpstream: victim.name, killAtMs: atMs ?? killAtMs, summary, detectedAfterKillMs, peerLog });
    ctx.log(`failover ${label}: peer log ${JSON.stringify(peerLog)}`);
    ctx.log(
      `failover ${label.padEnd(40)} ${summary.requests} requests, ${summary.errors} errors ${JSON.stringify(summary.errorKinds)}, last error ${summary.lastErrorAfterKillMs?.toFixed(0) ?? '–'} ms after kill, taken out after ${detectedAfterKillMs?.toFixed(0) ?? '–'} ms, slowest ${summary.maxLatencyAroundKillMs.toFixed(0)} ms`,
    );
  } finally {
    if (peer) await ctx.children.stop(peer.child);
    await stopUpstreams(ctx.children, upstreams);
  }
}

