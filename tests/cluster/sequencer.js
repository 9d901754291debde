import Sequencer from '@jest/test-sequencer';

/**
 * Files run in the order of their names: the deploy checks first, the ones
 * that change the cluster (skaffold redeploys it) last.
 */
export default class ByName extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => a.path.localeCompare(b.path));
  }
}
