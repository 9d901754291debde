import { join } from 'node:path';
import { buildImage } from '../buildah.js';
import { APP_DOCKERFILES, imageNames } from '../image-names.js';
import type { Step } from './step.js';

/**
 * Dockerfile.balancer and Dockerfile.worker, built as they are from the
 * repository root (the .dockerignore allow-list is the context), on the
 * local node base image. RUN steps share the host's network (chroot
 * isolation), which is how npm ci and apt-get reach their registries.
 */
export const appImagesStep: Step = {
  title: 'Building the Flotilla images (Dockerfile.balancer, Dockerfile.worker)',
  async up(ctx) {
    const names = imageNames(ctx.config.repoRoot);
    for (const [service, dockerfile] of Object.entries(APP_DOCKERFILES) as [keyof typeof APP_DOCKERFILES, string][]) {
      await buildImage(ctx, { tags: [names[service]], dockerfile: join(ctx.config.repoRoot, dockerfile), context: ctx.config.repoRoot });
    }
  },
};
