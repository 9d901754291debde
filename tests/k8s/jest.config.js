/**
 * The tier against a real kube-apiserver (`npm run test:k8s`): its own files
 * (*.k8s-test.ts, so plain `npm test` never picks them up), one at a time,
 * because each starts etcd and kube-apiserver on this machine's two cores.
 * @type {import('jest').Config}
 */
import base from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/tests/k8s'],
  testMatch: ['**/*.k8s-test.ts'],
  testTimeout: 120_000,
  maxWorkers: 1,
};
