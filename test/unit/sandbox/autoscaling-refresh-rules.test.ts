import {
  batchPlan,
  capBatch,
  checkpointTarget,
  maintenancePolicyFrom,
  resolvePreferences,
} from '../../../sandbox/services/autoscaling/refresh-rules';

const group = { defaultInstanceWarmup: undefined, healthCheckGracePeriod: 300 };

describe('instance refresh rules', () => {
  describe('batchPlan', () => {
    const omitted = (min: number) => ({ min, max: 100, maxSpecified: false });
    const given = (min: number, max: number) => ({ min, max, maxSpecified: true });

    it('replaces (100 − MinHealthy) % of desired capacity at a time when MaxHealthy is 100', () => {
      expect(batchPlan(100, omitted(90))).toEqual({ launchFirst: 0, terminateFirst: 10 });
      expect(batchPlan(10, omitted(80))).toEqual({ launchFirst: 0, terminateFirst: 2 });
      expect(batchPlan(100, given(90, 100))).toEqual({ launchFirst: 0, terminateFirst: 10 });
    });

    it('rounds the healthy minimum up, so 90 % of 15 keeps 14 and replaces 1', () => {
      expect(batchPlan(15, omitted(90))).toEqual({ launchFirst: 0, terminateFirst: 1 });
    });

    it('launches one first with MinHealthy 100, whether MaxHealthy is given or not', () => {
      expect(batchPlan(4, omitted(100))).toEqual({ launchFirst: 1, terminateFirst: 0 });
      expect(batchPlan(4, given(100, 100))).toEqual({ launchFirst: 1, terminateFirst: 0 });
    });

    it('launches one first when an explicit MaxHealthy leaves no room: 90 % of 6 rounds up to 6', () => {
      expect(batchPlan(6, given(90, 100))).toEqual({ launchFirst: 1, terminateFirst: 0 });
      expect(batchPlan(4, given(100, 110))).toEqual({ launchFirst: 1, terminateFirst: 0 });
    });

    it('terminates one and launches its replacement together when an omitted MaxHealthy leaves no room', () => {
      expect(batchPlan(6, omitted(90))).toEqual({ launchFirst: 0, terminateFirst: 1 });
    });

    it('launches first up to MaxHealthy when it is above 100', () => {
      expect(batchPlan(10, given(100, 150))).toEqual({ launchFirst: 5, terminateFirst: 0 });
      expect(batchPlan(20, given(100, 110))).toEqual({ launchFirst: 2, terminateFirst: 0 });
    });

    it('uses both sides of the range, so 90/120 of 100 keeps at least 90 and at most 120', () => {
      expect(batchPlan(100, given(90, 120))).toEqual({ launchFirst: 20, terminateFirst: 10 });
      expect(batchPlan(100, given(90, 110))).toEqual({ launchFirst: 10, terminateFirst: 10 });
    });

    it('rounds MaxHealthy down, so 110 % of 15 allows 16, one above desired', () => {
      expect(batchPlan(15, given(100, 110))).toEqual({ launchFirst: 1, terminateFirst: 0 });
      expect(batchPlan(19, given(100, 110))).toEqual({ launchFirst: 1, terminateFirst: 0 });
    });

    it('replaces nothing in an empty group', () => {
      expect(batchPlan(0, given(100, 100))).toEqual({ launchFirst: 0, terminateFirst: 0 });
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

    it('marks MaxHealthyPercentage as specified only when the request or a maintenance policy sets it', () => {
      expect(resolvePreferences(undefined, group).maxHealthySpecified).toBe(false);
      expect(resolvePreferences({ MinHealthyPercentage: 100 }, group).maxHealthySpecified).toBe(false);
      expect(
        resolvePreferences({ MinHealthyPercentage: 90, MaxHealthyPercentage: 100 }, group)
          .maxHealthySpecified,
      ).toBe(true);
    });

    describe('with an instance maintenance policy on the group', () => {
      const withPolicy = {
        ...group,
        maintenancePolicy: { MinHealthyPercentage: 100, MaxHealthyPercentage: 110 },
      };

      it('takes both healthy percentages from the policy when the request sets neither', () => {
        expect(resolvePreferences(undefined, withPolicy)).toMatchObject({
          MinHealthyPercentage: 100,
          MaxHealthyPercentage: 110,
          maxHealthySpecified: true,
        });
      });

      it('lets the request override the policy', () => {
        expect(
          resolvePreferences({ MinHealthyPercentage: 80, MaxHealthyPercentage: 100 }, withPolicy),
        ).toMatchObject({ MinHealthyPercentage: 80, MaxHealthyPercentage: 100 });
        expect(resolvePreferences({ MinHealthyPercentage: 50 }, withPolicy)).toMatchObject({
          MinHealthyPercentage: 50,
          MaxHealthyPercentage: 110,
        });
      });

      it('rejects a request minimum more than 100 points below the policy maximum', () => {
        expect(() => resolvePreferences({ MinHealthyPercentage: 0 }, withPolicy)).toThrow(
          /cannot be greater than 100/,
        );
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
  describe('maintenancePolicyFrom (InstanceMaintenancePolicy on Create/UpdateAutoScalingGroup)', () => {
    const current = { MinHealthyPercentage: 90, MaxHealthyPercentage: 120 };

    it('keeps what the group has when the request carries no policy, or neither percentage', () => {
      expect(maintenancePolicyFrom(undefined, undefined)).toBeUndefined();
      expect(maintenancePolicyFrom(undefined, current)).toEqual(current);
      expect(maintenancePolicyFrom({}, current)).toEqual(current);
    });

    it.each([
      [90, 120],
      [0, 100],
      [100, 100],
      [100, 200],
    ])('accepts MinHealthyPercentage %i with MaxHealthyPercentage %i', (min, max) => {
      expect(
        maintenancePolicyFrom({ MinHealthyPercentage: min, MaxHealthyPercentage: max }, undefined),
      ).toEqual({ MinHealthyPercentage: min, MaxHealthyPercentage: max });
    });

    it('clears the policy when both percentages are -1', () => {
      expect(maintenancePolicyFrom({ MinHealthyPercentage: -1, MaxHealthyPercentage: -1 }, current)).toBe(
        undefined,
      );
    });

    it.each([
      [{ MinHealthyPercentage: 90 }, /Both MinHealthyPercentage and MaxHealthyPercentage must be specified/],
      [{ MaxHealthyPercentage: 120 }, /Both MinHealthyPercentage and MaxHealthyPercentage must be specified/],
      [{ MinHealthyPercentage: -1, MaxHealthyPercentage: 120 }, /-1 clears the policy only when both/],
      [{ MinHealthyPercentage: 90, MaxHealthyPercentage: -1 }, /-1 clears the policy only when both/],
      [
        { MinHealthyPercentage: 101, MaxHealthyPercentage: 150 },
        /MinHealthyPercentage must be -1 or between 0 and 100, got 101/,
      ],
      [
        { MinHealthyPercentage: -2, MaxHealthyPercentage: 100 },
        /MinHealthyPercentage must be -1 or between 0 and 100, got -2/,
      ],
      [
        { MinHealthyPercentage: 50, MaxHealthyPercentage: 99 },
        /MaxHealthyPercentage must be -1 or between 100 and 200, got 99/,
      ],
      [
        { MinHealthyPercentage: 100, MaxHealthyPercentage: 201 },
        /MaxHealthyPercentage must be -1 or between 100 and 200, got 201/,
      ],
      [
        { MinHealthyPercentage: 90.5, MaxHealthyPercentage: 120 },
        /MinHealthyPercentage must be -1 or between 0 and 100, got 90.5/,
      ],
      [{ MinHealthyPercentage: 0, MaxHealthyPercentage: 150 }, /cannot be greater than 100/],
    ])('rejects %j with a ValidationError', (policy, message) => {
      let caught: unknown;
      try {
        maintenancePolicyFrom(policy, current);
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ name: 'ValidationError', message: expect.stringMatching(message) });
      expect(String((caught as Error).message)).toMatch(/^InstanceMaintenancePolicy/);
    });
  });
});
