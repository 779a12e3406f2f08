/**
 * Where the conformance tests find moto. `.ci/run` starts `moto_server` and exports MOTO_ENDPOINT;
 * locally, `npm run test:conformance` does the same through test/conformance/global-setup.cjs.
 */
export function motoEndpoint(): string {
  const endpoint = process.env.MOTO_ENDPOINT;
  if (!endpoint) {
    throw new Error('MOTO_ENDPOINT is not set: run `npm run test:conformance` (it starts moto_server)');
  }
  return endpoint;
}

/** Clears all of moto's state (POST /moto-api/reset). */
export async function resetMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint()}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}

/** Client settings that point any SDK v3 client at moto. */
export function motoClientConfig(region = 'us-east-1') {
  return {
    region,
    endpoint: motoEndpoint(),
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  };
}
