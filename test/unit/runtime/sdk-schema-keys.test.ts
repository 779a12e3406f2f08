import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { readDeployedSettings } from '../../../bench/deployed-functions';
import plugins from '../../../scripts/esbuild/plugins.cjs';

const ROOT = join(__dirname, '..', '..', '..');
const requireFromRoot = createRequire(join(ROOT, 'package.json'));

/** Every SDK client Kiln depends on (and so may bundle into a function). */
const CLIENTS = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
    .dependencies,
).filter((name) => name.startsWith('@aws-sdk/client-'));

/** The client's generated schema module, where `mainFields: module` resolves it. */
const schemaModule = (client: string) =>
  join(
    requireFromRoot.resolve(`${client}/package.json`).replace(/package\.json$/, ''),
    'dist-es',
    'schemas',
    'schemas_0.js',
  );

/** The module's exports, bundled (its imports included) as the deployed bundles are: ESM to CJS. */
async function exportsOf(entry: string, withPlugins: readonly Plugin[]): Promise<Record<string, unknown>> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    plugins: [...withPlugins],
    logLevel: 'error',
  });
  const module = { exports: {} as Record<string, unknown> };
  const text = result.outputFiles[0]?.text ?? '';
  new Function('module', 'exports', 'require', text)(module, module.exports, requireFromRoot);
  return module.exports;
}

const isClass = (value: unknown) =>
  typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value));

/**
 * Where `a` and `b` differ as schemas, or undefined when they are equal: arrays, objects and Maps
 * member by member, a zero-argument function (the schemas' `() => OtherShape$` thunks) by what it
 * returns, a class (the modeled exceptions) by its name. Cycles are followed once.
 */
function difference(
  a: unknown,
  b: unknown,
  path: string,
  seen = new Map<object, object>(),
): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    if (typeof a === 'function' && typeof b === 'function') {
      if (isClass(a) || isClass(b))
        return a.name === b.name ? undefined : `${path}: class ${a.name} ≠ ${b.name}`;
      if (a.length === 0 && b.length === 0) return difference(a(), b(), `${path}()`, seen);
      return Function.prototype.toString.call(a) === Function.prototype.toString.call(b)
        ? undefined
        : `${path}: functions differ`;
    }
    return `${path}: ${String(a)} ≠ ${String(b)}`;
  }
  if (seen.get(a) === b) return undefined;
  seen.set(a, b as object);
  if (Object.getPrototypeOf(a)?.constructor?.name !== Object.getPrototypeOf(b)?.constructor?.name)
    return `${path}: different kinds of object`;
  if (a instanceof Map && b instanceof Map) {
    const left = [...a.entries()];
    const right = [...b.entries()];
    if (left.length !== right.length) return `${path}: ${left.length} ≠ ${right.length} entries`;
    for (let i = 0; i < left.length; i++) {
      const found = difference(left[i], right[i], `${path}[entry ${i}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b as object);
  if (keysA.join('\0') !== keysB.join('\0')) return `${path}: keys ${keysA.join(',')} ≠ ${keysB.join(',')}`;
  for (const key of keysA) {
    const found = difference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${path}.${key}`,
      seen,
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

describe('the AWS SDK schemas in the deployed bundles (scripts/esbuild/plugins.cjs)', () => {
  describe('the bundles npm run package builds', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'kiln-schemas-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const bundledBytes = (metafile: Metafile, input: string) =>
      Object.values(metafile.outputs)
        .flatMap((output) => Object.entries(output.inputs))
        .filter(([path]) => path.includes(input))
        .reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0);

    it.each(
      readDeployedSettings(ROOT)
        .functions.filter((fn) => ['bakeSteps', 'retainImages', 'sweepBakes', 'reconcile'].includes(fn.key))
        .map((fn) => [fn.key, fn.entry] as const),
    )(
      'keeps in %s only the EC2 schemas its commands reach, not the whole service',
      async (key, entry) => {
        const { metafile } = await build({
          ...readDeployedSettings(ROOT).esbuild,
          absWorkingDir: ROOT,
          entryPoints: [join(ROOT, entry)],
          outfile: join(dir, key, 'index.js'),
          metafile: true,
          logLevel: 'error',
        });

        // The whole module is 1.3 MB of source, 553 KB minified; the bake's 11 commands reach ~40 KB.
        expect(bundledBytes(metafile, '@aws-sdk/client-ec2/dist-es/schemas/')).toBeGreaterThan(0);
        expect(bundledBytes(metafile, '@aws-sdk/client-ec2/dist-es/schemas/')).toBeLessThan(100_000);
      },
      60_000,
    );
  });

  describe('literalSchemaKeys', () => {
    it.each(CLIENTS)(
      'leaves every schema %s exports equal to the original',
      async (client) => {
        const original = await exportsOf(schemaModule(client), []);
        const rewritten = await exportsOf(schemaModule(client), plugins);

        expect(Object.keys(rewritten).length).toBeGreaterThan(10);
        expect(difference(original, rewritten, client)).toBeUndefined();
      },
      30_000,
    );

    it('writes every computed key of the EC2 schemas as the string it names', () => {
      const source = readFileSync(schemaModule('@aws-sdk/client-ec2'), 'utf8');

      const { code, replaced } = plugins.literalSchemaKeys(source);

      expect(replaced).toBeGreaterThan(10_000);
      expect(code).not.toMatch(/[{,]\s*\[_\w+\]:/);
    });

    it('leaves a computed key alone when it names no top-level string constant', () => {
      const source = [
        'const _xN = "xmlName";',
        'const _n = 7;',
        'function f(_local) { return { [_local]: 1 }; }',
        'export var A$ = [3, { [_xN]: "a", [_n]: 1, [_other]: 2 }];',
      ].join('\n');

      const { code, replaced } = plugins.literalSchemaKeys(source);

      expect(replaced).toBe(1);
      expect(code).toContain('{ "xmlName": "a", [_n]: 1, [_other]: 2 }');
      expect(code).toContain('{ [_local]: 1 }');
    });
  });
});
