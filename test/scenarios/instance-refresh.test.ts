import { expectedBatches, healthyFloor } from '../../sandbox/stories/instance-refresh';
import { runSandbox } from '../../sandbox/run';

describe('the instance-refresh story (100 instances, checkpoints 25/50/100 %, MinHealthy 90 %, warmup 60 s)', () => {
  it('replaces instances in the batches and with the pauses AWS documents, never below 90 % healthy', async () => {
    const result = await runSandbox({ seed: 7, fleet: 100, scenario: 'instance-refresh' });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.map((c) => c.name)).toEqual([
      'refresh succeeded',
      'batch sizes follow the documented rules',
      'paused CheckpointDelay at each checkpoint before the last',
      'healthy never below the 90 % floor',
    ]);
    expect(result.checks[3]?.detail).toMatch(/^lowest \d+\/100 \(floor 90\)$/);
  });

  it('holds a group of 6 (the CLI default) to the same rules, one instance per batch', async () => {
    const result = await runSandbox({ seed: 7, fleet: 6, scenario: 'instance-refresh' });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks[3]?.detail).toMatch(/^lowest 5\/6 \(floor 5\)$/);
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

describe('healthyFloor (the fewest healthy instances the documented rules allow)', () => {
  it('is MinHealthy % of the group, rounded up', () => {
    expect(healthyFloor(100, 90)).toBe(90);
    expect(healthyFloor(20, 90)).toBe(18);
    expect(healthyFloor(8, 0)).toBe(0);
  });

  it('leaves room for the one instance every batch replaces when MinHealthy rounds up to the whole group', () => {
    expect(healthyFloor(6, 90)).toBe(5);
    expect(healthyFloor(1, 90)).toBe(0);
    expect(healthyFloor(4, 100)).toBe(3);
  });
});
