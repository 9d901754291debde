import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BALANCER_PODS, clusterLogsDir, kubectl, pods, type ClusterEnv } from './cluster.js';

/**
 * What the balancers said during a failover scenario, kept before a later
 * scenario replaces their pods: every line at warn or above, and the access
 * line of every request answered 5xx or not answered (499), from `kubectl
 * logs --since-time`. The lines go to logs/<file>; a count of them by what
 * they say is returned, so that a scenario with client errors prints whether
 * the balancers timed out, ran out of retry budget or found no endpoint.
 */

export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly status?: number;
  readonly error?: string;
  readonly reason?: string;
  readonly method?: string;
  readonly attempts?: number;
}

const WARN = 40;

/** One line's kind, for the count: "access 504 LB_ERR_UPSTREAM_TIMEOUT (PUT, 2 attempts)" or "warn: upstream try failed (timeout)". */
export function kindOf(line: LogLine): string | undefined {
  if (line.msg === 'access') {
    if (line.status === undefined || (line.status < 500 && line.status !== 499)) return undefined;
    return `access ${line.status} ${line.error ?? 'from the worker'} (${line.method ?? '?'}, ${line.attempts ?? 0} attempts)`;
  }
  if ((line.level ?? 0) < WARN) return undefined;
  return `${(line.level ?? 0) >= 50 ? 'error' : 'warn'}: ${line.msg ?? '?'}${line.reason === undefined ? '' : ` (${line.reason})`}`;
}

/** What collectBalancerEvidence() found: the count by kind, and how much it read (so that "nothing" is known to mean nothing). */
export interface BalancerEvidence {
  readonly counts: ReadonlyMap<string, number>;
  readonly pods: number;
  readonly linesRead: number;
}

export function collectBalancerEvidence(env: ClusterEnv, since: Date, file: string): BalancerEvidence {
  const counts = new Map<string, number>();
  const kept: string[] = [];
  const balancers = pods(env, BALANCER_PODS);
  let linesRead = 0;
  for (const pod of balancers) {
    const name = pod.metadata.name;
    const result = kubectl(env, ['-n', env.NAMESPACE, 'logs', name, '-c', 'balancer', `--since-time=${since.toISOString()}`], { timeoutMs: 30_000 });
    if (result.code !== 0) {
      kept.push(`${name}: kubectl logs exited ${result.code}: ${result.stderr.trim()}`);
      continue;
    }
    for (const text of result.stdout.split('\n')) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      linesRead += 1;
      const kind = kindOf(line);
      if (kind === undefined) continue;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      kept.push(`${name} ${text}`);
    }
  }
  writeFileSync(join(clusterLogsDir(), file), kept.length === 0 ? '' : `${kept.join('\n')}\n`);
  return { counts, pods: balancers.length, linesRead };
}

/** One line: "of 12345 log lines from 2 pods: 3 × warn: upstream try failed (timeout), 1 × access 504 …". */
export function describeEvidence(evidence: BalancerEvidence): string {
  const read = `of ${evidence.linesRead} log lines from ${evidence.pods} pods`;
  if (evidence.counts.size === 0) return `${read}: nothing at warn or above, no 5xx`;
  const kinds = [...evidence.counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${count} × ${kind}`)
    .join(', ');
  return `${read}: ${kinds}`;
}
