import type { V1Role, V1RoleBinding, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { ingressAllowed } from './network-policy.js';
import { container, find, findAll, labelsMatch, portNumber, renderOverlay, workload, type K8sObject } from './render.js';

const READ_ENDPOINTSLICES = [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }];

describe.each(['dev', 'prod'])('when the %s overlay is rendered', (overlay) => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderOverlay(overlay);
  });

  test.each(['balancer', 'worker'])(
    'then %s runs as its own ServiceAccount, bound only to get/list/watch on endpointslices in its namespace',
    (name) => {
      const pod = workload(objects, name).template.spec;
      expect(pod?.serviceAccountName).toBe(name);
      find<V1ServiceAccount & K8sObject>(objects, 'ServiceAccount', name);
      const bindings = findAll<V1RoleBinding & K8sObject>(objects, 'RoleBinding').filter((b) =>
        (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === name),
      );
      expect(bindings).toHaveLength(1);
      const roleRef = bindings[0]?.roleRef;
      // A Role, not a ClusterRole: the grant ends at the namespace.
      expect(roleRef?.kind).toBe('Role');
      expect(find<V1Role & K8sObject>(objects, 'Role', roleRef?.name ?? '').rules).toEqual(READ_ENDPOINTSLICES);
      expect(findAll(objects, 'ClusterRole')).toEqual([]);
      expect(findAll(objects, 'ClusterRoleBinding')).toEqual([]);
    },
  );

  test('then Postgres gets no API token at all', () => {
    const pod = workload(objects, 'postgres').template.spec;
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(find<V1ServiceAccount & K8sObject>(objects, 'ServiceAccount', pod?.serviceAccountName ?? '').automountServiceAccountToken).toBe(false);
  });

  test('then the balancer is exposed by a LoadBalancer Service on its data port only, and the worker by a ClusterIP Service', () => {
    const balancer = workload(objects, 'balancer');
    const lb = find<V1Service & K8sObject>(objects, 'Service', 'balancer');
    expect(lb.spec?.type).toBe('LoadBalancer');
    expect(labelsMatch(lb.spec?.selector, balancer.template.metadata?.labels)).toBe(true);
    const targets = (lb.spec?.ports ?? []).map((p) => portNumber(container(balancer, 'balancer'), p.targetPort));
    expect(targets).toEqual([8080]);

    const worker = workload(objects, 'worker');
    const svc = find<V1Service & K8sObject>(objects, 'Service', 'worker');
    expect(svc.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(labelsMatch(svc.spec?.selector, worker.template.metadata?.labels)).toBe(true);
    expect((svc.spec?.ports ?? []).map((p) => [p.name, portNumber(container(worker, 'worker'), p.targetPort)])).toEqual([
      ['http', 8080],
      ['admin', 9090],
    ]);
  });

  test('then a default-deny policy covers every pod in the namespace', () => {
    const denyAll = findAll<K8sObject & { spec: { podSelector: object; policyTypes?: string[]; ingress?: unknown[] } }>(objects, 'NetworkPolicy').filter(
      (p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes?.includes('Ingress') && (p.spec.ingress ?? []).length === 0,
    );
    expect(denyAll).toHaveLength(1);
  });

  test('then only balancer pods reach the worker data port, and anything reaches the admin ports for scrapes', () => {
    const worker = workload(objects, 'worker');
    const balancer = workload(objects, 'balancer');
    const postgres = workload(objects, 'postgres');
    const balancerPod = { labels: balancer.template.metadata?.labels ?? {} };
    const postgresPod = { labels: postgres.template.metadata?.labels ?? {} };
    const prometheus = { labels: { 'app.kubernetes.io/name': 'prometheus' } };
    expect(ingressAllowed(objects, balancerPod, worker, 8080)).toBe(true);
    expect(ingressAllowed(objects, prometheus, worker, 8080)).toBe(false);
    expect(ingressAllowed(objects, postgresPod, worker, 8080)).toBe(false);
    expect(ingressAllowed(objects, prometheus, worker, 9090)).toBe(true);
    expect(ingressAllowed(objects, balancerPod, worker, 9090)).toBe(true);
    expect(ingressAllowed(objects, prometheus, balancer, 9090)).toBe(true);
    // The balancer is the public entry point.
    expect(ingressAllowed(objects, prometheus, balancer, 8080)).toBe(true);
  });

  test('then only worker pods reach Postgres', () => {
    const worker = workload(objects, 'worker');
    const postgres = workload(objects, 'postgres');
    const workerPod = { labels: worker.template.metadata?.labels ?? {} };
    const balancerPod = { labels: workload(objects, 'balancer').template.metadata?.labels ?? {} };
    const other = { labels: { 'app.kubernetes.io/name': 'debug-shell' } };
    expect(ingressAllowed(objects, workerPod, postgres, 5432)).toBe(true);
    expect(ingressAllowed(objects, balancerPod, postgres, 5432)).toBe(false);
    expect(ingressAllowed(objects, other, postgres, 5432)).toBe(false);
  });
});
