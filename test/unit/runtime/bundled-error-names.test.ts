import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { readDeployedSettings } from '../../../bench/deployed-functions';
import { STEP_ERROR_NAMES } from '../../../shared/domain/step-errors';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * A Lambda task that throws reports `errorType` = the error's `name`, which KilnError takes from
 * its class (`new.target.name`), and the deploy state machine's Retry/Catch match those names.
 * A minifier that renames classes (esbuild's `minify` without `keepNames`) turns
 * InstanceNotReadyError into `$0`: the Retry on it never matches and a bake fails on its first
 * "builder still pending". This test bundles the error classes the way each deployed function is bundled
 * (test/integration/cli/bundle.test.ts runs a bake through the bundled `kiln` CLI for its bundling).
 */
const ENTRY = `
export * from './shared/domain/step-errors';
export * from './shared/store/errors';
export { IllegalTransitionError } from './shared/domain/deployment';
`;

async function bundledClassNames(options: Record<string, unknown>): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-error-names-'));
  try {
    const outfile = join(dir, 'errors.js');
    await build({
      ...options,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts' },
      outfile,
      logLevel: 'error',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(outfile) as Record<string, { name: string }>;
    return Object.fromEntries(STEP_ERROR_NAMES.map((name) => [name, bundled[name]?.name ?? 'missing']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const expected = Object.fromEntries(STEP_ERROR_NAMES.map((name) => [name, name]));

describe('error names the state machine matches, once bundled', () => {
  it('survive the deployed functions’ bundling (serverless.yml custom.esbuild)', async () => {
    const { esbuild } = readDeployedSettings(ROOT);
    expect(await bundledClassNames({ ...esbuild })).toEqual(expected);
  }, 60_000);
});
