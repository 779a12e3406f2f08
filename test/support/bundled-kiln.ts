import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtCli } from './built-cli';

/**
 * The bundled `kiln` command in its own process, as a user runs it: bin/kiln.cjs with a fresh
 * bundle of cli/ beside it (the run's one build, support/built-cli.ts, so dist/ is left alone). This is where the
 * exit code reaches the shell, and where Node's socket errors reach the SDK as they do outside
 * Jest. The child gets only the variables given here and to `kiln`: no developer ~/.aws (empty
 * config and credentials files in a temp HOME), no instance metadata.
 *
 * Call in a describe/file body: registers the build in beforeAll and the clean-up in afterAll.
 */
export function useBundledKiln(baseEnv: Record<string, string> = {}) {
  const root = join(__dirname, '..', '..');
  let home = '';

  beforeAll(async () => {
    const built = await builtCli();
    home = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
    mkdirSync(join(home, 'bin'));
    for (const file of ['kiln.cjs', 'compile-cache.cjs'])
      copyFileSync(join(root, 'bin', file), join(home, 'bin', file));
    cpSync(join(built, 'dist'), join(home, 'dist'), { recursive: true });
    writeFileSync(join(home, 'config'), '');
    writeFileSync(join(home, 'credentials'), '');
  }, 180_000);

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  return function kiln(args: string[], env: Record<string, string>) {
    const result = spawnSync(process.execPath, [join(home, 'bin', 'kiln.cjs'), ...args], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        AWS_CONFIG_FILE: join(home, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        ...baseEnv,
        ...env,
      },
    });
    return { stdout: result.stdout, stderr: result.stderr, status: result.status };
  };
}

/** A loopback port with nothing listening: taken from the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}
