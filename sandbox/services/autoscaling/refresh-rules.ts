/**
 * Instance refresh rules that need no state: preference defaults and validation, a group's
 * instance maintenance policy, and how many instances one batch may replace (and whether it
 * launches before it terminates). Kept pure so the arithmetic is testable on its own.
 */
import type { InstanceMaintenancePolicy, RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import { validationError } from './errors';

/** A group's instance maintenance policy once validated: both percentages, always together. */
export interface MaintenancePolicy {
  MinHealthyPercentage: number;
  MaxHealthyPercentage: number;
}

/** AWS's defaults without a maintenance policy (API_RefreshPreferences). */
export const DEFAULT_MIN_HEALTHY_PERCENTAGE = 90;
export const DEFAULT_MAX_HEALTHY_PERCENTAGE = 100;

export interface ResolvedPreferences {
  MinHealthyPercentage: number;
  MaxHealthyPercentage: number;
  /**
   * Whether MaxHealthyPercentage came from the request or the group's maintenance policy rather
   * than AWS's default: "Explicitly setting MaxHealthyPercentage to 100 is not equivalent to
   * omitting it" (API_RefreshPreferences). Not an AWS field; DescribeInstanceRefreshes omits it.
   */
  maxHealthySpecified: boolean;
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
 * Fills in AWS's documented defaults and rejects what the API rejects. MinHealthyPercentage and
 * MaxHealthyPercentage default to "90 percent, or the percentage set in the instance maintenance
 * policy for the Auto Scaling group, if defined" (and 100 percent for the maximum).
 * Defaults: https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html
 * Ranges: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 */
export function resolvePreferences(
  input: RefreshPreferences | undefined,
  group: {
    defaultInstanceWarmup: number | undefined;
    healthCheckGracePeriod: number;
    maintenancePolicy?: MaintenancePolicy | undefined;
  },
): ResolvedPreferences {
  const p = input ?? {};
  const policy = group.maintenancePolicy;
  // "If you specify MaxHealthyPercentage, you must also specify MinHealthyPercentage" (API_RefreshPreferences).
  if (p.MaxHealthyPercentage !== undefined && p.MinHealthyPercentage === undefined) {
    throw validationError(
      'Preferences.MinHealthyPercentage must be specified when MaxHealthyPercentage is specified',
    );
  }
  const min = inRange(
    p.MinHealthyPercentage ?? policy?.MinHealthyPercentage ?? DEFAULT_MIN_HEALTHY_PERCENTAGE,
    0,
    100,
    'MinHealthyPercentage',
  );
  const max = inRange(
    p.MaxHealthyPercentage ?? policy?.MaxHealthyPercentage ?? DEFAULT_MAX_HEALTHY_PERCENTAGE,
    100,
    200,
    'MaxHealthyPercentage',
  );
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
    maxHealthySpecified: p.MaxHealthyPercentage !== undefined || policy !== undefined,
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

/** The healthy bounds a refresh replaces within (ResolvedPreferences, in short). */
export interface HealthyBounds {
  min: number;
  max: number;
  /** MaxHealthyPercentage was given (request or maintenance policy), not AWS's default. */
  maxSpecified: boolean;
}

/**
 * Instances that must stay healthy: MinHealthyPercentage of desired capacity "rounded up to the
 * nearest integer" (the API reference's wording until 2023; today's pages state no rounding).
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 */
export function minHealthyCount(desired: number, minHealthyPercentage: number): number {
  return Math.ceil((desired * minHealthyPercentage) / 100);
}

/**
 * Instances the group may hold while replacing (in service, healthy or pending). AWS documents no
 * rounding for MaxHealthyPercentage; the sandbox rounds down, so the group never exceeds it.
 */
export function maxCapacityCount(desired: number, maxHealthyPercentage: number): number {
  return Math.floor((desired * maxHealthyPercentage) / 100);
}

/** When the bounds leave no room for a batch, AWS replaces one instance at a time. */
export const TIGHT_BATCH_SIZE = 1;

/**
 * How one batch replaces instances, from the healthy bounds around desired capacity:
 *
 * - Below desired down to the minimum, old instances are terminated at once and their
 *   replacements launched together ("10 percent of capacity will be replaced at a time" for 90/100).
 * - Above desired up to the maximum, new instances are launched first and the old ones they
 *   replace go once they are ready. With both (e.g. 90/120) a batch does both at once, so the
 *   group holds "as few as 90 instances and as many as 120" of 100: AWS documents only those
 *   bounds and that "a larger range increases the number of instances that can be replaced at the
 *   same time", not the split; this reading uses the whole range.
 * - With MinHealthyPercentage 100 the group launches first: "Launch the new instances first before
 *   terminating the old ones if the minimum healthy percentage is set to 100 percent."
 * - When the bounds leave no room (90 % of 6 rounds up to all 6, or 100/100), one instance is
 *   replaced at a time: launched first when MaxHealthyPercentage was set (by the request or the
 *   maintenance policy) or MinHealthyPercentage is 100, terminated and relaunched together when
 *   MaxHealthyPercentage was omitted ("Explicitly setting MaxHealthyPercentage to 100 is not
 *   equivalent to omitting it").
 *
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-maintenance-policy-overview-and-considerations.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 */
export function batchPlan(desired: number, bounds: HealthyBounds): BatchPlan {
  if (desired <= 0) return { launchFirst: 0, terminateFirst: 0 };
  const terminateFirst = desired - minHealthyCount(desired, bounds.min);
  const launchFirst = Math.max(0, maxCapacityCount(desired, bounds.max) - desired);
  if (launchFirst + terminateFirst > 0) return { launchFirst, terminateFirst };
  const launchBeforeTerminate = bounds.min === 100 || bounds.maxSpecified;
  return launchBeforeTerminate
    ? { launchFirst: TIGHT_BATCH_SIZE, terminateFirst: 0 }
    : { launchFirst: 0, terminateFirst: TIGHT_BATCH_SIZE };
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

/** AWS documents these rules but not its ValidationError texts: the wording is the sandbox's. */
const POLICY = 'InstanceMaintenancePolicy';
const CLEAR = -1;

function policyValue(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || (value !== CLEAR && (value < min || value > max))) {
    throw validationError(`${POLICY}.${field} must be -1 or between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/**
 * The group's maintenance policy after a CreateAutoScalingGroup/UpdateAutoScalingGroup request:
 * MinHealthyPercentage 0–100 and MaxHealthyPercentage 100–200, "Both MinHealthyPercentage and
 * MaxHealthyPercentage must be specified, and the difference between them cannot be greater than
 * 100"; "To clear a previously set value, specify a value of -1" (the documented example clears
 * both at once, so -1 on one side only is refused). A request without a policy, or with neither
 * percentage, leaves the group's policy as it was.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceMaintenancePolicy.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/remove-instance-maintenance-policy.html
 */
export function maintenancePolicyFrom(
  input: InstanceMaintenancePolicy | undefined,
  current: MaintenancePolicy | undefined,
): MaintenancePolicy | undefined {
  const { MinHealthyPercentage: minInput, MaxHealthyPercentage: maxInput } = input ?? {};
  if (minInput === undefined && maxInput === undefined) return current;
  if (minInput === undefined || maxInput === undefined) {
    throw validationError(`${POLICY}: Both MinHealthyPercentage and MaxHealthyPercentage must be specified`);
  }
  const min = policyValue(minInput, 0, 100, 'MinHealthyPercentage');
  const max = policyValue(maxInput, 100, 200, 'MaxHealthyPercentage');
  if (min === CLEAR && max === CLEAR) return undefined;
  if (min === CLEAR || max === CLEAR) {
    throw validationError(
      `${POLICY}: -1 clears the policy only when both MinHealthyPercentage and MaxHealthyPercentage are -1`,
    );
  }
  if (max - min > 100) {
    throw validationError(
      `${POLICY}: the difference between MinHealthyPercentage and MaxHealthyPercentage cannot be greater than 100`,
    );
  }
  return { MinHealthyPercentage: min, MaxHealthyPercentage: max };
}
