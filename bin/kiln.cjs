#!/usr/bin/env node
// The `kiln` command. The TypeScript sources are bundled into dist/kiln.cjs by `npm install`
// (the `prepare` script); when working from a checkout before that, run `npm run build:cli`.
'use strict';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'kiln.cjs');
if (!fs.existsSync(bundle)) {
  console.error('kiln: dist/kiln.cjs is missing; run `npm install` (or `npm run build:cli`) first');
  process.exit(2);
}
require('./compile-cache.cjs').enableCompileCache(path.dirname(bundle));
const cli = require(bundle);
// Exit only once stdout and stderr are flushed: process.exit() alone cuts off output to a pipe.
cli.main(process.argv).then(
  (code) => cli.exitWhenFlushed(code ?? 0),
  (err) => {
    console.error(`kiln: ${err instanceof Error ? err.message : String(err)}`);
    cli.exitWhenFlushed(2);
  },
);
