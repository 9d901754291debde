import { SMALL_GET, measureRounds, warmUpPeer } from '../measure.js';
import { rssMiB } from '../load/probe.js';
import { startBalancer } from '../peers/balancer.js';
import { nodeRuntimes } from '../peers/node-runtime.js';
import type { Peer } from '../peers/peer.js';
import { freePort } from '../../tests/helpers/free-port.js';
import { startEndpointUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';
import { runChurn } from './growth-churn.js';
import { runChurnK8s } from './growth-churn-k8s.js';
import { runIdleConnections } from './growth-idle.js';

/**
 * How the balancer's cost grows with work (issue 15): small-GET req/CPU-s
 * and p99 with 3, 100 and 1 000 endpoints (three upstream processes, each
 * listening on a share of the addresses), RSS and event-loop lag with
 * 10 000 idle keep-alive client connections, and throughput while an
 * endpoint comes and goes every 100 ms (DNS discovery, and EndpointSlices
 * of a real kube-apiserver when run inside scripts/k8s-netns.sh). On the
 * newest Node the bench has (the goals are stated for Node 24), access log
 * off as in the proxy group.
 */
export async function runGrowth(ctx: ScenarioContext): Promise<void> {
  const { runtimes, missing } = nodeRuntimes(ctx.options.node24);
  ctx.notes.push(...missing);
  const node = runtimes.at(-1);
  if (node === undefined) throw new Error('no Node runtime found');
  const port = await freePort();
  const smallest = Math.min(...ctx.options.endpoints);
  for (const count of ctx.options.endpoints) {
    const endpoints = await startEndpointUpstreams(ctx.children, count, port);
    let peer: Peer | undefined;
    try {
      peer = await startBalancer(ctx.children, [], { node, id: `balancer-${count}ep`, upstreamUrls: endpoints.urls });
      await warmUpPeer(ctx, peer);
      const [run] = await measureRounds(ctx, [peer], SMALL_GET, `growth: small GET, ${count} endpoints`);
      if (run !== undefined) {
        ctx.runs.push(run);
        ctx.growth.push({ case: `${count} endpoints (static UPSTREAMS), small GET`, run, rssMiB: rssMiB(peer.child.pid), detail: `${endpoints.processes.length} upstream processes` });
      }
      if (count === smallest) await runIdleConnections(ctx, peer);
    } finally {
      if (peer !== undefined) await ctx.children.stop(peer.child);
      await stopUpstreams(ctx.children, endpoints.processes);
    }
  }
  await runChurn(ctx, node, port);
  await runChurnK8s(ctx, node, port);
}
