// Bundles the `kiln` CLI (cli/main.ts) into one CommonJS file so `npx kiln` starts fast with no
// TypeScript loader. Runs on `npm install` (prepare) and `npm run build:cli`.
import { build } from 'esbuild';

await build({
  entryPoints: ['cli/main.ts'],
  outfile: 'dist/kiln.cjs',
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
