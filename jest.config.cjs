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
  // Every test file runs in a fresh worker process: every worker uses more than 1 MB, so Jest
  // recycles it after each file (https://jestjs.io/docs/configuration#workeridlememorylimit-numberstring).
  // Why: Jest 30's test runner (jest-circus) makes an AsyncLocalStorage for each test file and
  // never switches it off, and on Node 20 every enabled AsyncLocalStorage is paid for by every
  // promise made afterwards in the process. In one process the scenario tests, which make
  // millions of promises, slowed with each file run before them (the 100-instance refresh: 4 s
  // of CPU alone, 9 s after 30 empty test files, 19 s after the whole suite), until they hit the
  // 30 s timeout on a busy machine. A fresh process per file costs less than that slowdown
  // (the whole suite: 64 s of CPU instead of 77 s). Setting this also makes Jest use a worker
  // on a 2-core machine, where it would otherwise run every file in its own main process.
  workerIdleMemoryLimit: '1MB',
  // A worker per core (Jest's default leaves one core to its main process, which only collects
  // results here): on a 2-core machine two files run at once, the suite in ~45 s instead of ~65 s.
  maxWorkers: '100%',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
