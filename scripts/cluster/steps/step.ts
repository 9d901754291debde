import type { ClusterContext } from '../context.js';

/**
 * One part of bringing the cluster up, in the manner of kind's create
 * actions: `up` is idempotent (it finds what is already there and makes the
 * rest) and `down` undoes what `up` made, from what is on disk, so it also
 * works after a half-finished `up` or from a fresh process.
 */
export interface Step {
  readonly title: string;
  up(ctx: ClusterContext): Promise<void>;
  down?(ctx: ClusterContext): Promise<void>;
}
