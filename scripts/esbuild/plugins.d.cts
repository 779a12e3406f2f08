import type { Plugin } from 'esbuild';

declare const plugins: Plugin[] & {
  literalSchemaKeys(source: string): { code: string; replaced: number };
  SCHEMA_MODULE: RegExp;
};
export = plugins;
