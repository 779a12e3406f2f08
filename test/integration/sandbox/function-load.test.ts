import { readFile } from 'node:fs/promises';
import { createRegion, type Region } from '../../../sandbox/region';
import type { SandboxFunctionFactory } from '../../../sandbox/functions';

/**
 * A function's first invocation loads its module (real I/O: reading and compiling the handler and
 * what it imports), which the scheduler cannot see. The virtual clock must hold still meanwhile,
 * or how long the load takes on this machine (cold module cache or warm, a loaded CI runner or an
 * idle laptop) would decide when the handler runs: one seed, two timelines.
 */
describe('loading a function in the sandbox', () => {
  let region: Region | undefined;
  afterEach(async () => {
    await region?.dispose();
    region = undefined;
  });

  /**
   * A factory that reads files as a cold import does: real I/O (not timers, which the sandbox
   * fakes), over many event-loop turns.
   */
  const slowToLoad =
    (reads: number, seen: number[]): SandboxFunctionFactory =>
    async () => {
      for (let i = 0; i < reads; i++) await readFile(__filename);
      return async () => {
        seen.push(Date.now());
        return {};
      };
    };

  it('holds the virtual clock while the module loads, so the handler runs when it was invoked', async () => {
    const seen: number[] = [];
    region = await createRegion({ seed: 3, functions: { onProgress: slowToLoad(50, seen) } });
    const sandbox = region;
    const name = sandbox.routes.functions.find((fn) => fn.functionName === 'onProgress')?.deployedName ?? '';
    const invokedAt = await sandbox.engine.run(async () => {
      // Something else is due soon: a clock that moved during the load would fire it first.
      const tick = new Promise((resolve) => setTimeout(resolve, 1_000));
      const at = Date.now();
      await sandbox.lambda.invoke(name, {});
      await tick;
      return at;
    });

    expect(seen).toEqual([invokedAt]);
  });
});
