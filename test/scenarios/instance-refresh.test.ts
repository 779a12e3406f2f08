import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseManifest } from '../../shared/domain/manifest/schema';
import { expectedBatches, expectedPauses } from '../../sandbox/stories/instance-refresh';
import { settingsFromEnvironment } from '../../sandbox/stories/settings';
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

describe('the instance-refresh story at every fleet from 1 to 20', () => {
  // Fast knobs so twenty runs stay quick: short checkpoint delay and warmup, 5 s health checks, no
  // deregistration delay. The rules are the same as with the story's own settings.
  const fast = {
    strategy: {
      type: 'rolling' as const,
      minHealthyPercentage: 90,
      maxHealthyPercentage: 100,
      instanceWarmupSeconds: 10,
      checkpoints: [25, 50, 100],
      checkpointDelaySeconds: 60,
    },
    targetGroup: {
      healthCheckIntervalSeconds: 5,
      healthCheckTimeoutSeconds: 2,
      healthyThresholdCount: 2,
      deregistrationDelaySeconds: 0,
    },
  };

  it('passes every check, the healthy floor included, at each size', async () => {
    const failures: string[] = [];
    for (let fleet = 1; fleet <= 20; fleet++) {
      const result = await runSandbox({ seed: 7, fleet, scenario: 'instance-refresh', settings: fast });
      for (const check of result.checks.filter((c) => !c.ok))
        failures.push(`fleet ${fleet}: ${check.name}: ${check.detail}`);
    }
    expect(failures).toEqual([]);
    // Twenty regions in a row: about 5 s of CPU; the margin is for a loaded machine.
  }, 120_000);
});

describe('the instance-refresh story with a real manifest environment’s strategy', () => {
  it('rolls with examples/checkout.yml’s production strategy (90/120, checkpoints 10/50/100 %): launches and terminates in one batch, never below 90 %', async () => {
    const manifest = parseManifest(
      parseYaml(readFileSync(join(__dirname, '../../examples/checkout.yml'), 'utf8')),
    );
    const production = manifest.environments.find((env) => env.name === 'production');
    if (!production) throw new Error('examples/checkout.yml has no production environment');
    const result = await runSandbox({
      seed: 7,
      fleet: 10,
      scenario: 'instance-refresh',
      settings: { ...settingsFromEnvironment(production), targetGroup: { deregistrationDelaySeconds: 0 } },
    });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.find((c) => c.name.startsWith('batch sizes'))?.detail).toBe(
      'got [1,3,1,3,2], rules give [1,3,1,3,2]',
    );
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
  const rules = (min: number, max: number, checkpoints?: number[]) => ({
    minHealthyPercentage: min,
    maxHealthyPercentage: max,
    checkpoints,
  });

  it('replaces (100 − MinHealthy) % per batch and lands exactly on each checkpoint', () => {
    expect(expectedBatches(100, rules(90, 100, [25, 50, 100]))).toEqual([
      10, 10, 5, 10, 10, 5, 10, 10, 10, 10, 10,
    ]);
  });

  it('replaces one at a time in a small group, where 90 % rounds up to the whole group', () => {
    expect(expectedBatches(6, rules(90, 100))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('replaces everything at once when MinHealthy is 0', () => {
    expect(expectedBatches(8, rules(0, 100))).toEqual([8]);
  });

  it('replaces what lies between MinHealthy and MaxHealthy when MaxHealthy is above 100', () => {
    expect(expectedBatches(10, rules(90, 120))).toEqual([3, 3, 3, 1]);
    expect(expectedBatches(10, rules(100, 150))).toEqual([5, 5]);
  });
});

describe('expectedPauses (after which batches the refresh waits CheckpointDelay)', () => {
  const rules = { minHealthyPercentage: 90, maxHealthyPercentage: 100, checkpoints: [25, 50, 100] };

  it('pauses after the batches that reach 25 % and 50 % of 100 instances', () => {
    expect(expectedPauses(100, rules)).toEqual([2, 5]);
  });

  it('pauses once when one batch carries the group past two checkpoints', () => {
    // 2 instances: the first replacement is already 50 %, past 25 % too.
    expect(expectedPauses(2, rules)).toEqual([0]);
  });

  it('does not pause when the first batch reaches the last checkpoint', () => {
    expect(expectedPauses(1, rules)).toEqual([]);
    expect(expectedPauses(8, { ...rules, checkpoints: undefined })).toEqual([]);
  });
});
