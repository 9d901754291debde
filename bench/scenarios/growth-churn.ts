import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMALL_GET, measureRounds, warmUpPeer } from '../measure.js';
import { rssMiB } from '../load/probe.js';
import { startBalancer } from '../peers/balancer.js';
import type { NodeRuntime } from '../peers/node-runtime.js';
import type { Peer } from '../peers/peer.js';
import { endpointAddress, startEndpointUpstreams, stopUpstreams } from '../upstreams.js';
import { httpGet } from '../wait-http.js';
import type { ScenarioContext } from './context.js';

const NAME = 'workers.flotilla-bench';
const CHURN_MS = 100;

/** The hosts file the balancer's lookups read: the three steady endpoints, and the fourth when `withFourth`. */
function hostsFile(withFourth: boolean): string {
  const lines = ['127.0.0.1 localhost', ...[0, 1, 2].map((i) => `${endpointAddress(i)} ${NAME}`)];
  if (withFourth) lines.push(`${endpointAddress(3)} ${NAME}`);
  return `${lines.join('\n')}\n`;
}

/** Endpoints the balancer knows now: series of balancer_endpoint_state at 1 (one per endpoint, in its current state). */
async function knownEndpoints(peer: Peer): Promise<number> {
  if (peer.adminUrl === undefined) return Number.NaN;
  const { body } = await httpGet(`${peer.adminUrl}/metrics`, 2_000);
  return body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('balancer_endpoint_state{') && l.endsWith(' 1')).length;
}

/**
 * Throughput while an endpoint is added and removed every 100 ms, through the
 * DNS discovery path (services/shared/discovery/dns-source.ts, polling at its
 * 100 ms minimum): the balancer runs in a mount namespace of its own with a
 * hosts file over /etc/hosts, which the bench rewrites in place every 100 ms
 * (a bind mount pins the inode, so the file is truncated and written, not
 * replaced). The same balancer is measured first without churn. Not the
 * EndpointSlice path: that needs kube-apiserver in a network namespace
 * (EndpointSlice validation refuses loopback addresses, see
 * scripts/k8s-netns.sh), which this group does not set up.
 */
export async function runChurn(ctx: ScenarioContext, node: NodeRuntime, port: number): Promise<void> {
  const hosts = join(ctx.tmp, 'churn-hosts');
  writeFileSync(hosts, hostsFile(false));
  const endpoints = await startEndpointUpstreams(ctx.children, 4, port, 2, 'c');
  let peer: Peer | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    peer = await startBalancer(ctx.children, [], {
      node,
      id: 'balancer-dns',
      hostsFile: hosts,
      env: { DISCOVERY: 'dns', DISCOVERY_DNS_NAME: NAME, DISCOVERY_DNS_PORT: String(port), DISCOVERY_DNS_INTERVAL_MS: String(CHURN_MS) },
    });
    await warmUpPeer(ctx, peer);
    const [steady] = await measureRounds(ctx, [peer], SMALL_GET, 'growth: small GET, dns discovery every 100 ms, no churn');
    if (steady !== undefined) {
      ctx.runs.push(steady);
      ctx.growth.push({ case: 'dns discovery (100 ms poll), 3 endpoints, no churn', run: steady, rssMiB: rssMiB(peer.child.pid), detail: `${await knownEndpoints(peer)} endpoints known` });
    }
    let changes = 0;
    timer = setInterval(() => {
      changes++;
      writeFileSync(hosts, hostsFile(changes % 2 === 1));
    }, CHURN_MS);
    const seen = new Set<number>();
    const target = peer;
    const sampler = setInterval(() => {
      knownEndpoints(target).then((n) => seen.add(n), () => undefined);
    }, 230);
    const [churned] = await measureRounds(ctx, [peer], SMALL_GET, 'growth: small GET, dns discovery, endpoint added/removed every 100 ms');
    clearInterval(sampler);
    if (churned !== undefined) {
      ctx.runs.push(churned);
      const detail = `${changes} hosts-file changes; endpoint counts seen on /metrics: ${[...seen].sort().join(', ')}`;
      ctx.growth.push({ case: 'dns discovery, an endpoint added and removed every 100 ms', run: churned, rssMiB: rssMiB(peer.child.pid), detail });
    }
  } finally {
    if (timer !== undefined) clearInterval(timer);
    if (peer !== undefined) await ctx.children.stop(peer.child);
    await stopUpstreams(ctx.children, endpoints.processes);
  }
}
