/**
 * The tier against a real single-node cluster (`npm run test:cluster`): its
 * own files (*.cluster-test.ts), one at a time and in the order of their
 * names, inside the cluster's network namespace. The runner brings the
 * cluster up first (scripts/cluster, `npm run cluster -- up`).
 * @type {import('jest').Config}
 */
import base from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/tests/cluster'],
  testMatch: ['**/*.cluster-test.ts'],
  testSequencer: '<rootDir>/tests/cluster/sequencer.js',
  testTimeout: 300_000,
  maxWorkers: 1,
};
