import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtCli } from '../../support/built-cli';

/**
 * The bundled `kiln` as `npx kiln` runs it: bin/kiln.cjs loading dist/kiln.cjs, which holds the
 * command list, and one bundle per command beside it, loaded only when that command runs.
 */

const ROOT = join(__dirname, '..', '..', '..');
let home: string;

let built: string;

beforeAll(async () => {
  built = join(await builtCli(), 'dist');
  home = mkdtempSync(join(tmpdir(), 'kiln-cli-bundle-'));
}, 180_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A CLI install of bin/kiln.cjs and the given files of the build's dist/. */
function install(name: string, keep: (file: string) => boolean): string {
  const dir = join(home, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'dist'), { recursive: true });
  for (const file of ['kiln.cjs', 'compile-cache.cjs'])
    copyFileSync(join(ROOT, 'bin', file), join(dir, 'bin', file));
  for (const file of readdirSync(built).filter(keep))
    copyFileSync(join(built, file), join(dir, 'dist', file));
  return dir;
}

function kiln(dir: string, args: string[]) {
  const result = spawnSync(process.execPath, [join(dir, 'bin', 'kiln.cjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: home },
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe('the bundled kiln command', () => {
  it('bundles each command on its own beside the command list', () => {
    expect(
      readdirSync(built)
        .filter((f) => f.endsWith('.cjs'))
        .sort(),
    ).toEqual([
      'kiln-dead-letters.cjs',
      'kiln-history.cjs',
      'kiln-sandbox.cjs',
      'kiln-services.cjs',
      'kiln-validate.cjs',
      'kiln.cjs',
    ]);
  });

  it('lists every command with none of their bundles present: --help reads no command code', () => {
    const dir = install('list-only', (file) => file.startsWith('kiln.cjs'));

    const result = kiln(dir, ['--help']);

    expect(result.status).toBe(0);
    for (const command of ['validate', 'services', 'history', 'dead-letters', 'sandbox'])
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('runs a command from its own bundle, with only that bundle present', () => {
    const dir = install(
      'validate-only',
      (file) => file.startsWith('kiln.cjs') || file.startsWith('kiln-validate.'),
    );

    const result = kiln(dir, ['validate', 'examples/checkout.yml']);

    expect(result).toEqual({ stdout: 'examples/checkout.yml: ok\n', stderr: '', status: 0 });
  });

  it('bakes in kiln sandbox from the bundle: the bake steps’ error names survive minifying', () => {
    // The deploy state machine retries InstanceNotReadyError while the builder boots; with class
    // names minified away (`$0`) the Retry never matched and the bake failed on its first poll.
    const dir = install('sandbox-only', (file) => file === 'kiln.cjs' || file.startsWith('kiln-sandbox.'));
    // The sandbox keeps dynalite and the Step Functions runner outside its bundle (they load data
    // files of their own): found through the project's node_modules, as from an installed package.
    const run = spawnSync(
      process.execPath,
      [join(dir, 'bin', 'kiln.cjs'), 'sandbox', '--scenario', 'bake', '--quiet'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          NODE_PATH: join(ROOT, 'node_modules'),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/ok {3}one RunInstances, builder terminated: 1 RunInstances/);
    expect(run.status).toBe(0);
  }, 120_000);
});
