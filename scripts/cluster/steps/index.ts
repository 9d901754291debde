import { addonsStep } from './addons.js';
import { appImagesStep } from './app-images.js';
import { baseImagesStep } from './base-images.js';
import { binariesStep } from './binaries.js';
import { containerdStep } from './containerd.js';
import { controlPlaneStep } from './control-plane.js';
import { deployStep } from './deploy.js';
import { namespacesStep } from './namespaces.js';
import { nodeStep } from './node.js';
import { pkiStep } from './pki.js';
import type { Step } from './step.js';

/** The order `up` runs them in; `down` undoes them last first. */
export const CLUSTER_STEPS: readonly Step[] = [
  binariesStep,
  baseImagesStep,
  appImagesStep,
  namespacesStep,
  pkiStep,
  containerdStep,
  controlPlaneStep,
  nodeStep,
  addonsStep,
  deployStep,
];
