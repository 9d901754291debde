/**
 * skaffold's custom builder for the local cluster (skaffold.yaml, profile
 * local-cluster): `node dist/scripts/cluster/skaffold-build.js <Dockerfile>`.
 * skaffold runs it inside the cluster's network namespace (where its kubectl
 * reaches the API server), with IMAGE, PUSH_IMAGE and BUILD_CONTEXT set.
 * The build itself needs the host's network (npm ci, apt-get in RUN steps),
 * so it runs in the namespace FLOTILLA_HOST_NETNS names; the push goes from
 * here to the cluster's registry on 127.0.0.1:5000.
 * https://skaffold.dev/docs/builders/builder-types/custom/
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, pushImage } from './buildah.js';
import { readClusterConfig } from './config.js';
import { ClusterContext } from './context.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function main(): Promise<void> {
  const dockerfile = process.argv[2];
  const { IMAGE: image, PUSH_IMAGE: push, BUILD_CONTEXT: context, FLOTILLA_HOST_NETNS: hostNetns } = process.env;
  if (dockerfile === undefined || image === undefined || context === undefined) {
    throw new Error('usage: skaffold-build.js <Dockerfile>, with IMAGE and BUILD_CONTEXT set (skaffold sets them)');
  }
  if (hostNetns === undefined) {
    throw new Error(
      'FLOTILLA_HOST_NETNS is not set: the build needs the host network namespace (npm, apt) while skaffold runs in the cluster\'s; ' +
        'run skaffold through `npm run cluster -- skaffold ...`, or set it to /proc/<pid of a shell outside the cluster>/ns/net',
    );
  }
  const ctx = new ClusterContext(readClusterConfig(process.env, REPO_ROOT));
  await buildImage(ctx, { tags: [image], dockerfile: resolve(context, dockerfile), context, netns: hostNetns });
  if (push === 'true') await pushImage(ctx, image, image);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
