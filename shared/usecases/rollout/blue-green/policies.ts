/**
 * Blue's scaling policies on green. A target tracking policy brings its own alarms (Auto Scaling
 * makes them for the group that has it); a step or simple policy is invoked only by the alarms
 * that name its ARN, so green's copy is added to each alarm that names blue's. Green ignores them
 * until AlarmNotification resumes on it (after the switch); blue, once parked, ignores its own.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/US_AlarmAutoScalingAction.html
 *
 * A group Kiln deletes first leaves those alarms, so no alarm names a policy that is gone.
 */
import type { AutoScalingPort, RolloutDeps } from '../deps';

/** The policy types an alarm invokes by ARN. */
const ALARM_INVOKED = new Set(['StepScaling', 'SimpleScaling']);

export async function copyPolicies(
  asg: AutoScalingPort,
  from: { blue: string; green: string; region: string },
  deps: RolloutDeps,
): Promise<void> {
  const policies = await asg.scalingPolicies(from.blue);
  // PutScalingPolicy creates or replaces the policy of that name: a retried copy is harmless.
  for (const policy of policies) await asg.putScalingPolicy(from.green, policy);
  const invoked = policies.filter(
    (policy) => ALARM_INVOKED.has(policy.policyType) && policy.arn !== undefined,
  );
  if (invoked.length === 0) return;
  const copies = new Map((await asg.scalingPolicies(from.green)).map((policy) => [policy.name, policy.arn]));
  const alarms = deps.alarms(from.region);
  for (const policy of invoked) {
    const copy = copies.get(policy.name);
    if (copy === undefined || policy.arn === undefined) continue;
    for (const alarm of await alarms.alarmsWithAction(policy.arn)) {
      await alarms.mirrorAlarmAction(alarm, policy.arn, copy);
    }
  }
}

/** Takes the group's step and simple policies out of every alarm that names them (before it is deleted). */
export async function forgetPolicies(
  asg: AutoScalingPort,
  group: { name: string; region: string },
  deps: RolloutDeps,
): Promise<void> {
  const alarms = deps.alarms(group.region);
  for (const policy of await asg.scalingPolicies(group.name)) {
    if (!ALARM_INVOKED.has(policy.policyType) || policy.arn === undefined) continue;
    for (const alarm of await alarms.alarmsWithAction(policy.arn)) {
      await alarms.removeAlarmAction(alarm, policy.arn);
    }
  }
}

/** Deletes a group Kiln made or kept (ForceDelete), after taking its policies out of the alarms. */
export async function deleteKilnGroup(
  asg: AutoScalingPort,
  group: { name: string; region: string },
  deps: RolloutDeps,
): Promise<void> {
  await forgetPolicies(asg, group, deps);
  await asg.deleteGroup(group.name);
}
