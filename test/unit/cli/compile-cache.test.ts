import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * bin/compile-cache.cjs: the CLI's bundles are compiled with V8's code cache. Each case runs a
 * fresh Node process over a bundle of its own in a temp folder, as bin/kiln.cjs does.
 */
const COMPILE_CACHE = join(__dirname, '..', '..', '..', 'bin', 'compile-cache.cjs');

interface Fixture {
  dist: string;
  cache: string;
  /** Runs `require(dist/NAME)` with the cache enabled on dist; returns what the bundle printed. */
  run(name: string, env?: Record<string, string>): string;
}

function fixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'kiln-compile-cache-test-'));
  const dist = join(root, 'dist');
  const cache = join(root, 'cache');
  mkdirSync(dist);
  fixtures.push(root);
  return {
    dist,
    cache,
    run(name, env = {}) {
      const script =
        `require(${JSON.stringify(COMPILE_CACHE)}).enableCompileCache(${JSON.stringify(dist)});` +
        `require(${JSON.stringify(join(dist, name))});`;
      const result = spawnSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', KILN_COMPILE_CACHE: cache, ...env },
      });
      if (result.status !== 0) throw new Error(`node failed: ${result.stderr}`);
      return result.stdout;
    },
  };
}

const fixtures: string[] = [];
afterEach(() => {
  for (const root of fixtures.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('the compile cache of the CLI bundles', () => {
  it('stores a bundle’s code on its first run and reads it, unchanged, on the next', () => {
    const { dist, cache, run } = fixture();
    writeFileSync(join(dist, 'kiln-a.cjs'), 'console.log(require("node:path").basename(__filename));');

    expect(run('kiln-a.cjs')).toBe('kiln-a.cjs\n');
    const stored = readdirSync(cache);
    expect(stored).toEqual([expect.stringMatching(/^kiln-a\.cjs-v\d+/)]);
    const written = statSync(join(cache, stored[0] ?? '')).mtimeMs;

    expect(run('kiln-a.cjs')).toBe('kiln-a.cjs\n');
    expect(readdirSync(cache)).toEqual(stored);
    expect(statSync(join(cache, stored[0] ?? '')).mtimeMs).toBe(written);
  });

  it('never runs a rebuilt bundle from the code of the build before, even one of the same length', () => {
    const { dist, cache, run } = fixture();
    const bundle = join(dist, 'kiln-a.cjs');
    writeFileSync(bundle, 'console.log("first build");');
    expect(run('kiln-a.cjs')).toBe('first build\n');

    // V8 checks only a cached script's length: the cache must tell the two builds apart itself.
    writeFileSync(bundle, 'console.log("other build");');
    expect(run('kiln-a.cjs')).toBe('other build\n');
    expect(readdirSync(cache)).toHaveLength(2);
  });

  it('compiles files outside the bundles’ folder as Node does, without caching them', () => {
    const { dist, cache, run } = fixture();
    const outside = join(dist, '..', 'outside.cjs');
    writeFileSync(outside, 'console.log("outside");');
    writeFileSync(join(dist, 'kiln-a.cjs'), `require(${JSON.stringify(outside)});`);

    expect(run('kiln-a.cjs')).toBe('outside\n');
    expect(readdirSync(cache)).toEqual([expect.stringMatching(/^kiln-a\.cjs-/)]);
  });

  it('writes nothing when NODE_DISABLE_COMPILE_CACHE=1', () => {
    const { dist, cache, run } = fixture();
    writeFileSync(join(dist, 'kiln-a.cjs'), 'console.log("ran");');

    expect(run('kiln-a.cjs', { NODE_DISABLE_COMPILE_CACHE: '1' })).toBe('ran\n');
    expect(() => readdirSync(cache)).toThrow(/ENOENT/);
  });

  it('refuses a cache folder others may write to, and runs the bundle as usual', () => {
    const { dist, cache, run } = fixture();
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    writeFileSync(join(dist, 'kiln-a.cjs'), 'console.log("ran");');

    expect(run('kiln-a.cjs')).toBe('ran\n');
    expect(readdirSync(cache)).toEqual([]);
  });
});
