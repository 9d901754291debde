import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import type { NodeRuntime } from '../peers/node-runtime.js';

function firstMatch(text: string, pattern: RegExp): string {
  return pattern.exec(text)?.[1]?.trim() ?? 'unknown';
}

/** stdout and stderr together: nginx -v and wrk -v print on stderr, and wrk -v exits 1. */
function output(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

export function machineInfo(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: String(availableParallelism()),
    cpu: firstMatch(cpuinfo, /^model name\s*:(.*)$/m),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  };
}

export function versions(bins: { readonly nginx: string; readonly haproxy: string; readonly wrk: string; readonly caddy: string }, nodes: readonly NodeRuntime[] = []): Record<string, string> {
  const caddy = firstMatch(output(bins.caddy, ['version']), /^(v?\d\S*)/m);
  return {
    node: [process.version, ...nodes.map((n) => n.version).filter((v) => v !== process.version)].join(' and '),
    ...(caddy !== 'unknown' ? { caddy } : {}),
    nginx: firstMatch(output(bins.nginx, ['-v']), /nginx\/(\S+)/),
    haproxy: firstMatch(output(bins.haproxy, ['-v']), /version (\S+)/),
    wrk: firstMatch(output(bins.wrk, ['-v']), /wrk (\S+)/),
  };
}
