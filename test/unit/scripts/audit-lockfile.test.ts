import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** scripts/audit-lockfile.mjs, run as CI runs it, on fixture projects written per test. */

const ROOT = join(__dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'audit-lockfile.mjs');
const DECLARED = '^20.19.0 || ^22.13.0 || >=24';

interface LockEntry {
  version: string;
  resolved?: string;
  integrity?: string;
  engines?: { node?: string };
  dev?: boolean;
}

interface Project {
  pkg: { name: string; engines: { node: string } };
  lock: {
    name: string;
    lockfileVersion: number;
    packages: Record<string, LockEntry | { name: string; engines: { node: string } }>;
  };
  advisories: { advisories: Array<Record<string, string>> };
}

/** A small clean project: one package per kind of entry, nothing wrong. */
function cleanProject(): Project {
  return {
    pkg: { name: 'fixture', engines: { node: DECLARED } },
    lock: {
      name: 'fixture',
      lockfileVersion: 3,
      packages: {
        '': { name: 'fixture', engines: { node: DECLARED } },
        // npm's omit-lockfile-registry-resolved leaves `resolved` out for registry packages.
        'node_modules/left-pad': {
          version: '1.3.0',
          integrity: 'sha512-bGVmdC1wYWQ=',
          engines: { node: '>=18' },
        },
        'node_modules/@scope/tool': {
          version: '2.0.0',
          resolved: 'https://registry.npmjs.org/@scope/tool/-/tool-2.0.0.tgz',
          integrity: 'sha512-dG9vbA==',
          dev: true,
        },
        // Allowlisted in the script: needs Node 22, polyfilled on Node 20.
        'node_modules/aws-local-stepfunctions': {
          version: '3.0.0',
          integrity: 'sha512-YWxzZg==',
          engines: { node: '>=22.0.0' },
        },
      },
    },
    advisories: { advisories: [] },
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-audit-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function audit(project: Project) {
  const paths = {
    '--package': join(dir, 'package.json'),
    '--lockfile': join(dir, 'package-lock.json'),
    '--advisories': join(dir, 'advisories.json'),
  };
  writeFileSync(paths['--package'], JSON.stringify(project.pkg));
  writeFileSync(paths['--lockfile'], JSON.stringify(project.lock));
  writeFileSync(paths['--advisories'], JSON.stringify(project.advisories));
  return run(Object.entries(paths).flat());
}

function run(args: string[]) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
  return {
    status: result.status,
    stdout: result.stdout,
    problems: result.stderr.split('\n').filter((l) => l !== ''),
  };
}

function entry(project: Project, path: string): LockEntry {
  const found = project.lock.packages[path];
  if (found === undefined || !('version' in found)) throw new Error(`fixture has no ${path}`);
  return found;
}

describe('audit-lockfile', () => {
  describe('on the committed project', () => {
    it('passes package-lock.json against package.json and scripts/advisories.json', () => {
      const result = run([]);

      expect(result.problems).toEqual([]);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`every engines.node accepts "${DECLARED}"`);
    });

    it('finds the mismatches the former engines.node ">=20.19" hid (eslint, jest, osls refuse Node 21)', () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        engines: { node: string };
      };
      pkg.engines.node = '>=20.19';
      writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));

      const result = run(['--package', join(dir, 'package.json')]);

      expect(result.status).toBe(1);
      for (const name of ['eslint@', 'jest@', 'osls@4.3.1']) {
        expect(result.problems).toContainEqual(
          expect.stringMatching(new RegExp(`^engines: ${name}.*\\(21\\.0\\.0 is declared and refused\\)`)),
        );
      }
    });
  });

  describe('on a clean fixture', () => {
    it('passes and says the advisory list is empty', () => {
      const result = audit(cleanProject());

      expect(result.problems).toEqual([]);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/3 packages .*; no advisories listed\n$/);
    });
  });

  describe('engines', () => {
    it('refuses a package whose engines.node excludes part of the declared range, naming both ranges', () => {
      const project = cleanProject();
      entry(project, 'node_modules/left-pad').engines = { node: '>=22' };

      const result = audit(project);

      expect(result.status).toBe(1);
      expect(result.problems[0]).toBe(
        `engines: left-pad@1.3.0 (node_modules/left-pad) needs node ">=22", but package.json declares "${DECLARED}" ` +
          '(20.19.0 is declared and refused): narrow engines.node, change the dependency, or allowlist it in scripts/audit-lockfile.mjs with the reason',
      );
    });

    it('accepts an allowlisted package at the range it was accepted at, and prints the reason', () => {
      const result = audit(cleanProject());

      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(
        /^engines: aws-local-stepfunctions@3\.0\.0 .* accepted: .*polyfilled by sandbox\/core\/polyfills\.ts$/m,
      );
    });

    it('refuses an allowlisted package again once its range moves', () => {
      const project = cleanProject();
      entry(project, 'node_modules/aws-local-stepfunctions').engines = { node: '>=24.0.0' };

      const result = audit(project);

      expect(result.status).toBe(1);
      expect(result.problems[0]).toMatch(
        /^engines: aws-local-stepfunctions@3\.0\.0 .* needs node ">=24\.0\.0"/,
      );
    });

    it('refuses an allowlist entry whose package left the tree', () => {
      const project = cleanProject();
      delete project.lock.packages['node_modules/aws-local-stepfunctions'];

      const result = audit(project);

      expect(result.problems[0]).toBe(
        'engines: the allowlist names aws-local-stepfunctions, which the lockfile no longer holds: remove the entry',
      );
      expect(result.status).toBe(1);
    });

    it('refuses a lockfile whose recorded engines.node is not the one package.json declares', () => {
      const project = cleanProject();
      project.pkg.engines.node = '>=20.19';

      const result = audit(project);

      expect(result.problems[0]).toMatch(
        /^engines: .*package-lock\.json records engines\.node .* run npm install to refresh the lockfile$/,
      );
      expect(result.status).toBe(1);
    });
  });

  describe('sources', () => {
    it.each([
      ['plain http', 'http://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz'],
      ['another host', 'https://npm.example.com/left-pad/-/left-pad-1.3.0.tgz'],
      ['a git repository', 'git+ssh://git@github.com/example/left-pad.git#abc123'],
    ])('refuses a package resolved from %s', (_what, resolved) => {
      const project = cleanProject();
      entry(project, 'node_modules/left-pad').resolved = resolved;

      const result = audit(project);

      expect(result.problems[0]).toBe(
        `sources: left-pad@1.3.0 (node_modules/left-pad) is fetched from ${resolved}, not from https://registry.npmjs.org/`,
      );
      expect(result.status).toBe(1);
    });

    it('refuses a package without an integrity hash', () => {
      const project = cleanProject();
      delete entry(project, 'node_modules/@scope/tool').integrity;

      const result = audit(project);

      expect(result.problems[0]).toBe(
        'sources: @scope/tool@2.0.0 (node_modules/@scope/tool) has no integrity hash, so npm ci cannot verify what it downloads',
      );
      expect(result.status).toBe(1);
    });

    it('refuses a package whose only hash is sha1', () => {
      const project = cleanProject();
      entry(project, 'node_modules/left-pad').integrity = 'sha1-3Vw3aEtTaFOb0ZFBCJ2exFQeaxU=';

      const result = audit(project);

      expect(result.problems[0]).toMatch(
        /^sources: left-pad@1\.3\.0 .* has only a weak integrity hash \(sha1\), not sha512$/,
      );
      expect(result.status).toBe(1);
    });
  });

  describe('advisories', () => {
    it('names a package version inside a listed vulnerable range with the advisory and its URL', () => {
      const project = cleanProject();
      project.advisories.advisories.push({
        id: 'GHSA-test-0000-0000',
        package: 'left-pad',
        vulnerable: '<1.3.1',
        url: 'https://github.com/advisories/GHSA-test-0000-0000',
        summary: 'pads the wrong side',
      });

      const result = audit(project);

      expect(result.problems[0]).toBe(
        `advisories: left-pad@1.3.0 (node_modules/left-pad) is in GHSA-test-0000-0000's vulnerable range "<1.3.1" ` +
          '(pads the wrong side): https://github.com/advisories/GHSA-test-0000-0000',
      );
      expect(result.status).toBe(1);
    });

    it('refuses a malformed advisory, naming its field, and audits nothing', () => {
      const project = cleanProject();
      project.advisories.advisories.push({
        id: 'GHSA-test-0000-0000',
        package: 'left-pad',
        vulnerable: 'before 1.3.1',
        url: 'https://github.com/advisories/GHSA-test-0000-0000',
        summary: 'pads the wrong side',
      });

      const result = audit(project);

      expect(result.problems).toEqual([
        `audit-lockfile: ${join(dir, 'advisories.json')}: advisories[0].vulnerable "before 1.3.1" is not a semver range`,
      ]);
      expect(result.status).toBe(1);
    });
  });

  it('names each problem of a lockfile with a bad resolved URL, a missing integrity and an engines mismatch', () => {
    const project = cleanProject();
    entry(project, 'node_modules/@scope/tool').resolved =
      'http://registry.npmjs.org/@scope/tool/-/tool-2.0.0.tgz';
    delete entry(project, 'node_modules/left-pad').integrity;
    entry(project, 'node_modules/left-pad').engines = { node: '^22.0.0' };

    const result = audit(project);

    expect(result.status).toBe(1);
    expect(result.problems).toEqual([
      expect.stringMatching(/^engines: left-pad@1\.3\.0 .* needs node "\^22\.0\.0"/),
      expect.stringMatching(/^sources: left-pad@1\.3\.0 .* has no integrity hash/),
      expect.stringMatching(
        /^sources: @scope\/tool@2\.0\.0 .* is fetched from http:\/\/registry\.npmjs\.org\//,
      ),
      'audit-lockfile: 3 problem(s) in 3 packages of ' + join(dir, 'package-lock.json'),
    ]);
  });

  it('refuses an unknown option', () => {
    const result = run(['--lock', 'x']);

    expect(result.problems).toEqual([
      'audit-lockfile: unknown or incomplete option --lock: use --lockfile, --package, --advisories PATH',
    ]);
    expect(result.status).toBe(1);
  });
});
