// Bundles the `kiln` CLI (cli/main.ts) into one CommonJS file so `npx kiln` starts fast with no
// TypeScript loader. Runs on `npm install` (prepare) and `npm run build:cli`.
// `--outfile PATH` writes the bundle elsewhere (tests run a fresh bundle without touching dist/).
import { build } from 'esbuild';

const outfileFlag = process.argv.indexOf('--outfile');
const outfile = outfileFlag === -1 ? 'dist/kiln.cjs' : process.argv[outfileFlag + 1];
if (outfile === undefined) {
  console.error('build-cli: --outfile needs a path');
  process.exit(1);
}

await build({
  entryPoints: ['cli/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  sourcemap: 'linked',
  logLevel: 'warning',
  // dynalite pulls in native LevelDB bindings through optional paths; keep the in-memory store
  // packages external so their own require() of data files keeps working.
  external: ['dynalite', 'aws-local-stepfunctions', 'asl-validator'],
});
