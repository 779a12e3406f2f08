// Starts moto_server for the conformance suite unless MOTO_ENDPOINT already points at one
// (.ci/run starts its own and stops it after). moto_server is preinstalled on Kiln's CI machines.
const { spawn } = require('node:child_process');
const net = require('node:net');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitUntilUp(endpoint, deadlineMs) {
  while (Date.now() < deadlineMs) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto_server did not start at ${endpoint}`);
}

module.exports = async function globalSetup() {
  if (process.env.MOTO_ENDPOINT) return;
  const port = await freePort();
  // MOTO_PORT: moto's Step Functions engine calls moto's own Lambda at localhost:$MOTO_PORT (default 5000).
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, MOTO_PORT: String(port) },
  });
  child.on('error', (error) => {
    console.error(`cannot start moto_server (is it installed? pip install "moto[server]"): ${error.message}`);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, Date.now() + 30000);
  process.env.MOTO_ENDPOINT = endpoint;
  globalThis.__MOTO_CHILD__ = child;
};
