import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The names images go by, read from the files that use them, so that a
 * Dockerfile or manifest that moves to another release takes the local
 * stand-ins along: the node base from the Dockerfiles' FROM lines, postgres
 * from the StatefulSet, pause from Kubernetes' own build/pause/Makefile.
 */
export interface ImageNames {
  readonly debian: string;
  readonly node: string;
  readonly nodeVersion: string;
  readonly postgres: string;
  readonly balancer: string;
  readonly worker: string;
}

export const APP_DOCKERFILES = { balancer: 'Dockerfile.balancer', worker: 'Dockerfile.worker' } as const;

function match(file: string, pattern: RegExp, what: string): RegExpMatchArray {
  const found = readFileSync(file, 'utf8').match(pattern);
  if (found === null) throw new Error(`${file}: no ${what} found (${pattern.source})`);
  return found;
}

export function imageNames(repoRoot: string): ImageNames {
  const versions = new Set(
    Object.values(APP_DOCKERFILES).map((dockerfile) => match(join(repoRoot, dockerfile), /^FROM node:(\d+\.\d+\.\d+)-bookworm-slim\b/m, 'node base image')[1]),
  );
  if (versions.size !== 1) throw new Error(`the Dockerfiles name different Node releases (${[...versions].join(', ')}); the local base image serves one`);
  const [nodeVersion = ''] = versions;
  const postgres = match(join(repoRoot, 'k8s/base/postgres/statefulset.yaml'), /^\s*image:\s*(postgres:\S+)\s*$/m, 'postgres image')[1] ?? '';
  return {
    debian: 'debian:bookworm-slim',
    node: `node:${nodeVersion}-bookworm-slim`,
    nodeVersion,
    postgres,
    balancer: 'flotilla-balancer',
    worker: 'flotilla-worker',
  };
}

/** TAG in Kubernetes' build/pause/Makefile: the sandbox image release of that Kubernetes release. */
export function pauseVersion(kubernetesSource: string): string {
  return match(join(kubernetesSource, 'build/pause/Makefile'), /^TAG \?= (\S+)$/m, 'pause TAG')[1] ?? '';
}

export function pauseImage(version: string): string {
  return `registry.k8s.io/pause:${version}`;
}

export function coreDnsImage(version: string): string {
  return `registry.k8s.io/coredns/coredns:v${version}`;
}
