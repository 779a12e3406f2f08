/**
 * Jest runs the TypeScript sources through SWC (fast, no type check: `npm run typecheck` does that).
 * @middy/core is ESM-only, so it is transformed to CommonJS along with our code.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/conformance/'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // A folder for what test files build once per run and share (test/support/built-cli.ts).
  globalSetup: '<rootDir>/test/support/global-setup.cjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.cjs',
  testTimeout: 30000,
  // jest-circus, plus switching off each test file's AsyncLocalStorages when the file ends: on
  // Node 20 every enabled one is paid for by every promise made afterwards in the process, and
  // neither Jest nor the sandbox ever disables theirs (test/support/test-runner.cjs says more).
  // With that, a worker runs file after file at the same speed, and files share workers.
  testRunner: '<rootDir>/test/support/test-runner.cjs',
  // A worker whose heap passes this after a file is replaced before the next one
  // (https://jestjs.io/docs/configuration#workeridlememorylimit-numberstring), so one file's
  // leftovers never weigh on another for long. Setting it also makes Jest use workers on a
  // 2-core machine, where it would otherwise run every file in its main process.
  workerIdleMemoryLimit: '600MB',
  // A worker per core (Jest's default leaves one core to its main process, which only collects
  // results here): on a 2-core machine two files run at once, the suite in ~45 s instead of ~65 s.
  maxWorkers: '100%',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
