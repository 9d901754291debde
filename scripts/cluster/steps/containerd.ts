import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportImage, imageInfo } from '../buildah.js';
import type { ClusterContext } from '../context.js';
import { run, succeeds } from '../exec.js';
import { moduleDir } from '../go-tools.js';
import { coreDnsImage, imageNames, pauseImage, pauseVersion } from '../image-names.js';
import { formatDuration } from '../status.js';
import { waitFor } from '../wait.js';
import type { Step } from './step.js';

/**
 * containerd (Debian's package) with a configuration of its own: state in
 * the work dir, its socket there too (the tool talks to it from the host
 * side through the file), runc with the cgroupfs driver as kubelet uses it,
 * and the images imported from the local builds, since no registry but the
 * cluster's own can be reached.
 */

export const CONTAINERD = 'containerd';

function config(ctx: ClusterContext, sandboxImage: string): string {
  const dir = ctx.paths.containerd;
  return `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"
# Snapshotters this node has no use for (and whose start-up checks only add noise).
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "${ctx.paths.containerdSocket}"

[ttrpc]
  address = "${ctx.paths.containerdSocket}.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  # root here lacks CAP_SYS_RESOURCE, so runc cannot set an oom_score_adj
  # below its own; without this every sandbox fails ("can't get final
  # child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${join(dir, 'certs.d')}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'opt')}"
`;
}

/** The cluster's registry speaks plain HTTP on the namespace's loopback (skaffold pushes there). */
function registryHosts(ctx: ClusterContext): void {
  const dir = join(ctx.paths.containerd, 'certs.d', ctx.config.registryAddress);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'hosts.toml'),
    `server = "http://${ctx.config.registryAddress}"\n\n[host."http://${ctx.config.registryAddress}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
}

export function ctr(ctx: ClusterContext, args: readonly string[], timeoutMs = 60_000): Promise<{ stdout: string }> {
  return run('ctr', ['--address', ctx.paths.containerdSocket, '--namespace', 'k8s.io', ...args], { timeoutMs });
}

/** Every image a pod of this cluster runs. */
export async function clusterImages(ctx: ClusterContext): Promise<string[]> {
  const names = imageNames(ctx.config.repoRoot);
  const pause = pauseVersion(await moduleDir(ctx, 'k8s.io/kubernetes', ctx.config.k8sVersion));
  return [pauseImage(pause), coreDnsImage(ctx.config.coreDnsVersion), names.postgres, names.balancer, names.worker];
}

async function importImages(ctx: ClusterContext, images: readonly string[]): Promise<void> {
  for (const name of images) {
    const started = Date.now();
    const image = await imageInfo(ctx, name);
    if (image === undefined) throw new Error(`image ${name} has not been built (the image steps make it)`);
    const archive = await exportImage(ctx, image);
    await ctr(ctx, ['images', 'import', archive], 10 * 60_000);
    ctx.status.info(`${image.name} imported (${formatDuration(Date.now() - started)})`);
  }
}

export const containerdStep: Step = {
  title: 'Starting containerd and importing the images',
  async up(ctx) {
    const images = await clusterImages(ctx);
    mkdirSync(ctx.paths.containerd, { recursive: true });
    writeFileSync(ctx.paths.containerdConfig, config(ctx, images[0] ?? ''));
    registryHosts(ctx);
    const [command, args] = ctx.inside('containerd', ['--config', ctx.paths.containerdConfig]);
    ctx.daemons.start({ name: CONTAINERD, command, args });
    await waitFor('containerd answering on its socket', () => succeeds('ctr', ['--address', ctx.paths.containerdSocket, 'version'], 5_000), {
      timeoutMs: 30_000,
      logFile: ctx.daemons.logFile(CONTAINERD),
      stillRunning: () => ctx.daemons.pid(CONTAINERD) !== undefined,
    });
    await importImages(ctx, images);
  },
  async down(ctx) {
    await ctx.daemons.stop(CONTAINERD, 10_000);
  },
};
