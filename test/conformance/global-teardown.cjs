module.exports = async function globalTeardown() {
  const child = globalThis.__MOTO_CHILD__;
  if (child) child.kill('SIGTERM');
};
