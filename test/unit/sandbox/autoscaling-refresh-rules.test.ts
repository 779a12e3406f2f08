import {
  batchPlan,
  capBatch,
  checkpointTarget,
  resolvePreferences,
} from '../../../sandbox/services/autoscaling/refresh-rules';

const group = { defaultInstanceWarmup: undefined, healthCheckGracePeriod: 300 };

describe('instance refresh rules', () => {
  describe('batchPlan', () => {
    it('replaces (100 − MinHealthy) % of desired capacity at a time when MaxHealthy is 100', () => {
      expect(batchPlan(100, 90, 100)).toEqual({ launchFirst: 0, terminateFirst: 10 });
      expect(batchPlan(10, 80, 100)).toEqual({ launchFirst: 0, terminateFirst: 2 });
    });

    it('rounds the healthy minimum up, so 90 % of 15 keeps 14 and replaces 1', () => {
      expect(batchPlan(15, 90, 100)).toEqual({ launchFirst: 0, terminateFirst: 1 });
    });

    it('still replaces one instance at a time when MinHealthy and MaxHealthy are both 100', () => {
      expect(batchPlan(4, 100, 100)).toEqual({ launchFirst: 0, terminateFirst: 1 });
    });

    it('launches first up to MaxHealthy when it is above 100', () => {
      expect(batchPlan(10, 100, 150)).toEqual({ launchFirst: 5, terminateFirst: 0 });
      expect(batchPlan(100, 90, 110)).toEqual({ launchFirst: 10, terminateFirst: 10 });
    });
  });

  describe('capBatch and checkpointTarget', () => {
    it('shrinks a batch to what the next checkpoint still needs, launches first', () => {
      expect(capBatch({ launchFirst: 3, terminateFirst: 4 }, 5)).toEqual({
        launchFirst: 3,
        terminateFirst: 2,
      });
    });

    it('rounds a checkpoint up to whole instances', () => {
      expect(checkpointTarget(25, 10)).toBe(3);
    });
  });

  describe('resolvePreferences', () => {
    it('fills in AWS’s documented defaults, warmup from the grace period', () => {
      expect(resolvePreferences(undefined, group)).toMatchObject({
        MinHealthyPercentage: 90,
        MaxHealthyPercentage: 100,
        InstanceWarmup: 300,
        CheckpointDelay: 3600,
        SkipMatching: false,
        AutoRollback: false,
        BakeTime: 0,
      });
    });

    it('rejects MaxHealthyPercentage without MinHealthyPercentage', () => {
      expect(() => resolvePreferences({ MaxHealthyPercentage: 120 }, group)).toThrow(
        /MinHealthyPercentage must be specified/,
      );
    });

    it('rejects a healthy range wider than 100 points', () => {
      expect(() =>
        resolvePreferences({ MinHealthyPercentage: 50, MaxHealthyPercentage: 200 }, group),
      ).toThrow(/cannot be greater than 100/);
    });

    it('rejects checkpoints that are not ascending', () => {
      expect(() => resolvePreferences({ CheckpointPercentages: [50, 20] }, group)).toThrow(/ascending/);
    });

    it('rejects a MinHealthyPercentage above 100 naming the field', () => {
      expect(() => resolvePreferences({ MinHealthyPercentage: 101 }, group)).toThrow(
        /Preferences\.MinHealthyPercentage/,
      );
    });
  });
});
