import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LARGE_GET, SMALL_GET, SMALL_GET_PACED, measureRounds, warmUpPeer } from '../measure.js';
import { startBalancer, startBaselineProxy } from '../peers/balancer.js';
import { caddyInstalled, CADDY_BIN, startCaddy } from '../peers/caddy.js';
import { startHaproxy } from '../peers/haproxy.js';
import { startNginx } from '../peers/nginx.js';
import { startFastifyProxyPeer, startHttpProxyPeer } from '../peers/node-proxies.js';
import { nodeRuntimes } from '../peers/node-runtime.js';
import type { Peer } from '../peers/peer.js';
import { PEERS_PREFIX } from '../results.js';
import { startUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

/**
 * Issue 15's comparison: nginx, HAProxy and Caddy, and every Node peer (the
 * minimal proxy, http-proxy, @fastify/http-proxy, the balancer as the proxy
 * group runs it and the balancer with a deployment's settings and its access
 * log written to a file) on each Node runtime, all in front of the same three
 * upstreams, in one run: small and 64 KiB GETs flat out, and small GETs at
 * one paced load for every peer (p99 at the same offered load).
 */
export async function runNodePeers(ctx: ScenarioContext): Promise<void> {
  const { runtimes, missing } = nodeRuntimes(ctx.options.node24);
  ctx.notes.push(...missing);
  const upstreams = await startUpstreams(ctx.children, [0, 0, 0]);
  const peers: Peer[] = [];
  const accessLogs: string[] = [];
  try {
    peers.push(await startNginx(ctx.children, ctx.tmp, upstreams));
    peers.push(await startHaproxy(ctx.children, ctx.tmp, upstreams));
    if (caddyInstalled()) peers.push(await startCaddy(ctx.children, ctx.tmp, upstreams));
    else ctx.notes.push(`Caddy left out: ${CADDY_BIN} not found (apt-get install -y caddy)`);
    for (const node of runtimes) {
      peers.push(await startBaselineProxy(ctx.children, upstreams, '/small', node));
      peers.push(await startHttpProxyPeer(ctx.children, upstreams, node));
      peers.push(await startFastifyProxyPeer(ctx.children, upstreams, node));
      peers.push(await startBalancer(ctx.children, upstreams, { node }));
      const accessLogFile = join(ctx.tmp, `balancer-access-node${node.tag}.log`);
      accessLogs.push(accessLogFile);
      peers.push(await startBalancer(ctx.children, upstreams, { node, accessLogFile }));
    }
    ctx.log(`peers: ${peers.map((p) => p.id).join(', ')} on ${runtimes.map((r) => r.version).join(' and ')}`);
    for (const p of peers) if (p.configFile !== undefined) ctx.configFiles.push(p.configFile);
    for (const peer of peers) await warmUpPeer(ctx, peer);
    for (const scenario of [SMALL_GET, LARGE_GET, SMALL_GET_PACED]) {
      ctx.runs.push(...(await measureRounds(ctx, peers, scenario, `${PEERS_PREFIX}${scenario.name}`)));
    }
  } finally {
    await Promise.all(peers.map((p) => ctx.children.stop(p.child)));
    await stopUpstreams(ctx.children, upstreams);
  }
  // Proof that the deployment-settings rows paid for a real access log, and how much it wrote.
  for (const file of accessLogs) {
    const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    ctx.notes.push(`Access log of the deployment-settings balancer: ${file.split('/').pop() ?? file}, ${(size / 1024).toFixed(0)} KiB written in the group`);
  }
}
