import { LARGE_GET, POST_4K, SMALL_GET, measureRounds, warmUpPeer } from '../measure.js';
import { startBalancer, startBaselineProxy, directPeer } from '../peers/balancer.js';
import { startHaproxy } from '../peers/haproxy.js';
import { startNginx } from '../peers/nginx.js';
import type { Peer } from '../peers/peer.js';
import { startUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

/**
 * Small GET, 64 KiB GET and POST 4 KiB through each proxy in front of the
 * same three upstreams, plus straight to one upstream (the ceiling) and a
 * minimal Node proxy (the floor of what Node itself costs).
 * All peers stay up for the whole group; only the one under load is busy.
 */
export async function runProxyScenarios(ctx: ScenarioContext): Promise<void> {
  const upstreams = await startUpstreams(ctx.children, [0, 0, 0]);
  const peers: Peer[] = [];
  try {
    const first = upstreams[0];
    if (first === undefined) throw new Error('no upstream started');
    peers.push(directPeer(first));
    peers.push(await startNginx(ctx.children, ctx.tmp, upstreams));
    peers.push(await startHaproxy(ctx.children, ctx.tmp, upstreams));
    peers.push(await startBalancer(ctx.children, upstreams));
    peers.push(await startBaselineProxy(ctx.children, upstreams));
    for (const p of peers) if (p.configFile !== undefined) ctx.configFiles.push(p.configFile);
    for (const peer of peers) await warmUpPeer(ctx, peer);
    for (const scenario of [SMALL_GET, LARGE_GET, POST_4K]) {
      ctx.runs.push(...(await measureRounds(ctx, peers, scenario)));
    }
  } finally {
    await Promise.all(peers.filter((p) => p.id !== 'direct').map((p) => ctx.children.stop(p.child)));
    await stopUpstreams(ctx.children, upstreams);
  }
}
