/**
 * One instance's way through its group: Pending (and Pending:Wait on launch hooks), registration
 * with the group's target groups, InService, then Terminating (draining, Terminating:Wait on
 * terminate hooks) and Terminated, driven by EC2's state changes and ELB's drain callbacks.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html
 */
import type {
  Activity,
  ActivityType,
  SetInstanceProtectionQuery,
  TerminateInstanceInAutoScalingGroupType,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import type { InstanceState, SimInstance } from '../fleet';
import { missingField, required, validationError } from './errors';
import type { Group, Member, MemberState } from './model';
import { isTerminating, LAUNCHING, resourceOf, TERMINATING } from './model';
import type { AutoScaling, InstancesPart } from './parts';
import { STUCK_EXAMPLE } from './refresh-failures';

export class Instances implements InstancesPart {
  private readonly ctx: SimContext;

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  // ---------------------------------------------------------------- EC2 reports

  onEc2StateChange(instance: SimInstance, _from: InstanceState | null, to: InstanceState): void {
    const owner = this.asg.groups.ownerOf(instance.instanceId);
    if (!owner) return;
    const { group, member } = owner;
    if (to === 'running' && member.state === 'Pending') this.onRunning(group, member);
    else if (to === 'terminated') this.onEc2Gone(group, member);
    else if (
      (to === 'stopping' || to === 'stopped' || to === 'shutting-down') &&
      member.state === 'InService'
    ) {
      this.asg.health.checkHealth(group);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  setState(group: Group, member: Member, to: MemberState): void {
    if (member.state === to) return;
    this.ctx.timeline.record({
      kind: 'state',
      resource: resourceOf(group, member),
      from: member.state,
      to,
    });
    member.state = to;
  }

  /** The instance booted: wait on launch hooks (Pending:Wait) or proceed. */
  onRunning(group: Group, member: Member): void {
    const hooks = [...group.hooks.values()].filter((hook) => hook.transition === LAUNCHING);
    if (hooks.length === 0) {
      this.proceedLaunch(group, member);
      return;
    }
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html (steps 1–2)
    this.setState(group, member, 'Pending:Wait');
    member.activity.StatusCode = 'MidLifecycleAction';
    for (const hook of hooks) this.asg.hooks.openAction(group, member, hook);
  }

  /** Pending:Proceed → register with target groups → InService (or terminate after ABANDON). */
  proceedLaunch(group: Group, member: Member): void {
    if (member.abandoned) {
      // An ABANDONed launch terminates the instance.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html
      const token = [...member.actions.keys()][0] ?? '';
      const message = `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ${token} was abandoned: Lifecycle Action Completed with ABANDON Result`;
      this.asg.activities.endActivity(member.activity, 'Cancelled', message);
      this.asg.activities.emitInstanceEvent(
        group,
        'EC2 Instance Launch Unsuccessful',
        member.activity,
        member,
        {
          origin: 'EC2',
          destination: 'AutoScalingGroup',
        },
      );
      this.setState(group, member, 'Terminating:Proceed');
      member.activity = this.asg.activities.newActivity(
        group,
        `Terminating EC2 instance: ${member.instanceId}`,
        `instance ${member.instanceId} was taken out of service because its launch lifecycle action was abandoned`,
        { az: member.availabilityZone, subnet: member.subnetId },
      );
      this.asg.refreshes.noteFailure(
        group,
        'launch-failures',
        member,
        STUCK_EXAMPLE.abandoned(member.instanceId),
      );
      this.terminateEc2(group, member);
      return;
    }
    if (member.state === 'Pending:Wait') this.setState(group, member, 'Pending:Proceed');
    // Instances are registered with the load balancer before they reach InService (lifecycle-hooks-overview, step 3).
    if (!group.suspended.has('AddToLoadBalancer')) {
      for (const arn of group.targetGroupArns) this.asg.trafficSources.register(member, arn);
    }
    this.setState(group, member, 'InService');
    member.inServiceAt = this.ctx.clock.now();
    group.launchFailures = 0;
    this.asg.activities.endActivity(member.activity, 'Successful');
    this.asg.activities.emitInstanceEvent(group, 'EC2 Instance Launch Successful', member.activity, member, {
      origin: 'EC2',
      destination: 'AutoScalingGroup',
    });
    const refresh = this.asg.refreshes.active(group);
    if (refresh) {
      const warmup = refresh.preferences.InstanceWarmup * 1000;
      member.warmupTimer = this.ctx.clock.setTimeout(() => this.asg.refreshes.step(group, refresh), warmup);
      this.asg.refreshes.step(group, refresh);
    }
    this.asg.health.armTick(group);
  }

  /**
   * Terminating: deregister from every target group and wait for draining, then Terminating:Wait on
   * terminate hooks, then Terminating:Proceed. The load balancer drains before the hook runs.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html (steps 4–5)
   */
  beginTerminate(group: Group, member: Member, cause: string): Activity {
    if (isTerminating(member)) return member.activity;
    this.asg.hooks.clearActions(member);
    if (member.warmupTimer) this.ctx.clock.clearTimeout(member.warmupTimer);
    if (member.activity.StatusCode !== 'Successful' && member.activity.StatusCode !== 'Failed') {
      this.asg.activities.endActivity(member.activity, 'Cancelled');
    }
    this.setState(group, member, 'Terminating');
    member.activity = this.asg.activities.newActivity(
      group,
      `Terminating EC2 instance: ${member.instanceId}`,
      cause,
      {
        az: member.availabilityZone,
        subnet: member.subnetId,
      },
    );
    const registered = [...member.registered];
    member.registered.clear();
    if (registered.length === 0) {
      this.afterDrain(group, member);
      return member.activity;
    }
    member.activity.StatusCode = 'WaitingForELBConnectionDraining';
    let left = registered.length;
    for (const arn of registered) {
      this.asg.elb.deregister(arn, member.instanceId, () => {
        left -= 1;
        if (left === 0) this.afterDrain(group, member);
      });
    }
    return member.activity;
  }

  afterDrain(group: Group, member: Member): void {
    if (member.state !== 'Terminating') return;
    member.activity.StatusCode = 'InProgress';
    const hooks = [...group.hooks.values()].filter((hook) => hook.transition === TERMINATING);
    if (hooks.length === 0) {
      this.proceedTerminate(group, member);
      return;
    }
    this.setState(group, member, 'Terminating:Wait');
    member.activity.StatusCode = 'MidLifecycleAction';
    for (const hook of hooks) this.asg.hooks.openAction(group, member, hook);
  }

  proceedTerminate(group: Group, member: Member): void {
    this.setState(group, member, 'Terminating:Proceed');
    member.activity.StatusCode = 'InProgress';
    this.terminateEc2(group, member);
  }

  terminateEc2(group: Group, member: Member): void {
    const instance = this.asg.ec2.get(member.instanceId);
    if (!instance || instance.state === 'terminated') {
      this.onEc2Gone(group, member);
      return;
    }
    if (instance.state !== 'shutting-down') this.asg.ec2.terminate(member.instanceId);
    if (this.asg.ec2.get(member.instanceId)?.state === 'terminated') this.onEc2Gone(group, member);
  }

  /** EC2 reports the instance terminated: finish a termination we started, or notice one we did not. */
  onEc2Gone(group: Group, member: Member): void {
    if (!group.members.has(member.instanceId)) return;
    this.asg.hooks.clearActions(member);
    if (member.warmupTimer) this.ctx.clock.clearTimeout(member.warmupTimer);
    const wasPending =
      member.state === 'Pending' || member.state === 'Pending:Wait' || member.state === 'Pending:Proceed';
    if (wasPending) {
      const message =
        'Instance became unhealthy while waiting for instance to be in InService state. Termination Reason: Client.InternalError: Client error on launch';
      this.asg.activities.endActivity(member.activity, 'Failed', message);
      this.asg.activities.emitInstanceEvent(
        group,
        'EC2 Instance Launch Unsuccessful',
        member.activity,
        member,
        {
          origin: 'EC2',
          destination: 'AutoScalingGroup',
        },
      );
      this.asg.capacity.scheduleLaunchRetry(group);
      this.asg.refreshes.noteFailure(
        group,
        'launch-failures',
        member,
        STUCK_EXAMPLE.bootFailed(member.instanceId),
      );
    } else {
      if (!isTerminating(member)) {
        // Terminated behind the group's back: it is unhealthy and gets replaced (healthcheck.html).
        member.health = 'Unhealthy';
        member.activity = this.asg.activities.newActivity(
          group,
          `Terminating EC2 instance: ${member.instanceId}`,
          `an instance was taken out of service in response to an EC2 instance status check failure`,
          { az: member.availabilityZone, subnet: member.subnetId },
        );
      }
      this.asg.activities.endActivity(member.activity, 'Successful');
      this.asg.activities.emitInstanceEvent(
        group,
        'EC2 Instance Terminate Successful',
        member.activity,
        member,
        {
          origin: 'AutoScalingGroup',
          destination: 'EC2',
        },
      );
    }
    for (const arn of member.registered) this.asg.elb.deregister(arn, member.instanceId, () => undefined);
    this.setState(group, member, 'Terminated');
    this.asg.groups.release(group, member);
    this.asg.groups.removeIfEmpty(group);
    if (group.deleting) return;
    this.asg.capacity.reconcile(group, 'an instance left the group');
    const refresh = this.asg.refreshes.active(group);
    if (refresh) this.asg.refreshes.step(group, refresh);
  }

  // ---------------------------------------------------------------- operations

  terminateInstanceInGroup(input: TerminateInstanceInAutoScalingGroupType): ActivityType {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html
    const decrement = required(input.ShouldDecrementDesiredCapacity, 'shouldDecrementDesiredCapacity');
    const ids = input.InstanceId !== undefined ? [input.InstanceId] : (input.InstanceIds ?? []);
    if (ids.length === 0) throw missingField('instanceId');
    const found = ids.map((id) => {
      const hit = this.asg.groups.ownerOf(id);
      if (!hit)
        throw validationError(`Instance Id not found - No managed instance found for instance ID: ${id}`);
      return hit;
    });
    const activities: Activity[] = [];
    for (const { group, member } of found) {
      if (decrement) {
        if (group.desired - 1 < group.minSize) {
          throw validationError(
            `Currently, desiredSize equals minSize (${group.minSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
          );
        }
        group.desired -= 1;
      }
      const cause = decrement
        ? `instance ${member.instanceId} was taken out of service in response to a user request, shrinking the capacity from ${group.desired + 1} to ${group.desired}`
        : `instance ${member.instanceId} was taken out of service in response to a user request`;
      activities.push({ ...this.beginTerminate(group, member, cause) });
      // Without the decrement the group launches a replacement.
      this.asg.capacity.reconcile(group, 'a user request terminated an instance');
    }
    const first = activities[0];
    return input.InstanceId !== undefined && first ? { Activity: first } : { Activities: activities };
  }

  setInstanceProtection(input: SetInstanceProtectionQuery): object {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const protect = required(input.ProtectedFromScaleIn, 'protectedFromScaleIn');
    for (const id of required(input.InstanceIds, 'instanceIds')) {
      const member = group.members.get(id);
      if (!member)
        throw validationError(`The instance ${id} is not part of Auto Scaling group ${group.name}.`);
      member.protectedFromScaleIn = protect;
    }
    return {};
  }
}
