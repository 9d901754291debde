import { join } from 'node:path';
import { dump } from 'js-yaml';
import { K8S_DIR, renderOverlay, type K8sObject } from '../k8s-static/render.js';
import { resourceRules } from '../helpers/rbac.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';

const OVERLAYS = [
  { overlay: 'dev', namespace: 'flotilla-dev' },
  { overlay: 'prod', namespace: 'flotilla' },
] as const;

describe('when the overlays meet a real kube-apiserver', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
  }, 300_000);

  afterAll(async () => {
    await cp?.stop();
  });

  describe.each(OVERLAYS)('and the $overlay overlay is applied', ({ overlay, namespace }) => {
    let objects: K8sObject[];

    beforeAll(() => {
      objects = renderOverlay(overlay);
      // The namespace must exist (with its pod-security labels) before a dry
      // run of the objects inside it can be admitted.
      const ns = objects.filter((o) => o.kind === 'Namespace');
      const created = cp.kubectl(['apply', '-f', '-'], ns.map((o) => dump(o)).join('---\n'));
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
    });

    test('then a server-side dry run accepts every object, with no warning from pod security admission or validation', () => {
      const result = cp.kubectl(['apply', '--dry-run=server', '-k', join(K8S_DIR, 'overlays', overlay)]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(objects.length);
      for (const line of lines) expect(line).toMatch(/ (created|configured|unchanged) \(server dry run\)$/);
    });

    describe('and its objects are stored for real', () => {
      beforeAll(() => {
        const result = cp.kubectl(['apply', '-k', join(K8S_DIR, 'overlays', overlay)]);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
      });

      const canI = (account: string, ...args: string[]): boolean => {
        // The account's own namespace first, so a check may name another one after it.
        const result = cp.kubectl(['auth', 'can-i', `--namespace=${namespace}`, `--as=system:serviceaccount:${namespace}:${account}`, ...args]);
        if (result.code > 1) throw new Error(`kubectl auth can-i failed: ${result.stderr}`);
        return result.code === 0;
      };

      test.each(['balancer', 'worker'])('then %s may get, list and watch endpointslices in its namespace', (account) => {
        for (const verb of ['get', 'list', 'watch']) expect([verb, canI(account, verb, 'endpointslices.discovery.k8s.io')]).toEqual([verb, true]);
      });

      test.each(['balancer', 'worker'])('then %s may not write endpointslices, read secrets, exec into pods, or look outside its namespace', (account) => {
        const denied: string[][] = [
          ['create', 'endpointslices.discovery.k8s.io'],
          ['update', 'endpointslices.discovery.k8s.io'],
          ['patch', 'endpointslices.discovery.k8s.io'],
          ['delete', 'endpointslices.discovery.k8s.io'],
          ['get', 'secrets'],
          ['list', 'secrets'],
          ['get', 'pods'],
          ['create', 'pods', '--subresource=exec'],
          ['list', 'services'],
          ['list', 'endpoints'],
          ['get', 'configmaps'],
          ['patch', 'deployments.apps'],
          ['list', 'endpointslices.discovery.k8s.io', '--namespace=kube-system'],
          ['list', 'namespaces'],
        ];
        for (const check of denied) expect([...check, canI(account, ...check)]).toEqual([...check, false]);
      });

      test.each(['balancer', 'worker'])('then the full rule list of %s holds endpointslices and nothing beyond what every account has', (account) => {
        const rulesOf = (name: string): string[] => {
          const result = cp.kubectl(['auth', 'can-i', '--list', `--as=system:serviceaccount:${namespace}:${name}`, '-n', namespace]);
          expect(result.code).toBe(0);
          return resourceRules(result.stdout);
        };
        // What the API server's default roles give every service account (it
        // grows with releases: 1.37 added clustertrustbundles), read off an
        // account that no Flotilla role binds.
        const everyone = new Set(rulesOf('flotilla-unbound-probe'));
        expect(everyone.size).toBeGreaterThan(0);
        expect(rulesOf(account).filter((rule) => !everyone.has(rule))).toEqual(['endpointslices.discovery.k8s.io [get list watch]']);
      });

      test('then postgres may not even list endpointslices', () => {
        expect(canI('postgres', 'list', 'endpointslices.discovery.k8s.io')).toBe(false);
      });
    });
  });
});
