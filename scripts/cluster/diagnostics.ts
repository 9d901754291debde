import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from './context.js';

interface ContainerStatus {
  readonly name: string;
  readonly ready?: boolean;
  readonly restartCount?: number;
  readonly state?: { readonly terminated?: { readonly exitCode?: number } };
}

interface PodItem {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly status?: { readonly containerStatuses?: readonly ContainerStatus[]; readonly initContainerStatuses?: readonly ContainerStatus[] };
}

/** A container worth reading: it restarted, failed, or is not ready. */
function troubled(status: ContainerStatus, init: boolean): boolean {
  const failed = (status.state?.terminated?.exitCode ?? 0) !== 0;
  return (status.restartCount ?? 0) > 0 || failed || (!init && status.ready === false);
}

/**
 * After failed cluster tests, before teardown takes the evidence with it:
 * the pods, the warning events, and the logs (current and previous) of
 * every container that restarted, failed or is not ready. Written to the
 * logs folder and printed, so a CI run that kept only its output still
 * shows why (a migrate initContainer that exited 1 was lost that way once).
 */
export async function reportClusterTrouble(ctx: ClusterContext): Promise<void> {
  const sections: string[] = [];
  const kubectl = async (title: string, args: readonly string[]): Promise<string> => {
    const text = await ctx.kubectl(args, { timeoutMs: 15_000, okCodes: [0, 1] }).then(
      (r) => (r.stdout + r.stderr).trimEnd(),
      (err: Error) => `(${err.message.split('\n')[0] ?? ''})`,
    );
    sections.push(`--- ${title}\n${text}`);
    return text;
  };
  await kubectl('pods', ['get', 'pods', '-A', '-o', 'wide']);
  await kubectl('warning events', ['get', 'events', '-A', '--field-selector=type=Warning', '--sort-by=.lastTimestamp']);
  const listed = await ctx.kubectl(['get', 'pods', '-A', '-o', 'json'], { timeoutMs: 15_000 }).catch(() => undefined);
  const pods = listed === undefined ? [] : (JSON.parse(listed.stdout) as { items: PodItem[] }).items;
  for (const pod of pods) {
    const { name, namespace } = pod.metadata;
    const containers = [
      ...(pod.status?.initContainerStatuses ?? []).filter((c) => troubled(c, true)),
      ...(pod.status?.containerStatuses ?? []).filter((c) => troubled(c, false)),
    ];
    for (const container of containers) {
      const base = ['logs', '-n', namespace, name, '-c', container.name, '--tail=60'];
      await kubectl(`logs ${namespace}/${name} ${container.name}`, base);
      if ((container.restartCount ?? 0) > 0) await kubectl(`previous logs ${namespace}/${name} ${container.name}`, [...base, '--previous']);
    }
  }
  const report = sections.join('\n\n');
  const file = join(ctx.paths.logs, 'failed-tests-cluster-state.log');
  writeFileSync(file, `${report}\n`);
  ctx.status.line(`\nCluster state after the failed tests (also in ${file}):\n${report}`);
}
