// esbuild plugins for the deployed functions' bundles (serverless.yml `custom.esbuild.plugins`,
// which serverless-esbuild `require`s; bench/deployed-functions.ts loads the same file so the bench
// and the tests bundle exactly as `npm run package` does).
//
// sdk-schema-keys: lets esbuild drop the AWS SDK's unused shape schemas.
//
// Since 3.806–3.957 (aws/aws-sdk-js-v3#7607) every SDK client describes every shape of its service in one module
// (`dist-es/schemas/schemas_0.js`: one `export var X$ = [...]` array per structure, list and
// operation). The commands a function imports reach only their own shapes, so tree shaking should
// keep those alone, and for JSON services (DynamoDB, Step Functions, SSM) it does. But the
// schemas of XML and query services carry their serialization traits as objects with computed
// keys, `{ [_xN]: "TagSpecification" }` where `const _xN = "xmlName"` sits at the top of the same
// file, and esbuild keeps every statement whose value has a computed key: it does not prove that
// the key's conversion to a property name is free of side effects
// (https://github.com/evanw/esbuild/issues/4373, opened by the SDK's maintainer for this module;
// https://github.com/aws/aws-sdk-js-v3/issues/7607, still open). EC2 (ec2 query protocol) has
// 13,500 such keys: with @aws-sdk/client-ec2 3.1169, 2,667 of its 3,404 schemas stayed in a bundle
// that sends 11 commands, 553 KB of a 1,013 KB bake-steps bundle, which Node then parses and
// evaluates at every cold start.
//
// The rewrite puts each such key back as the string literal it names: `{ [_xN]: v }` becomes
// `{ "xmlName": v }`, the same object, so every schema the bundle keeps is the SDK's own, and
// esbuild can now drop the ones nothing refers to. Only keys that name a string constant declared
// at the top of the module are rewritten; anything else is left as it is.
// test/unit/runtime/sdk-schema-keys.test.ts checks that every rewritten module exports values
// equal to the original's, and that the deployed bundles shrink.
'use strict';

const { readFile } = require('node:fs/promises');

/** An AWS SDK client's generated schema module, as resolved through `mainFields: module`. */
const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/;
/** A top-level string constant of the module: `const _xN = "xmlName";` on a line of its own. */
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A computed key naming an identifier, where only a property can stand: after `{` or `,`. */
const COMPUTED_KEY = /([{,]\s*)\[(_\w+)\]:/g;

/**
 * The module's source with every computed key that names one of its top-level string constants
 * written as that string; `replaced` counts them.
 * @param {string} source
 * @returns {{ code: string, replaced: number }}
 */
function literalSchemaKeys(source) {
  const constants = new Map();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT)) constants.set(name, literal);
  let replaced = 0;
  const code = source.replace(COMPUTED_KEY, (whole, before, name) => {
    const literal = constants.get(name);
    if (literal === undefined) return whole;
    replaced++;
    return `${before}${literal}:`;
  });
  return { code, replaced };
}

/** @type {import('esbuild').Plugin} */
const sdkSchemaKeys = {
  name: 'sdk-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => ({
      contents: literalSchemaKeys(await readFile(args.path, 'utf8')).code,
      loader: 'js',
    }));
  },
};

module.exports = [sdkSchemaKeys];
module.exports.literalSchemaKeys = literalSchemaKeys;
module.exports.SCHEMA_MODULE = SCHEMA_MODULE;
