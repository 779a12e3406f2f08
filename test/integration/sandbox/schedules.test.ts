import { join } from 'node:path';
import { createRegion } from '../../../sandbox/region';
import type { SandboxFunctionFactory } from '../../../sandbox/functions';

const FIXTURE = join(__dirname, '../../fixtures/serverless/schedules.yml');

interface Firing {
  fn: string;
  /** The scheduled event's `time`: when the rule fired. */
  time: string;
  /** Virtual ms from that time to the function's run (Lambda's asynchronous hand-off). */
  lagMs: number;
}

/**
 * Runs the fixture's two scheduled functions from the sandbox's epoch (2026-01-01T00:00:00Z) for
 * `minutes` virtual minutes and lists their runs.
 */
async function firingsOver(minutes: number, seed = 5): Promise<Firing[]> {
  const seen: Firing[] = [];
  const recorder =
    (fn: string): SandboxFunctionFactory =>
    async () =>
    async (event) => {
      const time = String((event as { time?: unknown }).time);
      seen.push({ fn, time, lagMs: Date.now() - Date.parse(time) });
      return {};
    };
  const region = await createRegion({
    seed,
    serverlessFile: FIXTURE,
    functions: { reconcile: recorder('reconcile'), retention: recorder('retention') },
  });
  try {
    await region.engine.run(() => new Promise((resolve) => setTimeout(resolve, minutes * 60_000)));
    return seen;
  } finally {
    await region.dispose();
  }
}

describe('schedules from serverless.yml on the virtual clock', () => {
  it('runs a rate(...) schedule every period from the start', async () => {
    const runs = (await firingsOver(110)).filter((f) => f.fn === 'reconcile');
    expect(runs.map((f) => f.time)).toEqual([
      '2026-01-01T00:20:00Z',
      '2026-01-01T00:40:00Z',
      '2026-01-01T01:00:00Z',
      '2026-01-01T01:20:00Z',
      '2026-01-01T01:40:00Z',
    ]);
    expect(runs.every((f) => f.lagMs < 1000)).toBe(true);
  });

  it('runs a cron(...) schedule at the UTC times it names, day after day', async () => {
    const runs = (await firingsOver(26 * 60)).filter((f) => f.fn === 'retention');
    expect(runs.map((f) => f.time)).toEqual([
      '2026-01-01T00:30:00Z',
      '2026-01-01T01:30:00Z',
      '2026-01-02T00:30:00Z',
      '2026-01-02T01:30:00Z',
    ]);
    expect(runs.every((f) => f.lagMs < 1000)).toBe(true);
  });
});
