/**
 * Jest runs the TypeScript sources as native ES modules (the project is
 * "type": "module"), transpiled by swc without type-checking; `npm run
 * typecheck` is the type gate. Integration tests start the compiled services
 * from dist/, which `pretest` builds.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: 60_000,
  // Real processes and one Postgres per file: two cores run two files at once.
  maxWorkers: 2,
};
