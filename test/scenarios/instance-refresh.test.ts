import { expectedBatches } from '../../sandbox/stories/instance-refresh';
import { runSandbox } from '../../sandbox/run';

describe('the instance-refresh story (100 instances, checkpoints 25/50/100 %, MinHealthy 90 %, warmup 60 s)', () => {
  it('replaces instances in the batches and with the pauses AWS documents, never below 90 % healthy', async () => {
    const result = await runSandbox({ seed: 7, fleet: 100, scenario: 'instance-refresh' });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.map((c) => c.name)).toEqual([
      'refresh succeeded',
      'batch sizes follow the documented rules',
      'paused CheckpointDelay at each checkpoint before the last',
      'never fewer than 90 % healthy',
    ]);
  });
});

describe('the instance-refresh story when the new release never passes its health checks', () => {
  const run = () =>
    runSandbox({
      seed: 7,
      fleet: 6,
      scenario: 'instance-refresh',
      region: { badVersions: [{ version: '1.1.0', mode: 'failing-health' }] },
    });

  it('ends in a failed check naming the refresh, its Failed status and why, within the documented hour of retries', async () => {
    const result = await run();
    expect(result.ok).toBe(false);
    const [refresh] = result.checks;
    expect(refresh).toMatchObject({ name: 'refresh succeeded', ok: false });
    expect(refresh?.detail).toMatch(
      /^Failed \(refresh [0-9a-f-]+\): Instance refresh failed: new instances did not pass their health checks for 3600 seconds\. For example: i-[0-9a-f]+ failed its ELB health check\.$/,
    );
    // Start at 60 s, first failed health check within a few minutes, then the hour.
    expect(result.virtualSeconds).toBeLessThan(60 + 600 + 3600);
  });

  it('gives the same timeline, byte for byte, for the same seed', async () => {
    const [first, again] = [await run(), await run()];
    expect(again.timeline).toBe(first.timeline);
  });
});

describe('expectedBatches (the documented rules, independent of the simulator)', () => {
  it('replaces (100 − MinHealthy) % per batch and lands exactly on each checkpoint', () => {
    expect(expectedBatches(100, 90, [25, 50, 100])).toEqual([10, 10, 5, 10, 10, 5, 10, 10, 10, 10, 10]);
  });

  it('replaces at least one instance per batch in a small group', () => {
    expect(expectedBatches(6, 90, [100])).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('replaces everything at once when MinHealthy is 0', () => {
    expect(expectedBatches(8, 0, [100])).toEqual([8]);
  });
});
