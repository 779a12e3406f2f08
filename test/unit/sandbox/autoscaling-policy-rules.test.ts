import type { ScalingPolicy } from '@aws-sdk/client-auto-scaling';
import { desiredAfter, percentChange, stepFor } from '../../../sandbox/services/autoscaling/policy-rules';

/** https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html */
describe('scaling policy rules', () => {
  const now = { desired: 4, min: 2, max: 8 };

  describe('simple scaling', () => {
    it('adds ChangeInCapacity to the desired capacity', () => {
      const policy: ScalingPolicy = {
        PolicyType: 'SimpleScaling',
        AdjustmentType: 'ChangeInCapacity',
        ScalingAdjustment: 2,
      };
      expect(desiredAfter(policy, now)).toBe(6);
    });

    it('sets ExactCapacity', () => {
      const policy: ScalingPolicy = {
        PolicyType: 'SimpleScaling',
        AdjustmentType: 'ExactCapacity',
        ScalingAdjustment: 3,
      };
      expect(desiredAfter(policy, now)).toBe(3);
    });

    it('stays within the group’s min and max', () => {
      const policy: ScalingPolicy = {
        PolicyType: 'SimpleScaling',
        AdjustmentType: 'ChangeInCapacity',
        ScalingAdjustment: 10,
      };
      expect(desiredAfter(policy, now)).toBe(8);
      expect(desiredAfter({ ...policy, ScalingAdjustment: -10 }, now)).toBe(2);
    });
  });

  describe('PercentChangeInCapacity', () => {
    it.each([
      [4, 25, 0, 1],
      [4, 10, 0, 1],
      [10, 25, 0, 2],
      [4, -10, 0, -1],
      [10, -25, 0, -2],
      [4, 25, 2, 2],
    ])('of %i by %i %% (min magnitude %i) changes by %i', (desired, percent, min, change) => {
      expect(percentChange(desired, percent, min)).toBe(change);
    });
  });

  describe('step scaling', () => {
    const steps = [
      { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 20, ScalingAdjustment: 1 },
      { MetricIntervalLowerBound: 20, ScalingAdjustment: 3 },
    ];

    it('takes the step whose interval holds the breach, lower bound inclusive above the threshold', () => {
      expect(stepFor(steps, 0)?.ScalingAdjustment).toBe(1);
      expect(stepFor(steps, 20)?.ScalingAdjustment).toBe(3);
      const policy: ScalingPolicy = {
        PolicyType: 'StepScaling',
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: steps,
      };
      expect(desiredAfter(policy, now, 45)).toBe(7);
    });

    it('takes no step without a breach to place', () => {
      const policy: ScalingPolicy = {
        PolicyType: 'StepScaling',
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: steps,
      };
      expect(desiredAfter(policy, now)).toBeUndefined();
    });
  });

  it('takes no step for a target tracking policy (its own alarms drive it, which the sandbox does not make)', () => {
    expect(desiredAfter({ PolicyType: 'TargetTrackingScaling' }, now)).toBeUndefined();
  });
});
