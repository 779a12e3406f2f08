import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(__dirname, '..', '..');
const WAIT_MS = 180_000;

/**
 * The `kiln` CLI freshly bundled from this checkout (scripts/build-cli.mjs), once per `jest` run:
 * the folder holding dist/kiln.cjs and the command bundles. Several test files run the bundled
 * CLI; each building its own was three esbuild runs of every bundle per `npm test`. The first file
 * to ask builds it into the run's folder (test/support/global-setup.cjs); files in other workers
 * wait for it. Without that folder (a test run outside this config) it builds a copy of its own.
 */
export async function builtCli(): Promise<string> {
  const runDir = process.env.KILN_TEST_RUN_DIR;
  if (runDir === undefined) {
    const own = mkdtempSync(join(tmpdir(), 'kiln-cli-build-'));
    process.once('exit', () => rmSync(own, { recursive: true, force: true }));
    return build(own);
  }
  const dir = join(runDir, 'cli');
  const done = join(runDir, 'cli.done');
  const failed = join(runDir, 'cli.failed');
  try {
    mkdirSync(join(runDir, 'cli.lock'));
  } catch {
    // Another file builds it: wait for the outcome.
    for (let waited = 0; waited < WAIT_MS; waited += 100) {
      if (existsSync(done)) return dir;
      if (existsSync(failed)) throw new Error(readFileSync(failed, 'utf8'));
      await sleep(100);
    }
    throw new Error(`the shared CLI build in ${dir} did not finish in ${WAIT_MS / 1000} s`);
  }
  try {
    build(dir);
  } catch (error) {
    writeFileSync(failed, error instanceof Error ? error.message : String(error));
    throw error;
  }
  writeFileSync(done, '');
  return dir;
}

function build(dir: string): string {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts', 'build-cli.mjs'), '--outfile', join(dir, 'dist', 'kiln.cjs')],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`building the CLI failed: ${result.stderr}`);
  return dir;
}
