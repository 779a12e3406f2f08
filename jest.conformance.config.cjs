// The moto conformance suite: differential tests that hold the sandbox's simulated AWS services to
// moto's request validation and response shapes. Needs moto_server (see global-setup.cjs).
const base = require('./jest.config.cjs');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/conformance'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/conformance/global-setup.cjs',
  globalTeardown: '<rootDir>/test/conformance/global-teardown.cjs',
};
