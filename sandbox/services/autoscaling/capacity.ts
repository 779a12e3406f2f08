/**
 * Desired capacity: a group launches or terminates until it holds what it should (plus a refresh's
 * launch-first surge), picks scale-in victims by its termination policy, balances launches across
 * its subnets and backs off after failed launches.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-capacity-limits.html
 */
import type { SimContext } from '../../core/context';
import type { ResolvedLaunchTemplate, SimInstance } from '../fleet';
import type { Group, Member } from './model';
import { countsTowardCapacity, matches, resourceOf } from './model';
import type { AutoScaling, CapacityPart } from './parts';
import { STUCK_EXAMPLE } from './refresh-failures';

export class Capacity implements CapacityPart {
  private readonly ctx: SimContext;

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  /** Launches or terminates until the group holds desired capacity (plus a refresh's launch-first surge). */
  reconcile(group: Group, cause: string): void {
    if (group.deleting) return;
    const refresh = this.asg.refreshes.active(group);
    const surge = refresh ? this.asg.refreshes.currentPass(refresh).surge : 0;
    const target = group.desired + surge;
    const active = [...group.members.values()].filter((member) => countsTowardCapacity(member));
    if (active.length < target && !group.suspended.has('Launch') && group.retryTimer === undefined) {
      const from = active.length;
      for (let i = 0; i < target - from; i++) {
        if (
          !this.launch(
            group,
            `an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${from} to ${target}; ${cause}`,
          )
        )
          break;
      }
    } else if (active.length > target && !group.suspended.has('Terminate')) {
      const victims = this.scaleInVictims(group, active, active.length - target);
      for (const victim of victims) {
        this.asg.instances.beginTerminate(
          group,
          victim,
          `an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${active.length} to ${target}; ${cause}`,
        );
      }
    }
  }

  scheduleLaunchRetry(group: Group): void {
    if (group.retryTimer !== undefined) return;
    // Failed launches are retried with a growing delay, as Auto Scaling backs off.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/CHAP_Troubleshooting.html
    const delay = Math.min(this.asg.retryMs * 2 ** group.launchFailures, 300_000);
    group.launchFailures += 1;
    group.retryTimer = this.ctx.clock.setTimeout(() => {
      delete group.retryTimer;
      this.reconcile(group, 'retrying a failed launch');
    }, delay);
  }

  /**
   * The default termination policy, simplified: leave scale-in protected instances alone, take from the
   * Availability Zone with the most instances, prefer instances on an older launch template, then the
   * oldest. https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-termination-policies.html
   */
  private scaleInVictims(group: Group, active: Member[], count: number): Member[] {
    const current = this.launchSpec(group);
    const candidates = active.filter((member) => !member.protectedFromScaleIn);
    const victims: Member[] = [];
    while (victims.length < count && candidates.length > 0) {
      const perZone = new Map<string, number>();
      for (const member of active) {
        if (victims.includes(member)) continue;
        perZone.set(member.availabilityZone, (perZone.get(member.availabilityZone) ?? 0) + 1);
      }
      candidates.sort((a, b) => {
        const zone = (perZone.get(b.availabilityZone) ?? 0) - (perZone.get(a.availabilityZone) ?? 0);
        if (zone !== 0) return zone;
        const stale = Number(matches(a, current)) - Number(matches(b, current));
        if (stale !== 0) return stale;
        if (a.launchTemplate.version !== b.launchTemplate.version)
          return a.launchTemplate.version - b.launchTemplate.version;
        return a.launchedAt - b.launchedAt || a.instanceId.localeCompare(b.instanceId);
      });
      const victim = candidates.shift();
      if (victim) victims.push(victim);
    }
    return victims;
  }

  /** The configuration new instances launch with: a running refresh's desired one, else the group's. */
  private launchSpec(group: Group): ResolvedLaunchTemplate | undefined {
    const refresh = this.asg.refreshes.active(group);
    if (
      refresh &&
      (refresh.status === 'InProgress' || refresh.status === 'Pending' || refresh.status === 'Baking')
    ) {
      return refresh.forward.target;
    }
    try {
      return this.asg.groups.resolveTemplate(group.launchTemplate, 'LaunchTemplate');
    } catch {
      return undefined;
    }
  }

  private pickSubnet(group: Group): string {
    if (group.subnets.length === 0) return '';
    const load = new Map(group.subnets.map((subnet) => [subnet, 0]));
    for (const member of group.members.values()) {
      if (load.has(member.subnetId)) load.set(member.subnetId, (load.get(member.subnetId) ?? 0) + 1);
    }
    // Auto Scaling balances instances across the group's zones.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/auto-scaling-benefits.html#arch-AutoScalingMultiAZ
    return [...load.entries()].reduce((best, entry) => (entry[1] < best[1] ? entry : best))[0];
  }

  /** Starts one launch; false when it failed at once (the retry timer then owns the next try). */
  private launch(group: Group, cause: string): boolean {
    const subnetId = this.pickSubnet(group);
    let template: ResolvedLaunchTemplate;
    let instance: SimInstance;
    try {
      // $Latest/$Default are resolved at launch time, so each launch asks EC2 again.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/launch-templates.html
      template =
        this.launchSpec(group) ?? this.asg.groups.resolveTemplate(group.launchTemplate, 'LaunchTemplate');
      const tags: Record<string, string> = { 'aws:autoscaling:groupName': group.name };
      for (const tag of group.tags) if (tag.PropagateAtLaunch && tag.Key) tags[tag.Key] = tag.Value ?? '';
      instance = this.asg.ec2.launch({
        launchTemplate: template,
        subnetId,
        tags: { ...template.tags, ...tags },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const activity = this.asg.activities.newActivity(
        group,
        'Launching a new EC2 instance.  Status Reason: ' + message,
        cause,
      );
      this.asg.activities.endActivity(activity, 'Failed', message);
      this.asg.activities.emitInstanceEvent(group, 'EC2 Instance Launch Unsuccessful', activity, undefined, {
        az: '',
        subnet: subnetId,
        origin: 'EC2',
        destination: 'AutoScalingGroup',
      });
      this.scheduleLaunchRetry(group);
      this.asg.refreshes.noteFailure(
        group,
        'launch-failures',
        undefined,
        STUCK_EXAMPLE.launchFailed(message),
      );
      return false;
    }
    const member: Member = {
      instanceId: instance.instanceId,
      state: 'Pending',
      health: 'Healthy',
      launchTemplate: {
        id: template.launchTemplateId,
        name: template.launchTemplateName,
        version: template.version,
      },
      instanceType: instance.instanceType,
      availabilityZone: instance.availabilityZone,
      subnetId: instance.subnetId,
      launchedAt: this.ctx.clock.now(),
      protectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
      registered: new Set(),
      actions: new Map(),
      abandoned: false,
      activity: this.asg.activities.newActivity(
        group,
        `Launching a new EC2 instance: ${instance.instanceId}`,
        cause,
        {
          az: instance.availabilityZone,
          subnet: instance.subnetId,
        },
      ),
    };
    this.asg.groups.adopt(group, member);
    this.ctx.timeline.record({
      kind: 'state',
      resource: resourceOf(group, member),
      from: null,
      to: 'Pending',
    });
    // EC2 may already have moved the instance on (zero boot time or an immediate boot failure).
    const now = this.asg.ec2.get(member.instanceId);
    if (now?.state === 'running') this.asg.instances.onRunning(group, member);
    else if (now?.state === 'terminated' || now?.state === 'shutting-down')
      this.asg.instances.onEc2Gone(group, member);
    return true;
  }
}
