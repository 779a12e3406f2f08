import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { readDeployedSettings } from '../../../bench/deployed-functions';
import { mapStack } from '../../../shared/runtime/stack-map';

const ROOT = join(__dirname, '..', '..', '..');
const SOURCE = join(ROOT, 'test', 'fixtures', 'bundles', 'failing-function.ts');

/** 1-based line of the first line of the fixture holding `text`. */
const lineOf = (text: string): number =>
  readFileSync(SOURCE, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(text)) + 1;

describe('stack traces of a bundled function', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-stack-map-'));
    bundle = join(dir, 'failing-function.js');
    // Bundled as `npm run package` bundles every function: serverless.yml's custom.esbuild.
    await build({
      ...readDeployedSettings(ROOT).esbuild,
      absWorkingDir: ROOT,
      entryPoints: [SOURCE],
      outfile: bundle,
      logLevel: 'error',
    });
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Invokes the bundle's handler in a plain Node process (no source-map flag) and returns the stack it threw. */
  function failedInvocation(): { stack: string; cause: string } {
    const script = `require(${JSON.stringify(bundle)}).handler({}, { functionName: 'f', awsRequestId: 'r' })
      .then(() => process.exit(3), (e) => { console.log(JSON.stringify({ stack: e.stack, cause: e.cause.stack })); });`;
    const result = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    if (result.status !== 0) throw new Error(`the invocation did not fail as expected: ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { stack: string; cause: string };
  }

  describe('when an invocation fails', () => {
    it('leaves the handler with a stack that names the TypeScript source line, not the bundle', () => {
      const { stack } = failedInvocation();

      const line = lineOf("throw new Error('the use case failed'");
      expect(stack.split('\n')[1]).toContain(`${SOURCE}:${line}:`);
      expect(stack).not.toContain('failing-function.js:');
    });

    it('maps the stack of the error it was caused by too', () => {
      const { cause } = failedInvocation();

      expect(cause.split('\n')[1]).toContain(`${SOURCE}:${lineOf("new TypeError('the store said no')")}:`);
    });
  });

  describe('mapStack', () => {
    it('leaves frames alone that point into files without a source map beside them', () => {
      const stack = [
        'Error: no map here',
        `    at run (${join(dir, 'elsewhere.js')}:1:10)`,
        '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      ].join('\n');

      expect(mapStack(stack)).toBe(stack);
    });
  });
});
