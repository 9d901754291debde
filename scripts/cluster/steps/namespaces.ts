import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NAMESPACE_HOLDER, type ClusterContext } from '../context.js';
import { run, succeeds } from '../exec.js';
import { clusterCgroupTrees, processesInCgroupTree, processesInMountNamespaceOf, removeCgroupTree, terminateAll } from '../sweep.js';
import type { Step } from './step.js';

/**
 * The cluster's own network and mount namespaces.
 *
 * Network: `ip netns add flotilla-cluster`, a veth pair inside it (no
 * dummy interface in this kernel) carrying the node IP, and a default route
 * to a gateway address that nothing answers, so no packet leaves. Pod and
 * Service ranges, iptables rules and net.* sysctls all live in there and go
 * with it. The host's network is never changed.
 *
 * Mount: a process holding a private mount namespace (made `rshared` inside,
 * as kubelet wants for mount propagation); every daemon enters it with
 * nsenter. Kubelet, containerd and CNI write to fixed host paths
 * (/var/lib/kubelet/device-plugins, /run/containerd/s, /var/run/netns,
 * /var/log/containers, …): inside the namespace each such path is a bind
 * mount of a folder in the work dir, so nothing lands on the host, and every
 * mount kubelet makes for pods (Secrets, emptyDirs) dies with the namespace.
 * `ip netns exec` is not used: it remounts /sys, which hides the cgroup
 * hierarchies and kubelet's mounts from containerd.
 */

/** Host paths the cluster writes to whatever it is told; each becomes a work-dir folder inside. */
const FIXED_PATHS = ['/var/lib/kubelet', '/var/log/pods', '/var/log/containers', '/var/lib/cni', '/etc/cni/net.d', '/run/containerd', '/run/netns'];

/**
 * Kernel tunables kubelet sets host-wide at start (vm.overcommit_memory=1,
 * kernel.panic=10, kernel.panic_on_oops=1, …) unless they already hold its
 * values; with protectKernelDefaults it refuses to start instead. These are
 * not namespaced, so inside the cluster's mount namespace each one that
 * differs reads from a read-only file with kubelet's value; the kernel's
 * value stays as it is.
 * https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/cm/container_manager_linux.go (setupKernelTunables)
 */
export const KUBELET_TUNABLES: Readonly<Record<string, string>> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

const VETH_NODE = 'veth-node';
const VETH_GATEWAY = 'veth-gw';

async function ip(ctx: ClusterContext, args: readonly string[]): Promise<void> {
  await run('ip', ['-n', ctx.config.netns, ...args], { timeoutMs: 10_000 });
}

const NETNS_DIR = '/run/netns';

function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);
}

async function createNetwork(ctx: ClusterContext): Promise<void> {
  const { config } = ctx;
  if (!existsSync(ctx.netnsPath)) {
    // `ip netns add` makes /run/netns a mount point of its own and leaves it so; note whether it was ours to undo.
    ensureHostDir(ctx, NETNS_DIR);
    if (!isMountPoint(NETNS_DIR)) writeFileSync(join(ctx.paths.work, 'netns-dir-mounted'), '');
    await run('ip', ['netns', 'add', config.netns], { timeoutMs: 10_000 });
  }
  await ip(ctx, ['link', 'set', 'lo', 'up']);
  if (!(await succeeds('ip', ['-n', config.netns, 'link', 'show', VETH_NODE]))) {
    await ip(ctx, ['link', 'add', VETH_NODE, 'type', 'veth', 'peer', 'name', VETH_GATEWAY]);
    await ip(ctx, ['addr', 'add', `${config.nodeIp}/24`, 'dev', VETH_NODE]);
    await ip(ctx, ['link', 'set', VETH_NODE, 'up']);
    await ip(ctx, ['link', 'set', VETH_GATEWAY, 'up']);
    await ip(ctx, ['route', 'add', 'default', 'via', config.gatewayIp]);
  }
}

function readCreatedDirs(ctx: ClusterContext): string[] {
  try {
    return readFileSync(ctx.paths.createdHostDirs, 'utf8').split('\n').filter((line) => line !== '');
  } catch {
    return [];
  }
}

