/**
 * Source-mapped stack traces for failed invocations, paid for only when one fails.
 *
 * Deployed functions are minified bundles with a linked source map beside them
 * (`functions/on-artifact.js.map`). Node's `--enable-source-maps` would map every stack, but it
 * reads and parses the map of every file it loads at start-up, which made a cold start about a
 * fifth slower; and it cannot be switched on later for code already loaded
 * (`process.setSourceMapsEnabled` only affects files loaded after it). So the handler maps the
 * stack of an error it lets through (`kilnHandler`), here: the frames that point into a file with
 * a `.map` beside it are rewritten to the TypeScript source, line and column, with node:module's
 * own SourceMap (https://nodejs.org/api/module.html#class-modulesourcemap). Frames elsewhere
 * (Node's internals, sources run by tsx or Jest) are left as they are.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';

const maps = new Map<string, SourceMap | undefined>();

function mapFor(file: string): SourceMap | undefined {
  if (maps.has(file)) return maps.get(file);
  let map: SourceMap | undefined;
  try {
    map = new SourceMap(
      JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0],
    );
  } catch {
    map = undefined; // no map beside it (not a bundle), or unreadable: the frame stays as it is
  }
  maps.set(file, map);
  return map;
}

// `    at name (/var/task/functions/on-artifact.js:1:2345)` or `    at /var/task/…js:1:2345`
const FRAME = /^(\s+at (?:.*? \()?)(\/[^():]+\.[cm]?js):(\d+):(\d+)(\)?)$/;

/** The stack with every frame that points into a source-mapped bundle pointing at its source. */
export function mapStack(stack: string): string {
  return stack
    .split('\n')
    .map((line) => {
      const frame = FRAME.exec(line);
      if (frame === null) return line;
      const [, head = '', file = '', row = '', column = '', tail = ''] = frame;
      const entry = mapFor(file)?.findEntry(Number(row) - 1, Number(column) - 1);
      if (entry === undefined || !('originalSource' in entry) || typeof entry.originalSource !== 'string') {
        return line;
      }
      const source = resolve(dirname(file), entry.originalSource.replace(/^file:\/\//, ''));
      return `${head}${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}${tail}`;
    })
    .join('\n');
}

/** Maps the stack of `error` and of every `cause` beneath it, in place; returns `error`. */
export function mapErrorStacks<T>(error: T): T {
  const seen = new Set<unknown>();
  for (
    let current: unknown = error;
    current instanceof Error && !seen.has(current);
    current = current.cause
  ) {
    seen.add(current);
    if (typeof current.stack === 'string') current.stack = mapStack(current.stack);
  }
  return error;
}
