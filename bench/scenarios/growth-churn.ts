import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBalancer } from '../peers/balancer.js';
import type { NodeRuntime } from '../peers/node-runtime.js';
import type { Peer } from '../peers/peer.js';
import { endpointAddress, startEndpointUpstreams, stopUpstreams } from '../upstreams.js';
import { CHURN_MS, measureSteadyThenChurned, startChurn } from './churn.js';
import type { ScenarioContext } from './context.js';

const NAME = 'workers.flotilla-bench';

/** The hosts file the balancer's lookups read: the three steady endpoints, and the fourth when `withFourth`. */
function hostsFile(withFourth: boolean): string {
  const lines = ['127.0.0.1 localhost', ...[0, 1, 2].map((i) => `${endpointAddress(i)} ${NAME}`)];
  if (withFourth) lines.push(`${endpointAddress(3)} ${NAME}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Throughput while an endpoint is added and removed every 100 ms, through the
 * DNS discovery path (services/shared/discovery/dns-source.ts, polling at its
 * 100 ms minimum): the balancer runs in a mount namespace of its own with a
 * hosts file over /etc/hosts, which the bench rewrites in place every 100 ms
 * (a bind mount pins the inode, so the file is truncated and written, not
 * replaced). The same balancer is measured first without churn. The
 * EndpointSlice path, against a real kube-apiserver, is
 * growth-churn-k8s.ts (only inside scripts/k8s-netns.sh's network namespace).
 */
export async function runChurn(ctx: ScenarioContext, node: NodeRuntime, port: number): Promise<void> {
  const hosts = join(ctx.tmp, 'churn-hosts');
  writeFileSync(hosts, hostsFile(false));
  const endpoints = await startEndpointUpstreams(ctx.children, 4, port, 2, 'c');
  let peer: Peer | undefined;
  try {
    peer = await startBalancer(ctx.children, [], {
      node,
      id: 'balancer-dns',
      hostsFile: hosts,
      env: { DISCOVERY: 'dns', DISCOVERY_DNS_NAME: NAME, DISCOVERY_DNS_PORT: String(port), DISCOVERY_DNS_INTERVAL_MS: String(CHURN_MS) },
    });
    const cases = {
      steadyCase: 'dns discovery (100 ms poll), 3 endpoints, no churn',
      steadyScenario: 'growth: small GET, dns discovery every 100 ms, no churn',
      churnCase: 'dns discovery, an endpoint added and removed every 100 ms',
      churnScenario: 'growth: small GET, dns discovery, endpoint added/removed every 100 ms',
    };
    await measureSteadyThenChurned(ctx, peer, cases, () => startChurn((withFourth) => writeFileSync(hosts, hostsFile(withFourth)), 'hosts-file changes'));
  } finally {
    if (peer !== undefined) await ctx.children.stop(peer.child);
    await stopUpstreams(ctx.children, endpoints.processes);
  }
}
