/**
 * Scaling policies run by their alarms: CloudWatch calls `run` with the policy's ARN when an
 * alarm naming it enters a state, and every minute while it stays there (services/cloudwatch.ts).
 * - A group with AlarmNotification suspended ignores them: "Amazon EC2 Auto Scaling does not
 *   execute scaling policies that are triggered by CloudWatch alarms"; nothing is queued, but the
 *   alarm keeps asking every minute, so a policy runs once the process resumes.
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
 * - A disabled policy does nothing ("the policy is not run"). PutScalingPolicy's Enabled.
 * - Simple scaling waits its cooldown (the policy's Cooldown, else the group's DefaultCooldown)
 *   after the group's last simple scaling before it acts again; step scaling waits the policy's
 *   EstimatedInstanceWarmup (else the group's DefaultInstanceWarmup, else 300 s) after its own last
 *   step — the sandbox's stand-in for AWS counting warming instances, so a step taken every
 *   minute does not add the same capacity again.
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html
 * - Target tracking and predictive policies are not run (the sandbox makes no alarms for them).
 * The arithmetic is policy-rules.ts.
 */
import type { ScalingPolicy } from '@aws-sdk/client-auto-scaling';
import { isoTime as iso } from '../shared';
import type { Group } from './model';
import type { AutoScaling } from './parts';
import { desiredAfter } from './policy-rules';

const DEFAULT_WARMUP_SECONDS = 300;

export class PolicyExecution {
  /** When each group last scaled by a simple policy, and each step policy last stepped (virtual ms). */
  private readonly lastSimple = new WeakMap<Group, number>();
  private readonly lastStep = new Map<string, number>();

  constructor(private readonly asg: AutoScaling) {}

  run(policyArn: string, alarm: { name: string; breach?: number }): void {
    const found = this.find(policyArn);
    if (!found) return;
    const { group, policy } = found;
    const note = (message: string): void =>
      this.asg.ctx.timeline.record({ kind: 'log', message: `autoscaling:${group.name}: ${message}` });
    if (group.deleting) return;
    if (group.suspended.has('AlarmNotification')) {
      note(
        `alarm ${alarm.name} asked for policy ${policy.PolicyName}: not run, AlarmNotification is suspended`,
      );
      return;
    }
    if (policy.Enabled === false) return;
    const now = this.asg.ctx.clock.now();
    const step = policy.PolicyType === 'StepScaling';
    const since = step ? this.lastStep.get(policyArn) : this.lastSimple.get(group);
    const waitSeconds = step
      ? (policy.EstimatedInstanceWarmup ?? group.defaultInstanceWarmup ?? DEFAULT_WARMUP_SECONDS)
      : (policy.Cooldown ?? group.defaultCooldown);
    if (since !== undefined && now - since < waitSeconds * 1000) return;
    const desired = desiredAfter(
      policy,
      { desired: group.desired, min: group.minSize, max: group.maxSize },
      alarm.breach,
    );
    if (desired === undefined || desired === group.desired) return;
    const before = group.desired;
    group.desired = desired;
    if (step) this.lastStep.set(policyArn, now);
    else this.lastSimple.set(group, now);
    this.asg.capacity.reconcile(
      group,
      `At ${iso(now)} a monitor alarm ${alarm.name} in state ALARM triggered policy ${policy.PolicyName} changing the desired capacity from ${before} to ${desired}.`,
    );
  }

  private find(policyArn: string): { group: Group; policy: ScalingPolicy } | undefined {
    for (const group of this.asg.groups.all()) {
      for (const policy of group.policies.values()) {
        if (policy.PolicyARN === policyArn) return { group, policy };
      }
    }
    return undefined;
  }
}
