#!/usr/bin/env node
// Audits package-lock.json offline, for machines where `npm audit` cannot reach the registry's
// audit endpoint. Three checks, each problem printed on its own line, exit 1 if any:
//   engines     every package's engines.node (npm records it in the lockfile) accepts every Node
//               version package.json's engines.node declares, so the declared range tells the
//               truth; the few packages we knowingly run below their range are listed below,
//               each with its reason and the exact range it was accepted at.
//   sources     every package comes from the npm registry over https (or, with no `resolved`,
//               from the configured registry: npm's omit-lockfile-registry-resolved) and carries
//               a sha512 integrity hash that `npm ci` verifies.
//   advisories  no package version falls in a vulnerable range of scripts/advisories.json, a
//               small hand-kept list (see its $comment); it complements `npm audit`, it does not
//               replace it.
// Usage: node scripts/audit-lockfile.mjs [--lockfile P] [--package P] [--advisories P]
import { readFileSync } from 'node:fs';
import semver from 'semver';

/**
 * Packages whose engines.node excludes part of our declared range, accepted on purpose. Keyed by
 * package name; `node` is the exact range accepted, so a release that raises it again is
 * reported anew.
 */
const ENGINES_ALLOWLIST = {
  'aws-local-stepfunctions': {
    node: '>=22.0.0',
    reason:
      'runs only in tests and the sandbox, never in a deployed function; on Node 20 the one Node 22 API it calls, ' +
      'Promise.withResolvers, is polyfilled by sandbox/core/polyfills.ts',
  },
};

const REGISTRY = 'https://registry.npmjs.org/';

function parseArgs(argv) {
  const paths = {
    lockfile: 'package-lock.json',
    package: 'package.json',
    advisories: 'scripts/advisories.json',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '');
    const value = argv[i + 1];
    if (!(name in paths) || value === undefined) {
      throw new Error(
        `unknown or incomplete option ${argv[i]}: use --lockfile, --package, --advisories PATH`,
      );
    }
    paths[name] = value;
  }
  return paths;
}

function readJson(path, what) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read the ${what}: ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: the ${what} is not JSON: ${error.message}`);
  }
}

/** The package's name: its own `name` (aliases), else the path after the last node_modules/. */
function packageName(path, entry) {
  return entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** engines.node of a lockfile entry; old packages wrote engines as an array of "node >=x". */
function enginesNode(entry) {
  const engines = entry.engines;
  if (engines === undefined || engines === null) return undefined;
  if (Array.isArray(engines)) {
    const node = engines.find((text) => typeof text === 'string' && text.trim().startsWith('node'));
    return node === undefined ? undefined : node.trim().slice('node'.length).trim();
  }
  return typeof engines.node === 'string' ? engines.node : undefined;
}

/**
 * The lowest version our range declares that `range` refuses, to make a mismatch concrete. The
 * candidates are the bounds of both ranges and every major's x.0.0: where two ranges part ways,
 * one of these lies on the edge.
 */
function firstRefused(declared, range) {
  const bounds = [declared, range].flatMap((text) =>
    new semver.Range(text).set.flatMap((comparators) =>
      comparators.filter((c) => c.semver !== semver.Comparator.ANY).map((c) => c.semver.version),
    ),
  );
  const majors = Array.from({ length: 60 }, (_, major) => `${major}.0.0`);
  return [...bounds, ...majors]
    .filter(
      (v) => semver.prerelease(v) === null && semver.satisfies(v, declared) && !semver.satisfies(v, range),
    )
    .sort(semver.compare)[0];
}

function checkEngines(lock, declared, problems, notes) {
  const seenAllowlisted = new Set();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.link === true) continue;
    const range = enginesNode(entry);
    if (range === undefined) continue;
    const name = packageName(path, entry);
    const where = `${name}@${entry.version} (${path})`;
    if (semver.validRange(range) === null) {
      problems.push(`engines: ${where} declares engines.node "${range}", which is not a semver range`);
      continue;
    }
    if (semver.subset(declared, range)) continue;
    const allowed = ENGINES_ALLOWLIST[name];
    if (allowed !== undefined && allowed.node === range) {
      seenAllowlisted.add(name);
      notes.push(`engines: ${where} needs node "${range}", accepted: ${allowed.reason}`);
      continue;
    }
    const example = firstRefused(declared, range);
    problems.push(
      `engines: ${where} needs node "${range}", but package.json declares "${declared}"` +
        `${example === undefined ? '' : ` (${example} is declared and refused)`}: ` +
        'narrow engines.node, change the dependency, or allowlist it in scripts/audit-lockfile.mjs with the reason',
    );
  }
  for (const name of Object.keys(ENGINES_ALLOWLIST)) {
    if (
      !seenAllowlisted.has(name) &&
      !Object.keys(lock.packages).some((p) => p.endsWith(`node_modules/${name}`))
    ) {
      problems.push(
        `engines: the allowlist names ${name}, which the lockfile no longer holds: remove the entry`,
      );
    }
  }
}

function checkSources(lock, problems) {
  for (const [path, entry] of Object.entries(lock.packages)) {
    // The root is this project; links are local workspace folders; bundled dependencies ship
    // inside their parent's tarball and are covered by its hash.
    if (path === '' || entry.link === true || entry.inBundle === true) continue;
    const where = `${packageName(path, entry)}@${entry.version} (${path})`;
    if (entry.resolved !== undefined && !entry.resolved.startsWith(REGISTRY)) {
      problems.push(`sources: ${where} is fetched from ${entry.resolved}, not from ${REGISTRY}`);
    }
    if (entry.resolved === undefined && semver.valid(entry.version) === null) {
      problems.push(`sources: ${where} has no resolved URL and its version is not a registry version`);
    }
    if (typeof entry.integrity !== 'string' || entry.integrity.trim() === '') {
      problems.push(`sources: ${where} has no integrity hash, so npm ci cannot verify what it downloads`);
    } else if (!entry.integrity.split(/\s+/).some((hash) => hash.startsWith('sha512-'))) {
      problems.push(
        `sources: ${where} has only a weak integrity hash (${entry.integrity.split('-')[0]}), not sha512`,
      );
    }
  }
}

function loadAdvisories(path) {
  const file = readJson(path, 'advisory list');
  if (!Array.isArray(file.advisories)) throw new Error(`${path}: "advisories" must be an array`);
  file.advisories.forEach((advisory, index) => {
    const field = (name) => `${path}: advisories[${index}].${name}`;
    for (const name of ['id', 'package', 'vulnerable', 'url', 'summary']) {
      if (typeof advisory[name] !== 'string' || advisory[name].trim() === '') {
        throw new Error(`${field(name)} must be a non-empty string`);
      }
    }
    if (semver.validRange(advisory.vulnerable) === null) {
      throw new Error(`${field('vulnerable')} "${advisory.vulnerable}" is not a semver range`);
    }
    if (!advisory.url.startsWith('https://')) throw new Error(`${field('url')} must be an https URL`);
  });
  return file.advisories;
}

function checkAdvisories(lock, advisories, problems) {
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.link === true) continue;
    const name = packageName(path, entry);
    for (const advisory of advisories) {
      if (advisory.package === name && semver.satisfies(entry.version, advisory.vulnerable)) {
        problems.push(
          `advisories: ${name}@${entry.version} (${path}) is in ${advisory.id}'s vulnerable range ` +
            `"${advisory.vulnerable}" (${advisory.summary}): ${advisory.url}`,
        );
      }
    }
  }
}