/** mkdir -p on the host, recording each folder that did not exist, so that `down` removes exactly those. */
function ensureHostDir(ctx: ClusterContext, dir: string): void {
  const missing: string[] = [];
  for (let current = dir; !existsSync(current); current = dirname(current)) missing.unshift(current);
  if (missing.length === 0) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(ctx.paths.createdHostDirs, [...readCreatedDirs(ctx), ...missing].join('\n') + '\n');
}

async function startHolder(ctx: ClusterContext): Promise<number> {
  const pid = ctx.daemons.start({
    name: NAMESPACE_HOLDER,
    command: 'nsenter',
    args: [`--net=${ctx.netnsPath}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sleep', 'infinity'],
  });
  // nsenter and unshare exec in place: the PID is sleep's once unshare is done.
  const ours = readlinkSync('/proc/self/ns/mnt');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' && readlinkSync(`/proc/${pid}/ns/mnt`) !== ours) return pid;
    await sleep(20);
  }
  throw new Error(`${NAMESPACE_HOLDER} did not enter its own mount namespace; see ${ctx.daemons.logFile(NAMESPACE_HOLDER)}`);
}

async function mountInside(ctx: ClusterContext, args: readonly string[]): Promise<void> {
  await run('nsenter', [`--target=${ctx.holderPid()}`, '--mount', '--', 'mount', ...args], { timeoutMs: 10_000 });
}

async function prepareMounts(ctx: ClusterContext): Promise<void> {
  const marker = join(ctx.paths.work, 'mounts-ready');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === String(ctx.holderPid())) return;
  await mountInside(ctx, ['--make-rshared', '/']);
  for (const path of FIXED_PATHS) {
    const source = join(ctx.paths.hostFs, path);
    mkdirSync(source, { recursive: true });
    ensureHostDir(ctx, path);
    await mountInside(ctx, ['--bind', source, path]);
  }
  mkdirSync(ctx.paths.tunables, { recursive: true });
  for (const [name, wanted] of Object.entries(KUBELET_TUNABLES)) {
    const proc = `/proc/sys/${name}`;
    if (readFileSync(proc, 'utf8').trim() === wanted) continue;
    const file = join(ctx.paths.tunables, name.replaceAll('/', '.'));
    writeFileSync(file, `${wanted}\n`);
    await mountInside(ctx, ['--bind', '-o', 'ro', file, proc]);
  }
  writeFileSync(marker, `${ctx.holderPid()}\n`);
}

export const namespacesStep: Step = {
  title: 'Creating the network and mount namespaces',
  async up(ctx) {
    const leftovers = clusterCgroupTrees();
    if (ctx.daemons.pid(NAMESPACE_HOLDER) === undefined && leftovers.length > 0) {
      throw new Error(`cgroups of another kubelet exist (${leftovers.join(', ')}); run \`npm run cluster -- down\` or stop that cluster first`);
    }
    mkdirSync(ctx.paths.work, { recursive: true });
    await createNetwork(ctx);
    await startHolder(ctx);
    await prepareMounts(ctx);
  },
  async down(ctx) {
    const holder = ctx.daemons.pid(NAMESPACE_HOLDER);
    if (holder !== undefined) {
      // Whatever still runs in the cluster's mount namespace was started by the cluster (shims, strays).
      await terminateAll(processesInMountNamespaceOf(holder), 5_000);
    }
    // Containers run in namespaces of their own, but always under kubepods.
    for (const tree of clusterCgroupTrees()) await terminateAll(processesInCgroupTree(tree), 5_000);
    const stuck = clusterCgroupTrees().flatMap((tree) => removeCgroupTree(tree));
    // The last process in the mount namespace: every mount made inside goes with it.
    await ctx.daemons.stop(NAMESPACE_HOLDER, 2_000);
    if (existsSync(ctx.netnsPath)) await run('ip', ['netns', 'delete', ctx.config.netns], { timeoutMs: 10_000 });
    if (existsSync(join(ctx.paths.work, 'netns-dir-mounted')) && isMountPoint(NETNS_DIR) && readdirSync(NETNS_DIR).length === 0) {
      await run('umount', [NETNS_DIR], { timeoutMs: 10_000 });
    }
    for (const dir of readCreatedDirs(ctx).reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty: something else put files there since; leave it.
      }
    }
    if (stuck.length > 0) throw new Error(`cgroups that would not go: ${stuck.join(', ')}`);
  },
};
