/**
 * Instance refresh rules that need no state: preference defaults and validation, and how many
 * instances one batch may replace. Kept pure so the arithmetic is testable on its own.
 */
import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import { validationError } from './errors';

export interface ResolvedPreferences {
  MinHealthyPercentage: number;
  MaxHealthyPercentage: number;
  InstanceWarmup: number;
  CheckpointPercentages: number[];
  CheckpointDelay: number;
  SkipMatching: boolean;
  AutoRollback: boolean;
  BakeTime: number;
  ScaleInProtectedInstances: 'Refresh' | 'Ignore' | 'Wait';
  StandbyInstances: 'Terminate' | 'Ignore' | 'Wait';
  Alarms: string[];
}

/**
 * "You can specify up to 10 alarms", each name 1 to 255 characters. AWS documents no error text for
 * more; the sandbox answers a ValidationError naming the field.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AlarmSpecification.html
 */
export const MAX_REFRESH_ALARMS = 10;

function inRange(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw validationError(`Preferences.${field} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/**
 * Fills in AWS's documented defaults and rejects what the API rejects.
 * Defaults: https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html
 * Ranges: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 */
export function resolvePreferences(
  input: RefreshPreferences | undefined,
  group: { defaultInstanceWarmup: number | undefined; healthCheckGracePeriod: number },
): ResolvedPreferences {
  const p = input ?? {};
  // "If you specify MaxHealthyPercentage, you must also specify MinHealthyPercentage" (API_RefreshPreferences).
  if (p.MaxHealthyPercentage !== undefined && p.MinHealthyPercentage === undefined) {
    throw validationError(
      'Preferences.MinHealthyPercentage must be specified when MaxHealthyPercentage is specified',
    );
  }
  const min = inRange(p.MinHealthyPercentage ?? 90, 0, 100, 'MinHealthyPercentage');
  const max = inRange(p.MaxHealthyPercentage ?? 100, 100, 200, 'MaxHealthyPercentage');
  // The range between them may not exceed 100 points (API_RefreshPreferences, MaxHealthyPercentage).
  if (max - min > 100) {
    throw validationError(
      'Preferences.MaxHealthyPercentage minus MinHealthyPercentage cannot be greater than 100',
    );
  }
  const checkpoints = p.CheckpointPercentages ?? [];
  if (p.CheckpointDelay !== undefined && checkpoints.length === 0) {
    // CheckpointDelay "is optional, but if you specify a value for it, you must also specify a value for
    // CheckpointPercentages" (API_RefreshPreferences).
    throw validationError(
      'Preferences.CheckpointPercentages must be specified when CheckpointDelay is specified',
    );
  }
  checkpoints.forEach((value, index) => {
    inRange(value, 1, 100, `CheckpointPercentages[${index}]`);
    const previous = checkpoints[index - 1];
    if (previous !== undefined && value <= previous) {
      throw validationError('Preferences.CheckpointPercentages must be in ascending order');
    }
  });
  return {
    MinHealthyPercentage: min,
    MaxHealthyPercentage: max,
    // Warmup defaults to the group's DefaultInstanceWarmup, else its health check grace period.
    InstanceWarmup: inRange(
      p.InstanceWarmup ?? group.defaultInstanceWarmup ?? group.healthCheckGracePeriod,
      0,
      172800,
      'InstanceWarmup',
    ),
    CheckpointPercentages: [...checkpoints],
    CheckpointDelay: inRange(p.CheckpointDelay ?? 3600, 0, 172800, 'CheckpointDelay'),
    SkipMatching: p.SkipMatching ?? false,
    AutoRollback: p.AutoRollback ?? false,
    BakeTime: inRange(p.BakeTime ?? 0, 0, 172800, 'BakeTime'),
    ScaleInProtectedInstances: oneOf(
      p.ScaleInProtectedInstances ?? 'Wait',
      ['Refresh', 'Ignore', 'Wait'],
      'ScaleInProtectedInstances',
    ),
    StandbyInstances: oneOf(
      p.StandbyInstances ?? 'Wait',
      ['Terminate', 'Ignore', 'Wait'],
      'StandbyInstances',
    ),
    Alarms: alarmNames(p.AlarmSpecification?.Alarms ?? []),
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  const match = allowed.find((option) => option === value);
  if (match === undefined) {
    throw validationError(`Preferences.${field} must be one of ${allowed.join(', ')}, got ${value}`);
  }
  return match;
}

function alarmNames(names: readonly string[]): string[] {
  if (names.length > MAX_REFRESH_ALARMS) {
    throw validationError(
      `Preferences.AlarmSpecification.Alarms: you can specify up to ${MAX_REFRESH_ALARMS} alarms, got ${names.length}`,
    );
  }
  names.forEach((name, index) => {
    if (name.length < 1 || name.length > 255) {
      throw validationError(
        `Preferences.AlarmSpecification.Alarms[${index}] must be 1 to 255 characters, got ${name.length}`,
      );
    }
  });
  return [...names];
}

export interface BatchPlan {
  /** New instances launched before any old one goes (capacity above desired, up to MaxHealthy). */
  launchFirst: number;
  /** Old instances terminated at once; their replacements launch at the same time. */
  terminateFirst: number;
}

/**
 * How many instances one batch replaces. MinHealthyPercentage is "rounded up to the nearest integer"
 * of desired capacity, and with MaxHealthyPercentage 100 the group replaces what lies between it and
 * desired, at least one instance; above 100 it launches new instances first, up to the max.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-maintenance-policy-overview-and-considerations.html
 */
export function batchPlan(desired: number, minHealthy: number, maxHealthy: number): BatchPlan {
  if (desired <= 0) return { launchFirst: 0, terminateFirst: 0 };
  const minCount = Math.ceil((desired * minHealthy) / 100);
  const maxCount = Math.floor((desired * maxHealthy) / 100);
  const terminateFirst = desired - minCount;
  const launchFirst = Math.max(0, maxCount - desired);
  if (launchFirst + terminateFirst > 0) return { launchFirst, terminateFirst };
  // MinHealthy 100 % with MaxHealthy 100 % still replaces one at a time (the docs' minimum of one).
  return maxHealthy > 100 ? { launchFirst: 1, terminateFirst: 0 } : { launchFirst: 0, terminateFirst: 1 };
}

/**
 * Shrinks a batch so it never overshoots the next checkpoint or the instances left to replace:
 * "To reach a checkpoint percentage, Amazon EC2 Auto Scaling will sometimes replace fewer but never
 * more than what the minimum healthy percentage allows."
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
 */
export function capBatch(plan: BatchPlan, cap: number): BatchPlan {
  const limit = Math.max(0, cap);
  const launchFirst = Math.min(plan.launchFirst, limit);
  const terminateFirst = Math.min(plan.terminateFirst, limit - launchFirst);
  return { launchFirst, terminateFirst };
}

/** Instances that must be new before `checkpoint` percent of `total` counts as reached. */
export function checkpointTarget(checkpoint: number, total: number): number {
  return Math.ceil((checkpoint * total) / 100);
}
