const { rmSync } = require('node:fs');

module.exports = async function globalTeardown() {
  const dir = process.env.KILN_TEST_RUN_DIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
};
