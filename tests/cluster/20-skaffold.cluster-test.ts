import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from '../k8s-static/render.js';
import { apiCall, clusterEnv, isReady, pods } from './cluster.js';

/**
 * `skaffold run -p local-cluster` for real: skaffold's custom builder builds
 * both Dockerfiles with buildah, pushes them to the cluster's registry, and
 * skaffold deploys the overlay with kubectl, so the Deployments roll to the
 * pushed images. Last in the tier: it redeploys the cluster.
 */

const env = clusterEnv();
const SKAFFOLD_TIMEOUT_MS = 15 * 60_000;

function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return apiCall(env, method, path, body);
}

describe('when skaffold run -p local-cluster builds, pushes and deploys', () => {
  const key = `skaffold-${randomUUID()}`;
  let output = '';
  let code: number | null = null;

  beforeAll(async () => {
    expect((await call('PUT', `/v1/kv/${key}`, { value: 'written before skaffold' })).status).toBe(201);
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/scripts/cluster/main.js'), 'skaffold', 'run', '-p', 'local-cluster'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: SKAFFOLD_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    output = `${result.stdout}\n${result.stderr}`;
    code = result.status;
  }, SKAFFOLD_TIMEOUT_MS + 60_000);

  test('then skaffold succeeds, having pushed both images to the cluster registry', async () => {
    expect([code, code === 0 ? '' : output.slice(-4_000)]).toEqual([0, '']);
    const catalog = (await (await fetch(`http://${env.REGISTRY}/v2/_catalog`, { signal: AbortSignal.timeout(5_000) })).json()) as { repositories: string[] };
    expect(catalog.repositories).toEqual(expect.arrayContaining(['flotilla-balancer', 'flotilla-worker']));
  });

  test('then every balancer and worker pod runs the pushed image and is Ready', () => {
    for (const [name, count] of [
      ['balancer', 2],
      ['worker', 3],
    ] as const) {
      // Pods of the replaced ReplicaSets may still be terminating.
      const list = pods(env, `app.kubernetes.io/name=${name}`).filter((pod) => pod.metadata.deletionTimestamp === undefined);
      expect([name, list.length]).toEqual([name, count]);
      for (const pod of list) {
        expect(isReady(pod)).toBe(true);
        // The template names the pushed tag and digest; the image ID is the registry's digest, so it came from there.
        const image = pod.spec.containers.find((c) => c.name === name)?.image ?? '';
        expect(image).toMatch(new RegExp(`^${env.REGISTRY}/flotilla-${name}:[^@]+@sha256:[0-9a-f]{64}$`));
        const imageId = pod.status.containerStatuses?.find((c) => c.name === name)?.imageID ?? '';
        expect(imageId).toBe(`${env.REGISTRY}/flotilla-${name}@${image.split('@')[1] ?? ''}`);
      }
    }
  });

  test('then the API still answers through the balancer, with the data written before the redeploy', async () => {
    expect(await call('GET', `/v1/kv/${key}`)).toMatchObject({ status: 200, json: { value: 'written before skaffold' } });
  });
});
