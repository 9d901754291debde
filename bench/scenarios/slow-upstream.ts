import { measureRounds, SMALL_GET, warmUpPeer } from '../measure.js';
import { startBalancer } from '../peers/balancer.js';
import { startHaproxy } from '../peers/haproxy.js';
import { startNginx } from '../peers/nginx.js';
import type { Peer } from '../peers/peer.js';
import { startUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

/** Every upstream waits FAST_MS; the third waits 10x as long. */
export const FAST_MS = 2;
export const SLOW_MS = 20;

/**
 * One upstream ten times slower than the other two: what each proxy's
 * default spreading does to tail latency. A fixed delay on every upstream
 * (not just the slow one) keeps the 10x meaningful; without it the fast ones
 * answer in ~0.1 ms and "10x" would be lost in scheduling noise.
 */
export async function runSlowUpstream(ctx: ScenarioContext): Promise<void> {
  const upstreams = await startUpstreams(ctx.children, [FAST_MS, FAST_MS, SLOW_MS], 's');
  const peers: Peer[] = [];
  const name = `one upstream 10x slower (${FAST_MS}/${FAST_MS}/${SLOW_MS} ms, ${ctx.options.slowConnections} conns)`;
  try {
    peers.push(await startNginx(ctx.children, ctx.tmp, upstreams, 'round-robin'));
    peers.push(await startNginx(ctx.children, ctx.tmp, upstreams, 'least_conn'));
    peers.push(await startHaproxy(ctx.children, ctx.tmp, upstreams, 'roundrobin'));
    peers.push(await startHaproxy(ctx.children, ctx.tmp, upstreams, 'leastconn'));
    peers.push(await startBalancer(ctx.children, upstreams, { picker: 'p2c-ewma' }));
    peers.push(await startBalancer(ctx.children, upstreams, { picker: 'round-robin' }));
    const light = { ...ctx, options: { ...ctx.options, connections: ctx.options.slowConnections } };
    for (const peer of peers) await warmUpPeer(light, peer);
    ctx.runs.push(...(await measureRounds(light, peers, SMALL_GET, name)));
  } finally {
    await Promise.all(peers.map((p) => ctx.children.stop(p.child)));
    await stopUpstreams(ctx.children, upstreams);
  }
}
