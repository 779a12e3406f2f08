import { EventEmitter } from 'node:events';

/**
 * How many test files this process has started, counted on an object every test file shares: a
 * class from a Node built-in module is the same object in every file's context (the module
 * namespace a file imports is not: the transform copies it), while each file's own globals and
 * modules are fresh. test/setup-env.ts counts each file as it starts.
 */
const KEY = Symbol.for('kiln.test-files-in-this-process');
const counter = EventEmitter as unknown as Record<symbol, number | undefined>;

export function countTestFile(): void {
  counter[KEY] = (counter[KEY] ?? 0) + 1;
}

export function testFilesRunInThisProcess(): number {
  return counter[KEY] ?? 0;
}
