import { SMALL_GET, measureRounds, warmUpPeer } from '../measure.js';
import { startBalancer } from '../peers/balancer.js';
import { startHaproxy } from '../peers/haproxy.js';
import { startNginx } from '../peers/nginx.js';
import type { Peer } from '../peers/peer.js';
import { startUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

/**
 * Group proxy2: small GET through each proxy with the same number of
 * processes, for each count in --processes (default 1,2): the balancer with
 * BALANCER_WORKERS=n (a node:cluster primary and n workers sharing the
 * port), nginx with worker_processes n, HAProxy with nbthread n (one
 * process, n threads, HAProxy's own way to use more cores). Each count is its
 * own scenario ("small GET keep-alive, 2 processes"), so the ÷ nginx and
 * ÷ HAProxy columns compare like with like. Only the peers of one count run
 * at a time. On a 2-core machine wrk and the upstreams share the cores with
 * the proxy, so 2 processes cannot double anything; req/CPU-s shows what the
 * extra process costs.
 */
export async function runMultiProcess(ctx: ScenarioContext): Promise<void> {
  const upstreams = await startUpstreams(ctx.children, [0, 0, 0]);
  try {
    for (const n of ctx.options.processes) {
      const peers: Peer[] = [];
      try {
        peers.push(await startNginx(ctx.children, ctx.tmp, upstreams, 'round-robin', '/small', n));
        peers.push(await startHaproxy(ctx.children, ctx.tmp, upstreams, 'roundrobin', '/small', n));
        peers.push(await startBalancer(ctx.children, upstreams, { workers: n }));
        for (const p of peers) if (p.configFile !== undefined) ctx.configFiles.push(p.configFile);
        for (const peer of peers) await warmUpPeer(ctx, peer);
        ctx.runs.push(...(await measureRounds(ctx, peers, SMALL_GET, `${SMALL_GET.name}, ${n} process${n === 1 ? '' : 'es'}`)));
      } finally {
        await Promise.all(peers.map((p) => ctx.children.stop(p.child)));
      }
    }
  } finally {
    await stopUpstreams(ctx.children, upstreams);
  }
}
