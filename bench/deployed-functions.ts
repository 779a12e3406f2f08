/**
 * What serverless.yml deploys, as the cold-start bench needs it: every function's handler, the
 * esbuild settings serverless-esbuild bundles it with (`custom.esbuild`), and the NODE_OPTIONS the
 * function runs under (provider-wide, overridden per function), and its memory and architecture
 * (the cost estimate's GB-seconds). Read from the file itself, so a
 * function added there is measured without touching the bench.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';
import { parse } from 'yaml';
import { loadRoutes } from '../sandbox/core/routes';

export interface DeployedFunction {
  /** The key under `functions:` (e.g. onArtifact). */
  key: string;
  deployedName: string;
  /** The handler module's source, relative to the project root (e.g. functions/on-artifact.ts). */
  entry: string;
  exportName: string;
  /** NODE_OPTIONS as deployed (`--enable-source-maps`, …), or undefined. */
  nodeOptions: string | undefined;
  /** memorySize (the function's, else the provider's, else Lambda's default of 128 MB). */
  memorySizeMb: number;
  /** architecture (the function's, else the provider's, else Lambda's default x86_64). */
  architecture: 'arm64' | 'x86_64';
}

export interface DeployedSettings {
  functions: DeployedFunction[];
  /** The esbuild options of `custom.esbuild`, as serverless-esbuild hands them to esbuild. */
  esbuild: BuildOptions;
  /** serverless-esbuild's `exclude`: packages left out of the bundle (the runtime provides them). */
  exclude: string[];
}

// serverless-esbuild's own keys, which it removes before handing the rest of custom.esbuild to
// esbuild (node_modules/serverless-esbuild/dist/bundle.js; `exclude` becomes `external`).
const PLUGIN_KEYS = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
]);

/** Lambda's memory when none is set (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
const LAMBDA_DEFAULT_MEMORY_MB = 128;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function nodeOptionsOf(environment: unknown): string | undefined {
  if (!isRecord(environment)) return undefined;
  const value = environment.NODE_OPTIONS;
  return typeof value === 'string' ? value : undefined;
}

/**
 * `custom.esbuild.plugins` as serverless-esbuild reads it (node_modules/serverless-esbuild/dist/
 * index.js, `get plugins`): a path, relative to the service's folder, of a module exporting the
 * plugins (or a default export of them); an absent key is none.
 */
function pluginsOf(root: string, value: unknown): Plugin[] {
  if (value === undefined) return [];
  if (typeof value !== 'string') throw new Error('serverless.yml: custom.esbuild.plugins is not a path');
  const loaded: unknown = createRequire(join(root, 'serverless.yml'))(join(root, value));
  const plugins = isRecord(loaded) && 'default' in loaded ? loaded.default : loaded;
  if (!Array.isArray(plugins))
    throw new Error(`serverless.yml: custom.esbuild.plugins: ${value} exports no array`);
  return plugins as Plugin[];
}

export function readDeployedSettings(root: string): DeployedSettings {
  const file = join(root, 'serverless.yml');
  const routes = loadRoutes(file, { stage: 'bench' });
  // CloudFormation tags (!Ref, !GetAtt) elsewhere in the file are irrelevant here.
  const doc: unknown = parse(readFileSync(file, 'utf8'), { logLevel: 'silent' });
  if (!isRecord(doc)) throw new Error('serverless.yml: not a mapping');
  const provider = isRecord(doc.provider) ? doc.provider : {};
  const custom = isRecord(doc.custom) ? doc.custom : {};
  const rawEsbuild = isRecord(custom.esbuild) ? custom.esbuild : {};
  const rawFunctions = isRecord(doc.functions) ? doc.functions : {};
  const providerNodeOptions = nodeOptionsOf(provider.environment);

  const esbuild = Object.fromEntries(
    Object.entries(rawEsbuild).filter(([key]) => !PLUGIN_KEYS.has(key)),
  ) as BuildOptions;
  if ('plugins' in rawEsbuild) esbuild.plugins = pluginsOf(root, rawEsbuild.plugins);
  const exclude = Array.isArray(rawEsbuild.exclude) ? rawEsbuild.exclude.map(String) : [];

  return {
    esbuild,
    exclude,
    functions: routes.functions.map((fn) => {
      const raw = rawFunctions[fn.functionName];
      const own = isRecord(raw) ? nodeOptionsOf(raw.environment) : undefined;
      const memory =
        (isRecord(raw) ? raw.memorySize : undefined) ?? provider.memorySize ?? LAMBDA_DEFAULT_MEMORY_MB;
      const architecture =
        (isRecord(raw) ? raw.architecture : undefined) ?? provider.architecture ?? 'x86_64';
      if (typeof memory !== 'number' || !Number.isInteger(memory)) {
        throw new Error(
          `serverless.yml: functions.${fn.functionName}.memorySize is not a whole number of MB`,
        );
      }
      if (architecture !== 'arm64' && architecture !== 'x86_64') {
        throw new Error(`serverless.yml: functions.${fn.functionName}.architecture is not arm64 or x86_64`);
      }
      return {
        key: fn.functionName,
        deployedName: fn.deployedName,
        entry: `${fn.handler.modulePath}.ts`,
        exportName: fn.handler.exportName,
        nodeOptions: own ?? providerNodeOptions,
        memorySizeMb: memory,
        architecture,
      };
    }),
  };
}
