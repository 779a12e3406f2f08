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
