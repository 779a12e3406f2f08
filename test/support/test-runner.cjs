/**
 * Jest's own runner (jest-circus), with one thing added: every AsyncLocalStorage a test file made is
 * switched off when the file ends, so the next file in the same worker process pays nothing for it.
 *
 * Why: on Node 20 every *enabled* AsyncLocalStorage in a process is visited for every promise and
 * async resource made afterwards (node:async_hooks keeps them in one list and copies each store
 * into each new resource), and nothing ever disables one. jest-circus makes one for each test file
 * it runs (its test-execution context, `new AsyncLocalStorage()` in jestAdapterInit, loaded anew
 * per file), and so does the sandbox (it tags each simulated execution with one). In a worker that
 * ran 200 files, every promise paid for 200+ storages: the scenario tests, which make millions of
 * promises, ran 2–5× slower late in the suite than first, and timed out. Disabling them after the
 * file is the fix at the cause; the file is over, nothing reads those stores again.
 * (Node 24 reimplements AsyncLocalStorage on AsyncContextFrame, where this cost is gone.)
 *
 * How: while a file runs, `AsyncLocalStorage` on node:async_hooks' exports (one object per process,
 * shared by every file's context, and read by name whenever a module does `new X.AsyncLocalStorage`)
 * is a subclass that remembers its instances. test/unit/test-isolation.test.ts checks the effect.
 */
const asyncHooks = require('node:async_hooks');
// jest-circus/runner's default export (a transpiled ES module); a plain function when mocked.
const circusModule = require('jest-circus/runner');
const circus = circusModule.default ?? circusModule;

const Original = asyncHooks.AsyncLocalStorage;
const MADE = Symbol.for('kiln.async-local-storages-of-this-file');

module.exports = async function kilnTestRunner(globalConfig, config, environment, runtime, testPath, send) {
  const made = [];
  class RememberedAsyncLocalStorage extends Original {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  }
  asyncHooks.AsyncLocalStorage = RememberedAsyncLocalStorage;
  // Where a test can count them (test-isolation.test.ts): on the class every file shares.
  Original[MADE] = made;
  try {
    return await circus(globalConfig, config, environment, runtime, testPath, send);
  } finally {
    asyncHooks.AsyncLocalStorage = Original;
    for (const storage of made) storage.disable();
    Original[MADE] = undefined;
  }
};
