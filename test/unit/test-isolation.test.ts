import asyncHooks from 'node:async_hooks';

/**
 * Test files share Jest's worker processes, so whatever one file leaves switched on is paid for by
 * every file after it. On Node 20 that is each enabled AsyncLocalStorage (jest.config.cjs,
 * test/support/test-runner.cjs): this holds the runner to switching them off.
 */
type KilnTestRunner = (...args: unknown[]) => Promise<unknown>;
const MADE = Symbol.for('kiln.async-local-storages-of-this-file');

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the test runner', () => {
  afterEach(() => jest.resetModules());

  it('is the one this suite runs under, and it has seen this file’s storages (jest-circus makes one per file)', () => {
    const made = (asyncHooks.AsyncLocalStorage as unknown as Record<symbol, unknown[] | undefined>)[MADE];
    expect(made).toBeDefined();
    expect(made!.length).toBeGreaterThan(0);
  });

  it('switches off every AsyncLocalStorage a test file made once the file has run', async () => {
    // A stand-in for jest-circus: it runs "a file" that makes a storage and leaves an async
    // continuation inside it, to run after the file has ended.
    const afterTheFile = deferred();
    let seenAfterwards: Promise<unknown> | undefined;
    let seenDuring: unknown;
    jest.doMock('jest-circus/runner', () => async () => {
      const storage = new asyncHooks.AsyncLocalStorage<string>();
      storage.run('the file', () => {
        seenDuring = storage.getStore();
        seenAfterwards = afterTheFile.promise.then(() => storage.getStore());
      });
      return 'the results';
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runner = require('../support/test-runner.cjs') as KilnTestRunner;

    await expect(runner({}, {}, {}, {}, 'a.test.ts', () => undefined)).resolves.toBe('the results');
    afterTheFile.resolve();

    expect(seenDuring).toBe('the file');
    // Still enabled, the continuation would see 'the file'; switched off, nothing.
    await expect(seenAfterwards).resolves.toBeUndefined();
  });

  it('puts node:async_hooks back as it found it, also when the file fails', async () => {
    const before = asyncHooks.AsyncLocalStorage;
    jest.doMock('jest-circus/runner', () => async () => {
      expect(asyncHooks.AsyncLocalStorage).not.toBe(before);
      throw new Error('the file crashed');
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runner = require('../support/test-runner.cjs') as KilnTestRunner;

    await expect(runner({}, {}, {}, {}, 'a.test.ts', () => undefined)).rejects.toThrow('the file crashed');
    expect(asyncHooks.AsyncLocalStorage).toBe(before);
  });
});
