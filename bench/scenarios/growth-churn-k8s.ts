import { Agent, request } from 'node:https';
import { basename, dirname } from 'node:path';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { startBalancer } from '../peers/balancer.js';
import type { NodeRuntime } from '../peers/node-runtime.js';
import type { Peer } from '../peers/peer.js';
import { startAddressUpstreams, stopUpstreams } from '../upstreams.js';
import { builtK8sBinDir, startControlPlane, type ControlPlane } from '../../tests/k8s/control-plane.js';
import { createWorkerService } from '../../tests/k8s/worker-service.js';
import { measureSteadyThenChurned, startChurn } from './churn.js';
import type { ScenarioContext } from './context.js';

const NAMESPACE = 'flotilla-bench';
const SERVICE = 'workers';
const SLICE = 'workers-churn';
/**
 * Three steady endpoints and the one that comes and goes. 198.18.0.x, not
 * 127.x: EndpointSlice validation refuses loopback addresses, and
 * scripts/k8s-netns.sh puts 198.18.0.0/24 on the loopback of its namespace.
 */
const ADDRESSES = ['198.18.0.11', '198.18.0.12', '198.18.0.13', '198.18.0.14'] as const;
/** One EndpointSlice update may take this long; then it is aborted, so that the next never overlaps it. */
const CALL_TIMEOUT_MS = 2_000;
const HOW_TO_RUN = 'bash scripts/k8s-netns.sh node dist/bench/run.js --only growth';

/** The slice the balancer watches: the three steady endpoints, and the fourth when `withFourth`. */
function endpointSlice(port: number, withFourth: boolean): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: SLICE, labels: { 'kubernetes.io/service-name': SERVICE, 'endpointslice.kubernetes.io/managed-by': 'flotilla-bench' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: ADDRESSES.slice(0, withFourth ? 4 : 3).map((address, i) => ({ addresses: [address], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: NAMESPACE, name: `upstream-${i + 1}` } })),
  };
}

/**
 * PUT of the whole slice (no resourceVersion: an unconditional replace, as
 * the bench is its only writer), as admin, over a keep-alive connection so
 * that ten updates a second are not ten TLS handshakes. Written with
 * node:https rather than client-node for the hard deadline: at
 * CALL_TIMEOUT_MS the request is aborted, its socket destroyed.
 */
function replaceSlice(cp: ControlPlane, agent: Agent, slice: V1EndpointSlice): Promise<void> {
  const url = new URL(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices/${SLICE}`, cp.server);
  const body = JSON.stringify(slice);
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method: 'PUT', agent, ca: cp.ca, headers, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`PUT ${SLICE}: ${status} ${text.slice(0, 200)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

type Availability = { readonly ok: true; readonly bin: string } | { readonly ok: false; readonly note: string };

/** Whether the scenario can run here: inside scripts/k8s-netns.sh, with the binaries built. */
function availability(): Availability {
  const what = 'kubernetes discovery (EndpointSlice churn) not measured';
  if (process.env.FLOTILLA_NETNS !== '1') return { ok: false, note: `${what}: it needs scripts/k8s-netns.sh's network namespace (198.18.0.x endpoints); run ${HOW_TO_RUN}` };
  const bin = builtK8sBinDir();
  if (bin === undefined) {
    return { ok: false, note: `${what}: no etcd and kube-apiserver in ~/.cache/flotilla-k8s (or FLOTILLA_K8S_BIN); build them with bash scripts/k8s-binaries.sh etcd kube-apiserver kubectl, then run ${HOW_TO_RUN}` };
  }
  return { ok: true, bin };
}

/** The balancer with DISCOVERY=kubernetes, watching SERVICE's slices through the control plane's admin kubeconfig. */
function startK8sBalancer(ctx: ScenarioContext, node: NodeRuntime, cp: ControlPlane): Promise<Peer> {
  return startBalancer(ctx.children, [], {
    node,
    id: 'balancer-k8s',
    env: { DISCOVERY: 'kubernetes', DISCOVERY_SERVICE: SERVICE, DISCOVERY_NAMESPACE: NAMESPACE, DISCOVERY_PORT_NAME: 'http', KUBECONFIG: cp.kubeconfig },
  });
}

/** On a running control plane: the namespace, Service and slice, then the balancer and the two measurements. */
async function measureAgainst(ctx: ScenarioContext, node: NodeRuntime, port: number, cp: ControlPlane): Promise<void> {
  const { discovery } = await createWorkerService(cp, NAMESPACE, SERVICE);
  await discovery.createNamespacedEndpointSlice({ namespace: NAMESPACE, body: endpointSlice(port, false) });
  const peer = await startK8sBalancer(ctx, node, cp);
  // One connection: the updates never overlap, so they never need a second.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const cases = {
      steadyCase: 'kubernetes discovery (EndpointSlice watch), 3 endpoints, no churn',
      steadyScenario: 'growth: small GET, kubernetes discovery, no churn',
      churnCase: 'kubernetes discovery, an endpoint added and removed every 100 ms',
      churnScenario: 'growth: small GET, kubernetes discovery, endpoint added/removed every 100 ms',
    };
    await measureSteadyThenChurned(ctx, peer, cases, () => startChurn((withFourth) => replaceSlice(cp, agent, endpointSlice(port, withFourth)), 'EndpointSlice updates'));
  } finally {
    agent.destroy();
    await ctx.children.stop(peer.child);
  }
}

/**
 * Throughput while an endpoint is added and removed every 100 ms through
 * EndpointSlices (services/shared/discovery/kubernetes-source.ts, list +
 * watch) of a real kube-apiserver with etcd (tests/k8s/control-plane.ts),
 * the counterpart of growth-churn.ts's DNS path: the bench replaces the
 * slice through the API, the balancer follows the watch events. The same
 * balancer is measured first without churn. Only inside scripts/k8s-netns.sh
 * and with the binaries built; elsewhere a note says how to run it. etcd and
 * kube-apiserver share the machine's cores with the balancer, but their CPU
 * is not the balancer's and is not counted in its req/CPU-s.
 */
export async function runChurnK8s(ctx: ScenarioContext, node: NodeRuntime, port: number): Promise<void> {
  const available = availability();
  if (!available.ok) {
    ctx.notes.push(available.note);
    return;
  }
  const upstreams = await startAddressUpstreams(ctx.children, [...ADDRESSES], port, 2, 'k');
  try {
    const cp = await startControlPlane({ bin: available.bin });
    try {
      await measureAgainst(ctx, node, port, cp);
    } finally {
      await cp.stop();
    }
    ctx.notes.push(`kubernetes discovery rows: kube-apiserver and etcd ${basename(dirname(available.bin))} (scripts/k8s-binaries.sh) ran on this machine next to the balancer; their CPU is not in its req/CPU-s`);
  } finally {
    await stopUpstreams(ctx.children, upstreams.processes);
  }
}
