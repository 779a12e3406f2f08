import { AsyncLocalStorage } from 'node:async_hooks';
import { resolveCaller, withCaller } from '../../../sandbox/core/caller';
import { createEngine, type SandboxEngine } from '../../../sandbox/core/engine';

/**
 * The sandbox tags SDK calls with their caller through an AsyncLocalStorage. Once enabled, every
 * enabled AsyncLocalStorage in a process costs every promise made afterwards (Node 20 propagates
 * each store to each new async resource), and one is never switched off by itself. A process that
 * runs many sandboxes (a Jest worker loads the sandbox afresh for every test file) would make
 * each later run slower than the one before.
 */
describe('the sandbox caller context', () => {
  let engine: SandboxEngine | undefined;

  afterEach(async () => {
    jest.restoreAllMocks();
    await engine?.dispose();
    engine = undefined;
  });

  it('is switched off when the engine is disposed', async () => {
    const disable = jest.spyOn(AsyncLocalStorage.prototype, 'disable');
    engine = await createEngine({ seed: 1, dynamodb: false });
    await engine.run(() => withCaller('story', async () => resolveCaller(undefined)));

    await engine.dispose();

    expect(disable).toHaveBeenCalled();
  });

  it('tags calls again in the next engine after one was disposed', async () => {
    const first = await createEngine({ seed: 1, dynamodb: false });
    await first.run(() => withCaller('first', async () => undefined));
    await first.dispose();

    engine = await createEngine({ seed: 2, dynamodb: false });
    const caller = await engine.run(() =>
      withCaller('second', async () => {
        await Promise.resolve();
        return resolveCaller(undefined);
      }),
    );

    expect(caller).toBe('second');
  });
});
