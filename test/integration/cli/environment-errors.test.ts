import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The bundled `kiln` command in its own process, as a user runs it: bin/kiln.cjs with a fresh
 * bundle of cli/ beside it (built into a temp dir, so dist/ is left alone). This is where the
 * exit code reaches the shell, and where Node's socket errors reach the SDK as they do outside
 * Jest. The child gets only the variables given here: no developer ~/.aws, no instance
 * metadata, endpoints on closed loopback ports.
 */

const ROOT = join(__dirname, '..', '..', '..');
let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
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
      ...env,
    },
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const keys = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('the kiln command in a broken AWS environment', () => {
  it('prints one line naming AWS_ENDPOINT_URL_DYNAMODB and exits 2 when the endpoint refuses connections', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;

    const result = kiln(['services', 'list', '--table', 'kiln'], {
      ...keys,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    });

    expect(result).toEqual({
      stdout: '',
      stderr: `kiln: cannot reach DynamoDB at ${endpoint} (connection refused): check AWS_ENDPOINT_URL_DYNAMODB\n`,
      status: 2,
    });
  });

  it('adds the SDK error, with its code and attempts, under KILN_DEBUG=1', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;

    const result = kiln(['history', 'checkout', '--table', 'kiln'], {
      ...keys,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      KILN_DEBUG: '1',
    });

    const [line, ...debug] = result.stderr.split('\n');
    expect(line).toBe(
      `kiln: cannot reach DynamoDB at ${endpoint} (connection refused): check AWS_ENDPOINT_URL_DYNAMODB`,
    );
    expect(debug.join('\n')).toMatch(
      /^kiln: KILN_DEBUG: the AWS SDK reported: Error: connect ECONNREFUSED 127\.0\.0\.1:\d+/,
    );
    expect(debug.join('\n')).toMatch(/code: 'ECONNREFUSED'/);
    expect(debug.join('\n')).toMatch(/attempts: 4/);
    expect(result.status).toBe(2);
  });

  it('prints one line naming AWS_REGION and exits 2 when no region is set', () => {
    const result = kiln(['services', 'list', '--table', 'kiln'], {
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });

    expect(result.stderr).toBe(
      'kiln: no AWS region: set AWS_REGION or pass --region, or add region to the [default] profile in ~/config\n',
    );
    expect(result.status).toBe(2);
  });

  it('prints one line naming the profile and exits 2 when AWS_PROFILE names no profile', () => {
    const result = kiln(['services', 'list', '--table', 'kiln'], { AWS_PROFILE: 'nope' });

    expect(result.stderr).toMatch(/^kiln: AWS profile "nope" not found in .*\n$/);
    expect(result.status).toBe(2);
  });
});
