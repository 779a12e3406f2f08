// V8's compile cache for the CLI's bundles (dist/*.cjs), so a command does not compile its bundle
// afresh at every start. `kiln sandbox`'s bundle is over 2 MB: compiling it (the top level when it
// is loaded, each module's body when it first runs) was about a third of a small run's CPU.
//
// Node 22.1 and later do this themselves: module.enableCompileCache()
// (https://nodejs.org/api/module.html#moduleenablecompilecachecachedir). On Node 20 the same is
// done here with vm.Script's cachedData (https://nodejs.org/api/vm.html#scriptcreatecacheddata):
// the first run of a bundle compiles it as usual and, as the process exits, stores V8's code for
// the bundle and for every function the run compiled; later runs hand that to V8. V8 itself checks
// only the source's length, so the file holding the cache is named by the bundle's SHA-256, the
// Node version and the architecture: a rebuilt bundle never meets another build's code. V8
// refuses data made by another V8 or under other flags (`cachedDataRejected`); the bundle is then
// compiled as usual and the cache written again. The cache never changes what the code does, only
// how soon it runs. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's own;
// KILN_COMPILE_CACHE names the folder (default: kiln-compile-cache-UID in the OS's temporary
// folder). Code read from the cache runs as the CLI's own, so the folder is used only when it
// belongs to this user and no one else may write to it.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** Compiles the CommonJS bundles (`*.cjs`) in `dir` with a code cache from now on. */
function enableCompileCache(dir) {
  if (process.env.NODE_DISABLE_COMPILE_CACHE === '1') return;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const cacheDir =
    process.env.KILN_COMPILE_CACHE || path.join(os.tmpdir(), `kiln-compile-cache-${uid ?? 'user'}`);
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache(cacheDir);
    return;
  }
  try {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const folder = fs.statSync(cacheDir);
    if ((uid !== undefined && folder.uid !== uid) || (folder.mode & 0o022) !== 0) return;
  } catch {
    return;
  }
  const crypto = require('node:crypto');
  const vm = require('node:vm');
  const prefix = path.resolve(dir) + path.sep;
  const pending = [];
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename) {
    if (!filename.startsWith(prefix) || !filename.endsWith('.cjs'))
      return compile.call(this, content, filename);
    const key = crypto.createHash('sha256').update(content).digest('hex').slice(0, 32);
    const bundle = path.basename(filename);
    const file = path.join(cacheDir, `${bundle}-${process.version}-${process.arch}-${key}`);
    let cachedData;
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      cachedData = undefined;
    }
    const script = new vm.Script(Module.wrap(content), {
      filename,
      ...(cachedData === undefined ? {} : { cachedData }),
    });
    if (cachedData === undefined || script.cachedDataRejected) pending.push({ script, bundle, file });
    const module = this;
    const require = (id) => module.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
    require.main = process.mainModule;
    require.cache = Module._cache;
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(module.exports, module.exports, require, module, filename, path.dirname(filename));
  };
  // Written as the process exits, so the code of every function the run compiled is in it. Caches
  // of the same bundle unread for a week (other builds of it) are removed then, so rebuilds do not
  // pile up.
  process.once('exit', () => {
    if (pending.length === 0) return;
    try {
      for (const name of fs.readdirSync(cacheDir)) {
        if (!pending.some(({ bundle }) => name.startsWith(`${bundle}-`))) continue;
        const other = path.join(cacheDir, name);
        if (fs.statSync(other).atimeMs < Date.now() - WEEK_MS) fs.rmSync(other, { force: true });
      }
      for (const { script, file } of pending) {
        const temporary = `${file}.${process.pid}`;
        fs.writeFileSync(temporary, script.createCachedData());
        fs.renameSync(temporary, file);
      }
    } catch {
      // A cache that cannot be written (a read-only temporary folder) costs only speed.
    }
  });
}

module.exports = { enableCompileCache };
