import { fileURLToPath } from 'node:url';
import type { ChildProcesses } from '../child-processes.js';
import { freePort } from '../../tests/helpers/free-port.js';
import type { Upstream } from '../upstreams.js';
import { waitForChild } from '../wait-http.js';
import type { NodeRuntime } from './node-runtime.js';
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
  /** Node binary to run on; its tag goes into the id (`balancer@24`). Default: the bench's own Node, no tag. */
  readonly node?: NodeRuntime;
  /**
   * The settings a deployment runs with (k8s/base: LOG_LEVEL=info, so the
   * access log is on) with stdout — the access log — appended to this file
   * instead of a pipe to the runner, as a container runtime writes it to disk.
   * Without it the balancer runs with LOG_LEVEL=warn, no access log, as nginx
   * and HAProxy do here.
   */
  readonly accessLogFile?: string;
  /** UPSTREAMS entries instead of the upstreams' own URLs: the growth group's many endpoints per process. */
  readonly upstreamUrls?: readonly string[];
  /** Extra environment, e.g. DISCOVERY=dns for the churn run. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A hosts file bind-mounted over /etc/hosts in a mount namespace of the
   * balancer's own (unshare --mount, as root): DNS discovery's lookups read
   * it, the machine's /etc/hosts stays untouched. The churn run rewrites it.
   */
  readonly hostsFile?: string;
}

/** `unshare --mount` execs sh, which mounts and execs node: the PID we hold is still the balancer. */
function withHostsFile(file: string, command: string, args: readonly string[]): [string, string[]] {
  return ['unshare', ['--mount', '/bin/sh', '-c', 'mount --bind "$BENCH_HOSTS" /etc/hosts && exec "$0" "$@"', command, ...args]];
}

/** `sh -c 'exec … >> file'`: the shell replaces itself with node, so the PID we hold (and its group) is the balancer's. */
function withStdoutTo(file: string, bin: string, args: readonly string[]): [string, string[]] {
  return ['/bin/sh', ['-c', 'exec "$0" "$@" >> "$BENCH_ACCESS_LOG"', bin, ...args]];
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
  const bin = options.node?.bin ?? process.execPath;
  const args = [...(options.nodeArgs ?? []), MAIN];
  const [logged, loggedArgs] = options.accessLogFile === undefined ? [bin, args] : withStdoutTo(options.accessLogFile, bin, args);
  const [command, commandArgs] = options.hostsFile === undefined ? [logged, loggedArgs] : withHostsFile(options.hostsFile, logged, loggedArgs);
  const upstreamList = (options.upstreamUrls ?? upstreams.map((u) => u.url)).join(',');
  const deployed = options.accessLogFile !== undefined;
  const child = children.start(`balancer ${picker} ×${workers}${options.node ? ` node ${options.node.tag}` : ''}`, command, commandArgs, {
    env: {
      PATH: process.env.PATH ?? '',
      BALANCER_HOST: '127.0.0.1',
      BALANCER_PORT: String(port),
      BALANCER_ADMIN_PORT: String(adminPort),
      ...(upstreamList !== '' ? { UPSTREAMS: upstreamList } : {}),
      BALANCER_PICKER: picker,
      // info is k8s/base's LOG_LEVEL; the access log is one info line per request (ACCESS_LOG defaults to true).
      LOG_LEVEL: deployed ? 'info' : 'warn',
      DRAIN_DELAY_MS: '0',
      BALANCER_WORKERS: String(workers),
      ...(deployed ? { ACCESS_LOG: 'true', BENCH_ACCESS_LOG: options.accessLogFile } : {}),
      ...(options.hostsFile !== undefined ? { BENCH_HOSTS: options.hostsFile } : {}),
      ...options.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForChild(child, `${url}${options.readyPath ?? '/small'}`);
  const processes = workers === 1 ? '1 process' : `${workers} workers`;
  const base = options.id ?? (picker === 'p2c-ewma' ? 'balancer' : `balancer-${picker}`);
  const id = `${base}${deployed ? '-deploy' : ''}${options.node ? `@${options.node.tag}` : ''}`;
  const label = `balancer ${processes}, ${picker}${deployed ? ', deployment settings, access log to a file' : ''}${options.node ? `, Node ${options.node.tag}` : ''}`;
  return { id, label, url, child, adminUrl: `http://127.0.0.1:${adminPort}` };
}

const BASELINE = fileURLToPath(new URL('../baseline-proxy.js', import.meta.url));

/** bench/baseline-proxy.ts: Node + undici with nothing else, the floor for any Node proxy here. */
export async function startBaselineProxy(children: ChildProcesses, upstreams: readonly Upstream[], readyPath = '/small', node?: NodeRuntime, nodeArgs: readonly string[] = []): Promise<Peer> {
  return startNodeScriptPeer(children, BASELINE, upstreams, { id: 'node-baseline', label: 'minimal Node+undici proxy (floor)', readyPath, nodeArgs, ...(node ? { node } : {}) });
}

export interface NodeScriptPeer {
  readonly id: string;
  readonly label: string;
  readonly readyPath?: string;
  readonly node?: NodeRuntime;
  /** Extra node flags, e.g. --trace-gc-nvp for the gc group. */
  readonly nodeArgs?: readonly string[];
}

/**
 * A proxy script of bench/ (PORT and UPSTREAMS in its environment) on the
 * chosen Node; the Node tag goes into id and label, so that two runtimes sit
 * side by side in one table.
 */
export async function startNodeScriptPeer(children: ChildProcesses, script: string, upstreams: readonly Upstream[], peer: NodeScriptPeer): Promise<Peer> {
  const port = await freePort();
  const tag = peer.node ? `@${peer.node.tag}` : '';
  const child = children.start(`${peer.id}${tag}`, peer.node?.bin ?? process.execPath, [...(peer.nodeArgs ?? []), script], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), UPSTREAMS: upstreams.map((u) => u.url).join(',') },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForChild(child, `${url}${peer.readyPath ?? '/small'}`);
  return { id: `${peer.id}${tag}`, label: `${peer.label}${peer.node ? `, Node ${peer.node.tag}` : ''}`, url, child };
}

/** The upstream itself, no proxy: the ceiling every proxy is measured against. */
export function directPeer(upstream: Upstream): Peer {
  return { id: 'direct', label: `direct to ${upstream.name}`, url: upstream.url, child: upstream.child };
}
