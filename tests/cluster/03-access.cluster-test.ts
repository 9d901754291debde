import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceRules } from '../helpers/rbac.js';
import { apiServer, clusterEnv, kubectl, kubectlOk, type ClusterEnv } from './cluster.js';

/**
 * What each Flotilla service account may do on the real cluster, asked with
 * a token the API server issued to that account (the pods' own identity),
 * not by impersonation: only what k8s/base/*\/rbac.yaml grants.
 */

const env = clusterEnv();
const PROBE_ACCOUNT = 'flotilla-rbac-probe';

/** A kubeconfig that authenticates with a bearer token only (the admin one also carries a client certificate). */
function tokenKubeconfig(dir: string, account: string): string {
  const { server, ca } = apiServer(env);
  const token = kubectlOk(env, ['-n', env.NAMESPACE, 'create', 'token', account, '--duration=10m']).trim();
  const file = join(dir, `${account}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority': ca } }],
      users: [{ name: account, user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: account, namespace: env.NAMESPACE } }],
      'current-context': 'c',
    }),
  );
  return file;
}

/** kubectl as that account; returns `auth can-i` style answers. */
function asAccount(kubeconfig: string, args: readonly string[]): { code: number; stdout: string } {
  return kubectl({ ...env, KUBECONFIG: kubeconfig } satisfies ClusterEnv, args);
}

describe('when each Flotilla service account asks the real API server what it may do', () => {
  let dir: string;
  const kubeconfigs = new Map<string, string>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-rbac-'));
    kubectlOk(env, ['-n', env.NAMESPACE, 'create', 'serviceaccount', PROBE_ACCOUNT]);
    for (const account of ['balancer', 'worker', 'postgres', PROBE_ACCOUNT]) kubeconfigs.set(account, tokenKubeconfig(dir, account));
  });

  afterAll(() => {
    kubectl(env, ['-n', env.NAMESPACE, 'delete', 'serviceaccount', PROBE_ACCOUNT, '--ignore-not-found']);
    rmSync(dir, { recursive: true, force: true });
  });

  function extraRules(account: string): string[] {
    const rules = (name: string): string[] => {
      const result = asAccount(kubeconfigs.get(name) ?? '', ['auth', 'can-i', '--list']);
      expect(result.code).toBe(0);
      return resourceRules(result.stdout);
    };
    // What the default roles give any service account, read off one no Flotilla role binds.
    const everyone = new Set(rules(PROBE_ACCOUNT));
    expect(everyone.size).toBeGreaterThan(0);
    return rules(account).filter((rule) => !everyone.has(rule));
  }

  test.each(['balancer', 'worker'])('then %s may get, list and watch endpointslices in its namespace, and nothing more', (account) => {
    expect(extraRules(account)).toEqual(['endpointslices.discovery.k8s.io [get list watch]']);
    const kubeconfig = kubeconfigs.get(account) ?? '';
    for (const check of [
      ['get', 'secrets'],
      ['list', 'pods'],
      ['create', 'endpointslices.discovery.k8s.io'],
      ['list', 'endpointslices.discovery.k8s.io', '--namespace=kube-system'],
    ]) {
      expect([...check, asAccount(kubeconfig, ['auth', 'can-i', ...check]).stdout.trim()]).toEqual([...check, 'no']);
    }
  });

  test('then postgres may do nothing beyond what every account may', () => {
    expect(extraRules('postgres')).toEqual([]);
  });
});
