/**
 * Standby: EnterStandby takes InService instances out of service without terminating them
 * (EnteringStandby while their target groups drain them, then Standby), and ExitStandby brings them
 * back through Pending to InService. Instances in Standby count toward no capacity, get no health
 * checks and are never scale-in victims (model.ts, health.ts, capacity.ts); no lifecycle hooks run
 * for either move.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-enter-exit-standby.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html#lifecycle-hooks-availability
 */
import type {
  Activity,
  EnterStandbyAnswer,
  EnterStandbyQuery,
  ExitStandbyAnswer,
  ExitStandbyQuery,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import { required, validationError } from './errors';
import type { Group, Member, MemberState } from './model';
import type { AutoScaling } from './parts';

/** "You can specify up to 20 instances." (API_EnterStandby, API_ExitStandby) */
const MAX_INSTANCES_PER_CALL = 20;

export class Standby {
  private readonly ctx: SimContext;

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  // ---------------------------------------------------------------- operations

  enterStandby(input: EnterStandbyQuery): EnterStandbyAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const decrement = required(input.ShouldDecrementDesiredCapacity, 'shouldDecrementDesiredCapacity');
    const members = this.membersIn(group, input.InstanceIds, 'InService');
    // "the instances can enter standby as long as the desired capacity [...] after the instances are
    // placed into standby is equal to or greater than the minimum capacity of the group."
    if (decrement && group.desired - members.length < group.minSize) {
      throw validationError(
        `Moving ${members.length} instance(s) to Standby would decrement the desired capacity from ${group.desired} to ${group.desired - members.length}, below the group's MinSize ${group.minSize}. Set ShouldDecrementDesiredCapacity to false or lower the group's MinSize.`,
      );
    }
    const activities: Activity[] = [];
    for (const member of members) {
      const before = group.desired;
      if (decrement) group.desired -= 1;
      const shrinking = decrement ? `, shrinking the capacity from ${before} to ${group.desired}` : '';
      // Activity text and progress as in the API example.
      member.activity = this.asg.activities.newActivity(
        group,
        `Moving EC2 instance to Standby: ${member.instanceId}`,
        `instance ${member.instanceId} was moved to standby in response to a user request${shrinking}`,
        { az: member.availabilityZone, subnet: member.subnetId },
      );
      member.activity.Progress = 50;
      activities.push({ ...member.activity });
      this.leaveService(group, member);
    }
    // Without the decrement the group launches replacements for the instances now in Standby.
    this.asg.capacity.reconcile(group, 'instances were moved to standby');
    return { Activities: activities };
  }

  exitStandby(input: ExitStandbyQuery): ExitStandbyAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_ExitStandby.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const members = this.membersIn(group, input.InstanceIds, 'Standby');
    // "After you put the instances back in service, the desired capacity is incremented." AWS does not
    // say what happens past MaxSize; the sandbox refuses, as SetDesiredCapacity does.
    if (group.desired + members.length > group.maxSize) {
      throw validationError(
        `Moving ${members.length} instance(s) out of Standby would increment the desired capacity from ${group.desired} to ${group.desired + members.length}, above the group's MaxSize ${group.maxSize}.`,
      );
    }
    const activities: Activity[] = [];
    for (const member of members) {
      const before = group.desired;
      group.desired += 1;
      member.activity = this.asg.activities.newActivity(
        group,
        `Moving EC2 instance out of Standby: ${member.instanceId}`,
        `instance ${member.instanceId} was moved out of standby in response to a user request, increasing the capacity from ${before} to ${group.desired}`,
        { az: member.availabilityZone, subnet: member.subnetId },
      );
      member.activity.StatusCode = 'PreInService';
      member.activity.Progress = 30;
      activities.push({ ...member.activity });
      // Standby → Pending → InService (the user guide's standby lifecycle), with no launch hooks.
      this.asg.instances.setState(group, member, 'Pending');
      this.ctx.clock.setTimeout(() => this.returnToService(group, member), 0);
    }
    return { Activities: activities };
  }

  // ---------------------------------------------------------------- helpers

  /** The group's instances named in a request, all in `state`; refuses the request otherwise. */
  private membersIn(group: Group, ids: string[] | undefined, state: MemberState): Member[] {
    const instanceIds = ids ?? [];
    if (instanceIds.length > MAX_INSTANCES_PER_CALL) {
      throw validationError(
        `InstanceIds: you can specify up to ${MAX_INSTANCES_PER_CALL} instances, got ${instanceIds.length}`,
      );
    }
    return instanceIds.map((id) => {
      const member = group.members.get(id);
      if (!member)
        throw validationError(`The instance ${id} is not part of Auto Scaling group ${group.name}.`);
      // "You can put an instance that is in the InService state into the Standby state" (as-enter-exit-standby.html).
      if (member.state !== state) throw validationError(`The instance ${id} is not in ${state}.`);
      return member;
    });
  }

  /**
   * "If there is a load balancer target group [...] attached to your Auto Scaling group, the
   * instance is deregistered from the load balancer": EnteringStandby lasts while it drains.
   */
  private leaveService(group: Group, member: Member): void {
    if (member.warmupTimer) this.ctx.clock.clearTimeout(member.warmupTimer);
    this.asg.instances.setState(group, member, 'EnteringStandby');
    const registered = [...member.registered];
    member.registered.clear();
    let left = registered.length;
    const drained = (): void => {
      // Terminated or returned meanwhile: nothing left to finish.
      if (member.state !== 'EnteringStandby') return;
      this.asg.instances.setState(group, member, 'Standby');
      this.asg.activities.endActivity(member.activity, 'Successful');
    };
    if (left === 0) drained();
    for (const arn of registered) {
      this.asg.elb.deregister(arn, member.instanceId, () => {
        left -= 1;
        if (left === 0) drained();
      });
    }
  }

  /** Pending → InService: registered with the group's target groups again, health checks resume. */
  private returnToService(group: Group, member: Member): void {
    if (member.state !== 'Pending' || !group.members.has(member.instanceId) || group.deleting) return;
    // "If there is a load balancer target group [...] the instance is registered with the load balancer."
    if (!group.suspended.has('AddToLoadBalancer')) {
      for (const arn of group.targetGroupArns) this.asg.trafficSources.register(member, arn);
    }
    this.asg.instances.setState(group, member, 'InService');
    member.inServiceAt = this.ctx.clock.now();
    this.asg.activities.endActivity(member.activity, 'Successful');
    const refresh = this.asg.refreshes.active(group);
    if (refresh) this.asg.refreshes.step(group, refresh);
    this.asg.health.armTick(group);
  }
}
