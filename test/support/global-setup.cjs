// One folder per `jest` run for what its test files build once and share (test/support/built-cli.ts):
// made here, in Jest's main process before any worker starts, so every worker inherits its path.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  process.env.KILN_TEST_RUN_DIR = mkdtempSync(join(tmpdir(), 'kiln-test-run-'));
};
