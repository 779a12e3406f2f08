import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The bundled `kiln dead-letters` in its own process, where Node's socket errors reach the SDK
 * as they do outside Jest (see environment-errors.test.ts beside this file for the store
 * commands). The child gets only the variables given here: no developer ~/.aws, no instance
 * metadata, and the SQS endpoint on a closed loopback port.
 */

const ROOT = join(__dirname, '..', '..', '..');
let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'kiln-bundle-dl-'));
  mkdirSync(join(home, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'kiln.cjs'), join(home, 'bin', 'kiln.cjs'));
  const build = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts', 'build-cli.mjs'), '--outfile', join(home, 'dist', 'kiln.cjs')],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(`building the CLI failed: ${build.stderr}`);
  writeFileSync(join(home, 'config'), '');
  writeFileSync(join(home, 'credentials'), '');
}, 60_000);

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

/** A loopback port with nothing listening: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

function kiln(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [join(home, 'bin', 'kiln.cjs'), ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      ...env,
    },
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe('kiln dead-letters in a broken AWS environment', () => {
  it.each([['list'], ['replay', '--all']])(
    '%s prints one line naming AWS_ENDPOINT_URL_SQS and exits 2 when the endpoint refuses connections',
    async (...command) => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;

      const result = kiln(['dead-letters', ...command], {
        AWS_ENDPOINT_URL_SQS: endpoint,
        KILN_DEAD_LETTER_QUEUE: `${endpoint}/123456789012/kiln-test-dead-letters`,
      });

      expect(result).toEqual({
        stdout: '',
        stderr: `kiln: cannot reach SQS at ${endpoint} (connection refused): check AWS_ENDPOINT_URL_SQS\n`,
        status: 2,
      });
    },
  );
});