function main() {
  const paths = parseArgs(process.argv.slice(2));
  const pkg = readJson(paths.package, 'package manifest');
  const lock = readJson(paths.lockfile, 'lockfile');
  if (lock.lockfileVersion < 2 || typeof lock.packages !== 'object') {
    throw new Error(
      `${paths.lockfile}: lockfileVersion ${lock.lockfileVersion} has no "packages" map (npm 7 or later writes one)`,
    );
  }
  const declared = pkg.engines?.node;
  if (typeof declared !== 'string' || semver.validRange(declared) === null) {
    throw new Error(
      `${paths.package}: engines.node must be a semver range (it is ${JSON.stringify(declared)})`,
    );
  }
  const advisories = loadAdvisories(paths.advisories);

  const problems = [];
  const notes = [];
  const lockedDeclared = lock.packages['']?.engines?.node;
  if (lockedDeclared !== declared) {
    problems.push(
      `engines: ${paths.lockfile} records engines.node ${JSON.stringify(lockedDeclared)} but ${paths.package} declares "${declared}": run npm install to refresh the lockfile`,
    );
  }
  checkEngines(lock, declared, problems, notes);
  checkSources(lock, problems);
  checkAdvisories(lock, advisories, problems);

  const count = Object.keys(lock.packages).filter((path) => path !== '').length;
  for (const note of notes) console.log(note);
  if (problems.length > 0) {
    for (const problem of problems) console.error(problem);
    console.error(`audit-lockfile: ${problems.length} problem(s) in ${count} packages of ${paths.lockfile}`);
    return 1;
  }
  console.log(
    `audit-lockfile: ${count} packages of ${paths.lockfile}: every engines.node accepts "${declared}"` +
      `${notes.length > 0 ? ` (${notes.length} allowlisted)` : ''}; every package from the npm registry with a sha512 hash; ` +
      (advisories.length === 0
        ? 'no advisories listed'
        : `none in the vulnerable ranges of ${advisories.length} listed advisories`),
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`audit-lockfile: ${error.message}`);
  process.exitCode = 1;
}
