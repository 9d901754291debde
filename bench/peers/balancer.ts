import { fileURLToPath } from 'node:url';
import type { ChildProcesses } from '../child-processes.js';
import { freePort } from '../../tests/helpers/free-port.js';
import type { Upstream } from '../upstreams.js';
import { waitForChild } from '../wait-http.js';
import type { Peer } from './peer.js';

export type BalancerPicker = 'p2c-ewma' | 'round-robin' | 'least-request';

const MAIN = fileURLToPath(new URL('../../services/balancer/main.js', import.meta.url));

export interface BalancerStartOptions {
  readonly picker?: BalancerPicker;
  /** Extra node flags, e.g. --cpu-prof for the profiling run. */
  readonly nodeArgs?: readonly string[];
  readonly id?: string;
  /** Path that must answer 200 through the balancer before it counts as up. */
  readonly readyPath?: string;
  /** BALANCER_WORKERS: 1 (the default) is one process; more is a cluster primary and this many workers. */
  readonly workers?: number;
}

/**
 * Our balancer as shipped (one process unless `workers` says otherwise),
 * configured only through its environment. LOG_LEVEL=warn because nginx and
 * HAProxy run without access logs too; with warn the "listening" line is not
 * printed, so readiness is polled on the data port instead.
 */
export async function startBalancer(children: ChildProcesses, upstreams: readonly Upstream[], options: BalancerStartOptions = {}): Promise<Peer> {
  const picker = options.picker ?? 'p2c-ewma';
  const workers = options.workers ?? 1;
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = children.start(`balancer ${picker} ×${workers}`, process.execPath, [...(options.nodeArgs ?? []), MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      BALANCER_HOST: '127.0.0.1',
      BALANCER_PORT: String(port),
      BALANCER_ADMIN_PORT: String(adminPort),
      UPSTREAMS: upstreams.map((u) => u.url).join(','),
      BALANCER_PICKER: picker,
      LOG_LEVEL: 'warn',
      DRAIN_DELAY_MS: '0',
      BALANCER_WORKERS: String(workers),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForChild(child, `${url}${options.readyPath ?? '/small'}`);
  const processes = workers === 1 ? '1 process' : `${workers} workers`;
  return { id: options.id ?? (picker === 'p2c-ewma' ? 'balancer' : `balancer-${picker}`), label: `balancer ${processes}, ${picker}`, url, child };
}

const BASELINE = fileURLToPath(new URL('../baseline-proxy.js', import.meta.url));

/** bench/baseline-proxy.ts: Node + undici with nothing else, the floor for any Node proxy here. */
export async function startBaselineProxy(children: ChildProcesses, upstreams: readonly Upstream[], readyPath = '/small'): Promise<Peer> {
  const port = await freePort();
  const child = children.start('baseline node proxy', process.execPath, [BASELINE], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), UPSTREAMS: upstreams.map((u) => u.url).join(',') },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForChild(child, `${url}${readyPath}`);
  return { id: 'node-baseline', label: 'minimal Node+undici proxy (floor)', url, child };
}

/** The upstream itself, no proxy: the ceiling every proxy is measured against. */
export function directPeer(upstream: Upstream): Peer {
  return { id: 'direct', label: `direct to ${upstream.name}`, url: upstream.url, child: upstream.child };
}
