/**
 * The arithmetic of simple and step scaling policies: the desired capacity one execution asks
 * for. Pure (no group, no clock), so a unit test holds it to the documented rules.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutScalingPolicy.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StepAdjustment.html
 */
import type { ScalingPolicy, StepAdjustment } from '@aws-sdk/client-auto-scaling';

export interface CapacityNow {
  desired: number;
  min: number;
  max: number;
}

/**
 * The step whose interval holds the breach (metric minus threshold). "If the metric value is
 * above the breach threshold, the lower bound is inclusive and the upper bound is exclusive. If
 * the metric value is below the breach threshold, the lower bound is exclusive and the upper bound
 * is inclusive." A missing bound is infinity.
 */
export function stepFor(steps: readonly StepAdjustment[], breach: number): StepAdjustment | undefined {
  return steps.find((step) => {
    const lower = step.MetricIntervalLowerBound ?? Number.NEGATIVE_INFINITY;
    const upper = step.MetricIntervalUpperBound ?? Number.POSITIVE_INFINITY;
    return breach >= 0 ? lower <= breach && breach < upper : lower < breach && breach <= upper;
  });
}

/**
 * PercentChangeInCapacity's rounding: "Values greater than 1 are rounded down … Values between 0
 * and 1 are rounded to 1 … Values between 0 and -1 are rounded to -1 … Values less than -1 are
 * rounded up", then at least MinAdjustmentMagnitude in the same direction.
 */
export function percentChange(desired: number, percent: number, minMagnitude = 0): number {
  const raw = (desired * percent) / 100;
  let change: number;
  if (raw > 1) change = Math.floor(raw);
  else if (raw > 0) change = 1;
  else if (raw === 0) change = 0;
  else if (raw > -1) change = -1;
  else change = Math.ceil(raw);
  if (Math.abs(change) < minMagnitude) change = Math.sign(change || percent) * minMagnitude;
  return change;
}

/**
 * The desired capacity one execution of `policy` asks for, within the group's min and max
 * ("the new capacity … does not exceed the maximum or fall below the minimum"); undefined when the
 * policy takes no step (a target tracking or predictive policy, no step for the breach, or no
 * breach given to a step policy).
 */
export function desiredAfter(policy: ScalingPolicy, now: CapacityNow, breach?: number): number | undefined {
  let adjustment: number | undefined;
  if (policy.PolicyType === 'SimpleScaling' || policy.PolicyType === undefined) {
    adjustment = policy.ScalingAdjustment;
  } else if (policy.PolicyType === 'StepScaling') {
    if (breach === undefined) return undefined;
    adjustment = stepFor(policy.StepAdjustments ?? [], breach)?.ScalingAdjustment;
  } else {
    return undefined;
  }
  if (adjustment === undefined) return undefined;
  let desired: number;
  switch (policy.AdjustmentType) {
    case 'ExactCapacity':
      desired = adjustment;
      break;
    case 'PercentChangeInCapacity':
      desired = now.desired + percentChange(now.desired, adjustment, policy.MinAdjustmentMagnitude);
      break;
    default:
      desired = now.desired + adjustment;
  }
  return Math.min(Math.max(desired, now.min), now.max);
}
