// Bundles the `kiln` CLI so `npx kiln` starts fast with no TypeScript loader: a small entry
// (cli/main.ts: the command list and commander) in dist/kiln.cjs, and one CommonJS bundle per
// command beside it (dist/kiln-NAME.cjs), which the entry require()s only when that command runs
// (cli/catalog.ts). `kiln --help` thus reads no command's code, and `kiln validate` only its own.
// Runs on `npm install` (prepare) and `npm run build:cli`.
// `--outfile PATH` writes the entry elsewhere, the commands beside it (tests and the bench build a
// fresh CLI without touching dist/).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { build } from 'esbuild';

const outfileFlag = process.argv.indexOf('--outfile');
const outfile = outfileFlag === -1 ? 'dist/kiln.cjs' : process.argv[outfileFlag + 1];
if (outfile === undefined) {
  console.error('build-cli: --outfile needs a path');
  process.exit(1);
}
const outdir = dirname(outfile);
const commandFile = (name) => `kiln-${name}.cjs`;
const commands = readdirSync('cli/commands')
  .filter((file) => file.endsWith('.ts'))
  .map((file) => basename(file, '.ts'));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  minify: true,
  // `kiln sandbox` runs Kiln's handlers from this bundle: their errors' names (the class names)
  // must survive, as in the deployed functions (serverless.yml custom.esbuild keepNames).
  keepNames: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  // dynalite pulls in native LevelDB bindings through optional paths; keep the in-memory store
  // packages external so their own require() of data files keeps working.
  external: ['dynalite', 'aws-local-stepfunctions', 'asl-validator'],
};

// The catalog's `import('./commands/NAME')` becomes a plain `require('./kiln-NAME.cjs')` at run
// time. Not an external `import()`: Node would load the CommonJS bundle through its ES module
// loader, which first scans the whole file for export names (cjs-module-lexer), as long again as
// compiling it.
const commandsAsSeparateBundles = {
  name: 'kiln-commands-as-separate-bundles',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/commands\/[a-z-]+$/ }, (args) => {
      if (!args.importer.endsWith(join('cli', 'catalog.ts'))) return undefined;
      const name = args.path.slice('./commands/'.length);
      if (!commands.includes(name)) return undefined;
      return { path: name, namespace: 'kiln-command' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'kiln-command' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`./${commandFile(args.path)}`)});`,
      loader: 'js',
    }));
    pluginBuild.onResolve({ filter: /^\.\/kiln-[a-z-]+\.cjs$/ }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};

// commander loads node:child_process at start-up (about a tenth of `kiln --help`) for executable
// subcommands, which kiln does not use: it gets a stand-in that loads the module on first use.
const lazyChildProcessForCommander = {
  name: 'kiln-lazy-child-process-for-commander',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes(join('node_modules', 'commander'))
        ? { path: 'child_process', namespace: 'kiln-lazy-builtin' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'kiln-lazy-builtin' }, (args) => ({
      contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require('node:${args.path}'))[key] });`,
      loader: 'js',
    }));
  },
};

// A few dependencies import() Node's own modules when first used (the HTTP handler, the Lambda
// invoke store). In a CommonJS bundle an import() needs the ES module loader's dynamic-import
// callback, which a bundle compiled from V8's code cache (bin/compile-cache.cjs) does not get on
// Node 20: such an import() is bundled as a require() of the built-in instead, which is what it
// loads anyway.
const builtinDynamicImportsAsRequire = {
  name: 'kiln-builtin-dynamic-imports-as-require',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:[a-z_/]+$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'kiln-builtin-import' } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'kiln-builtin-import' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

// `kiln sandbox` deploys serverless.yml at every start; parsing it there with a cold YAML parser
// was about a tenth of a one-instance run's CPU. The bundle gets the file's text and its document
// as JSON (sandbox/core/serverless-prebuilt.ts), parsed here by the sandbox's own parser; at run
// time the document stands in only for exactly this text. A document that JSON would not carry
// over unchanged is not stored (the sandbox then parses the file as before).
async function prebuiltServerlessYaml() {
  const text = readFileSync('serverless.yml', 'utf8');
  const { outputFiles } = await build({
    ...common,
    entryPoints: ['sandbox/core/routes.ts'],
    write: false,
    sourcemap: false,
    minify: false,
  });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', outputFiles[0].text)(
    module,
    module.exports,
    createRequire(resolve('sandbox/core/routes.ts')),
  );
  const doc = module.exports.parseServerlessDocument(text);
  const json = JSON.stringify(doc);
  if (!isDeepStrictEqual(JSON.parse(json), doc)) {
    console.warn('build-cli: serverless.yml does not survive JSON; the sandbox will parse it at start');
    return undefined;
  }
  return { text, json };
}
const prebuilt = await prebuiltServerlessYaml();
const serverlessPrebuilt = {
  name: 'kiln-serverless-prebuilt',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]sandbox[\\/]core[\\/]serverless-prebuilt\.ts$/ }, () => ({
      contents: `export const prebuiltServerlessYaml = ${JSON.stringify(prebuilt)};`,
      loader: 'js',
    }));
  },
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile,
    plugins: [commandsAsSeparateBundles, lazyChildProcessForCommander, builtinDynamicImportsAsRequire],
  }),
  ...commands.map((name) =>
    build({
      ...common,
      entryPoints: [`cli/commands/${name}.ts`],
      outfile: join(outdir, commandFile(name)),
      plugins: [serverlessPrebuilt, builtinDynamicImportsAsRequire],
    }),
  ),
]);
