import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SMALL_GET, measure, warmUpPeer } from '../measure.js';
import { startBalancer, startBaselineProxy } from '../peers/balancer.js';
import { nodeRuntimes, type NodeRuntime } from '../peers/node-runtime.js';
import type { Peer } from '../peers/peer.js';
import { sumGcTrace, type GcTotals } from '../profile/gc-trace.js';
import { startUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

const TRACE = ['--trace-gc-nvp'];

/** A peer and where its --trace-gc-nvp lines go: the runner's pipe, or (deployment settings) the access log file. */
interface TracedPeer {
  readonly peer: Peer;
  readonly traceFile?: string;
}

/** The trace lines a peer wrote while `run` ran. */
async function traceDuring(traced: TracedPeer, run: () => Promise<void>): Promise<string[]> {
  if (traced.traceFile === undefined) {
    const from = traced.peer.child.lines.length;
    await run();
    // The last lines may still be in the pipe.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return traced.peer.child.lines.slice(from);
  }
  const from = statSync(traced.traceFile).size;
  await run();
  const length = statSync(traced.traceFile).size - from;
  const buffer = Buffer.alloc(length);
  const fd = openSync(traced.traceFile, 'r');
  try {
    readSync(fd, buffer, 0, length, from);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8').split('\n');
}

function perRequest(gc: GcTotals, requests: number): { promotedBytes: number; youngPauseUs: number } {
  return { promotedBytes: gc.promotedBytes / requests, youngPauseUs: (gc.youngPauseMs * 1000) / requests };
}

/**
 * Garbage collection per request, the balancer against the minimal proxy:
 * each runs with --trace-gc-nvp (V8's line per collection) under the same
 * small-GET load, one after the other, the order reversed every other
 * round. The figures are the bytes moved to the old generation per request
 * and the young collections' pause per request: a request's objects should
 * die young, and a proxy that keeps them alive (found in issue 15's fifth
 * session: a Set's rebuilt tables, a finished call holding the response)
 * shows it here as a multiple of the floor's. The trace costs a little
 * itself, so req/CPU-s of this group are not comparable with the peers
 * group's.
 */
export async function runGcPerRequest(ctx: ScenarioContext): Promise<void> {
  const { runtimes, missing } = nodeRuntimes(ctx.options.node24);
  ctx.notes.push(...missing);
  // The newest Node the run has: the one images ship.
  const node: NodeRuntime | undefined = runtimes.at(-1);
  const upstreams = await startUpstreams(ctx.children, [0, 0, 0]);
  const traced: TracedPeer[] = [];
  try {
    traced.push({ peer: await startBaselineProxy(ctx.children, upstreams, '/small', node, TRACE) });
    traced.push({ peer: await startBalancer(ctx.children, upstreams, { ...(node ? { node } : {}), nodeArgs: TRACE }) });
    const traceFile = join(ctx.tmp, 'gc-balancer-deploy.log');
    traced.push({ peer: await startBalancer(ctx.children, upstreams, { ...(node ? { node } : {}), nodeArgs: TRACE, accessLogFile: traceFile }), traceFile });
    for (const { peer } of traced) await warmUpPeer(ctx, peer);
    // The warm-up above is the only one: a warm-up inside the window would count collections its requests caused.
    const measured = { ...ctx, options: { ...ctx.options, warmupS: 0 } };
    const floor = traced[0];
    for (let round = 0; round < ctx.options.rounds; round++) {
      const order = round % 2 === 0 ? traced : [...traced].reverse();
      const figures = new Map<TracedPeer, { promotedBytes: number; youngPauseUs: number; gc: GcTotals; requests: number }>();
      for (const t of order) {
        let requests = 0;
        const lines = await traceDuring(t, async () => {
          requests = (await measure(measured, t.peer, SMALL_GET, `gc: ${SMALL_GET.name}`)).result.requests;
        });
        const gc = sumGcTrace(lines);
        figures.set(t, { ...perRequest(gc, Math.max(1, requests)), gc, requests });
      }
      const base = floor === undefined ? undefined : figures.get(floor);
      for (const t of traced) {
        const f = figures.get(t);
        if (f === undefined) continue;
        const ratio = base !== undefined && base.promotedBytes > 0 && base.youngPauseUs > 0 && t !== floor ? ` (${(f.promotedBytes / base.promotedBytes).toFixed(1)}× the minimal proxy's promotion, ${(f.youngPauseUs / base.youngPauseUs).toFixed(1)}× its young pause)` : '';
        const line = `GC per request, round ${round + 1}, ${t.peer.label}: ${f.promotedBytes.toFixed(0)} B promoted, young-generation pause ${f.youngPauseUs.toFixed(2)} µs (${f.gc.young} young and ${f.gc.full} full collections over ${f.requests} requests)${ratio}`;
        ctx.log(line);
        ctx.notes.push(line);
      }
    }
  } finally {
    await Promise.all(traced.map((t) => ctx.children.stop(t.peer.child)));
    await stopUpstreams(ctx.children, upstreams);
  }
}
