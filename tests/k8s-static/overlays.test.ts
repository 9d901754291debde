import type { V1Deployment, V1HorizontalPodAutoscaler, V1PodDisruptionBudget, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { allContainers, find, findAll, findGenerated, labelsMatch, renderOverlay, workload, workloads, type K8sObject } from './render.js';

/** Every Secret name a pod refers to, through env or volumes. */
function secretReferences(objects: readonly K8sObject[]): string[] {
  return workloads(objects).flatMap((w) => [
    ...(w.template.spec?.volumes ?? []).flatMap((v) => v.secret?.secretName ?? []),
    ...allContainers(w).flatMap((c) => (c.env ?? []).flatMap((e) => e.valueFrom?.secretKeyRef?.name ?? [])),
  ]);
}

describe('when the dev overlay is rendered', () => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderOverlay('dev');
  });

  test('then one pod of each runs', () => {
    for (const name of ['balancer', 'worker']) expect(find<V1Deployment & K8sObject>(objects, 'Deployment', name).spec?.replicas).toBe(1);
    expect(find<V1StatefulSet & K8sObject>(objects, 'StatefulSet', 'postgres').spec?.replicas).toBe(1);
    expect(findAll(objects, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  test('then the Postgres credentials come from a generated Secret that every reference points at', () => {
    const secret = findGenerated<V1Secret & K8sObject>(objects, 'Secret', 'postgres-credentials');
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['password', 'username']);
    expect(new Set(secretReferences(objects))).toEqual(new Set([secret.metadata.name]));
  });
});

describe('when the prod overlay is rendered', () => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderOverlay('prod');
  });

  test('then no credentials are in it: the postgres-credentials Secret is created by hand', () => {
    expect(findAll(objects, 'Secret')).toEqual([]);
    expect(new Set(secretReferences(objects))).toEqual(new Set(['postgres-credentials']));
  });

  test('then two balancers run, and the worker count belongs to an HPA on CPU with at least three', () => {
    expect(find<V1Deployment & K8sObject>(objects, 'Deployment', 'balancer').spec?.replicas).toBe(2);
    // A replicas field would reset the HPA's choice on every apply.
    expect(find<V1Deployment & K8sObject>(objects, 'Deployment', 'worker').spec?.replicas).toBeUndefined();
    const hpa = find<V1HorizontalPodAutoscaler & K8sObject & { spec: { metrics: { type: string; resource?: { name: string } }[] } }>(
      objects,
      'HorizontalPodAutoscaler',
      'worker',
    );
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas ?? 0);
    expect(hpa.spec.metrics.map((m) => [m.type, m.resource?.name])).toEqual([['Resource', 'cpu']]);
    const worker = workload(objects, 'worker').template.spec?.containers.find((c) => c.name === 'worker');
    expect(worker?.resources?.requests?.cpu).toBeDefined();
  });

  test.each(['balancer', 'worker'])('then a PodDisruptionBudget keeps %s pods from going down all at once', (name) => {
    const pdbs = findAll<V1PodDisruptionBudget & K8sObject>(objects, 'PodDisruptionBudget').filter((p) =>
      labelsMatch(p.spec?.selector?.matchLabels, workload(objects, name).template.metadata?.labels),
    );
    expect(pdbs).toHaveLength(1);
    expect(pdbs[0]?.spec?.maxUnavailable).toBe(1);
  });

  test.each(['balancer', 'worker'])('then %s pods spread over zones and nodes and prefer not to share a node', (name) => {
    const w = workload(objects, name);
    const labels = w.template.metadata?.labels;
    const spread = w.template.spec?.topologySpreadConstraints ?? [];
    expect(spread.map((s) => s.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const s of spread) expect(labelsMatch(s.labelSelector?.matchLabels, labels)).toBe(true);
    const anti = w.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    expect(anti).toHaveLength(1);
    expect(anti[0]?.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(labelsMatch(anti[0]?.podAffinityTerm.labelSelector?.matchLabels, labels)).toBe(true);
  });

  test('then the images carry a release tag, never latest', () => {
    for (const name of ['balancer', 'worker']) {
      expect(workload(objects, name).template.spec?.containers[0]?.image).toMatch(new RegExp(`^flotilla-${name}:\\d+\\.\\d+\\.\\d+$`));
    }
  });
});
