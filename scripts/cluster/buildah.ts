import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from './context.js';
import { run } from './exec.js';
import { formatDuration } from './status.js';

/**
 * Image builds with buildah, no Docker engine: a store of its own in the
 * cache, `--isolation chroot` (the default isolation would bring netavark,
 * which makes a bridge, NAT rules and ip_forward in the host's network), and
 * `--pull=never` (no registry is reachable; base images are made locally).
 * Each call runs in a private mount namespace of its own, so no overlay or
 * bind mount of a build outlives it, and nothing of buildah's lands outside
 * the cache (its blob-info cache in /var/lib/containers, its CNI lock).
 */

const BUILD_TIMEOUT_MS = 30 * 60_000;

export interface BuiltImage {
  readonly name: string;
  readonly id: string;
  /** As buildah reports it, e.g. "250 MB" (the unpacked layers). */
  readonly size: string;
}

/** Where containers/image keeps its blob-info cache for root, whatever the store: bound to the cache for each call. */
const CONTAINERS_STATE = '/var/lib/containers';

interface BuildahOptions {
  readonly logFile?: string;
  readonly timeoutMs?: number;
  /** Run in this network namespace (a path such as /proc/<pid>/ns/net) instead of the caller's. */
  readonly netns?: string;
}

async function buildah(ctx: ClusterContext, args: readonly string[], options: BuildahOptions = {}): Promise<{ stdout: string }> {
  const state = join(ctx.paths.buildahRoot, '..', 'var-lib-containers');
  const cniConfig = join(ctx.paths.buildahRoot, '..', 'cni');
  for (const dir of [ctx.paths.buildahRoot, ctx.paths.buildahRunRoot, state, cniConfig]) mkdirSync(dir, { recursive: true });
  // The bind needs a mount point; one made here goes again after the call.
  const madeMountPoint = !existsSync(CONTAINERS_STATE);
  if (madeMountPoint) mkdirSync(CONTAINERS_STATE);
  const global = ['--root', ctx.paths.buildahRoot, '--runroot', ctx.paths.buildahRunRoot, '--storage-driver', 'overlay'];
  // buildah's network layer writes /etc/cni/net.d/cni.lock unless given a folder of its own, even with chroot isolation.
  const command = args[0] === 'bud' ? ['bud', `--cni-config-dir=${cniConfig}`, ...args.slice(1)] : args;
  try {
    const isolated = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', state, CONTAINERS_STATE];
    const full = [...(options.netns === undefined ? [] : ['nsenter', `--net=${options.netns}`, '--']), ...isolated, 'buildah', ...global, ...command];
    return await run(full[0] ?? '', full.slice(1), {
      timeoutMs: options.timeoutMs ?? 120_000,
      ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
    });
  } finally {
    if (madeMountPoint) rmdirSync(CONTAINERS_STATE);
  }
}

/** A short name such as flotilla-worker as containerd and kubelet spell it (docker.io/library/…:latest). */
export function fullImageName(name: string): string {
  const withTag = /:[^/]+$/.test(name) ? name : `${name}:latest`;
  const firstPart = withTag.split('/')[0] ?? '';
  if (withTag.includes('/') && (firstPart.includes('.') || firstPart.includes(':') || firstPart === 'localhost')) return withTag;
  return withTag.includes('/') ? `docker.io/${withTag}` : `docker.io/library/${withTag}`;
}

export async function imageInfo(ctx: ClusterContext, name: string): Promise<BuiltImage | undefined> {
  try {
    const { stdout } = await buildah(ctx, ['images', '--no-trunc', '--format', '{{.ID}}|{{.Size}}', fullImageName(name)]);
    const [id = '', size = ''] = (stdout.trim().split('\n')[0] ?? '').split('|');
    return id === '' ? undefined : { name: fullImageName(name), id, size };
  } catch {
    return undefined;
  }
}

export interface BuildRequest {
  /** The first tag is the image's name; the rest are more names for the same image. */
  readonly tags: readonly string[];
  readonly dockerfile: string;
  readonly context: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The network namespace RUN steps reach the package registries from (default: the caller's). */
  readonly netns?: string;
}

/**
 * Builds an image from a Dockerfile (layers cached, so an unchanged build
 * takes seconds) and prints its size and build time.
 */
export async function buildImage(ctx: ClusterContext, request: BuildRequest): Promise<BuiltImage> {
  const [name, ...more] = request.tags.map(fullImageName);
  if (name === undefined) throw new Error('buildImage needs at least one tag');
  mkdirSync(ctx.paths.logs, { recursive: true });
  const logFile = join(ctx.paths.logs, `image-${name.replace(/[/:]/g, '_')}.log`);
  const started = Date.now();
  const args = ['bud', '--isolation', 'chroot', '--pull=never', '--layers', '-f', request.dockerfile, '-t', name];
  for (const [key, value] of Object.entries(request.buildArgs ?? {})) args.push('--build-arg', `${key}=${value}`);
  await buildah(ctx, [...args, request.context], { logFile, timeoutMs: BUILD_TIMEOUT_MS, ...(request.netns === undefined ? {} : { netns: request.netns }) });
  for (const tag of more) await buildah(ctx, ['tag', name, tag]);
  const info = await imageInfo(ctx, name);
  if (info === undefined) throw new Error(`${name} was built but cannot be inspected; see ${logFile}`);
  ctx.status.info(`${name}: ${info.size}, built in ${formatDuration(Date.now() - started)}`);
  return info;
}

/**
 * The image as a docker-archive for `ctr images import`, written again only
 * when the image changed (its ID is kept beside the archive).
 */
export async function exportImage(ctx: ClusterContext, image: BuiltImage): Promise<string> {
  mkdirSync(ctx.paths.imageArchives, { recursive: true });
  const base = join(ctx.paths.imageArchives, image.name.replace(/[/:]/g, '_'));
  const archive = `${base}.tar`;
  const idFile = `${base}.id`;
  if (existsSync(archive) && existsSync(idFile) && readFileSync(idFile, 'utf8').trim() === image.id) return archive;
  rmSync(archive, { force: true });
  await buildah(ctx, ['push', image.name, `docker-archive:${archive}.tmp:${image.name}`], { timeoutMs: 10 * 60_000 });
  renameSync(`${archive}.tmp`, archive);
  writeFileSync(idFile, `${image.id}\n`);
  return archive;
}

/** Pushes an image to a registry (skaffold's custom builder; the cluster's registry speaks plain HTTP). */
export async function pushImage(ctx: ClusterContext, name: string, destination: string): Promise<void> {
  await buildah(ctx, ['push', '--tls-verify=false', fullImageName(name), `docker://${destination}`], { timeoutMs: 10 * 60_000 });
}
