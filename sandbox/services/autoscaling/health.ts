/**
 * Health checks and replacement: a group polls while it has something to watch, marks instances
 * Unhealthy from EC2's state or (HealthCheckType ELB) its target groups' health once past the grace
 * period, and replaces them.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/healthcheck.html
 */
import type { SimContext } from '../../core/context';
import type { Group, Member } from './model';
import { resourceOf } from './model';
import type { AutoScaling, HealthPart } from './parts';
import { STUCK_EXAMPLE } from './refresh-failures';

export class Health implements HealthPart {
  private readonly ctx: SimContext;

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  armTick(group: Group): void {
    if (group.tickTimer !== undefined || !this.needsTick(group)) return;
    group.tickTimer = this.ctx.clock.setTimeout(() => {
      group.tickTimer = undefined;
      if (!group.deleting) this.asg.trafficSources.poll(group);
      this.checkHealth(group);
      const refresh = this.asg.refreshes.active(group);
      if (refresh) this.asg.refreshes.step(group, refresh);
      this.armTick(group);
    }, this.asg.pollMs);
  }

  /**
   * Marks InService instances Unhealthy once past the grace period when EC2 says they are not running
   * or, for HealthCheckType ELB, a target group reports them unhealthy; then replaces them unless
   * HealthCheck/ReplaceUnhealthy is suspended. A target group counts only once it is InService:
   * "Amazon EC2 Auto Scaling can replace instances that Elastic Load Balancing reports as unhealthy,
   * but only after the load balancer is in the InService state."
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-checks-overview.html#elastic-load-balancing-health-checks
   */
  checkHealth(group: Group): void {
    if (group.deleting || group.suspended.has('HealthCheck')) return;
    const now = this.ctx.clock.now();
    for (const member of [...group.members.values()]) {
      if (member.state !== 'InService' || member.inServiceAt === undefined) continue;
      if (member.health === 'Healthy') {
        if (now < member.inServiceAt + group.healthCheckGracePeriod * 1000) continue;
        const state = this.asg.ec2.stateOf(member.instanceId);
        const ec2Down = state !== 'running';
        const elbDown = group.healthCheckType === 'ELB' && this.elbSaysUnhealthy(group, member);
        if (!ec2Down && !elbDown) continue;
        member.health = 'Unhealthy';
        this.ctx.timeline.record({
          kind: 'state',
          resource: `${resourceOf(group, member)}#health`,
          from: 'Healthy',
          to: 'Unhealthy',
        });
        // A refresh's new instance failing its health check: the refresh retries, then fails.
        this.asg.refreshes.noteFailure(
          group,
          'health-checks',
          member,
          STUCK_EXAMPLE.unhealthy(member.instanceId, ec2Down ? 'EC2' : 'ELB'),
        );
      }
      if (!group.suspended.has('ReplaceUnhealthy')) {
        const why =
          group.healthCheckType === 'ELB'
            ? 'an ELB system health check failure'
            : 'an EC2 health check indicating it has been terminated or stopped';
        this.asg.instances.beginTerminate(
          group,
          member,
          `an instance was taken out of service in response to ${why}`,
        );
      }
    }
    this.asg.capacity.reconcile(group, 'replacing unhealthy instances');
  }

  /** Whether an InService target group reports the member unhealthy (a loop: this runs per member per poll). */
  private elbSaysUnhealthy(group: Group, member: Member): boolean {
    for (const arn of member.registered) {
      if (
        this.asg.trafficSources.inService(group, arn) &&
        this.asg.elb.health(arn, member.instanceId) === 'unhealthy'
      )
        return true;
    }
    return false;
  }

  private needsTick(group: Group): boolean {
    if (group.deleting) return false;
    if (this.asg.refreshes.active(group)) return true;
    if (this.asg.trafficSources.needsPoll(group)) return true;
    const watchesTargets = group.healthCheckType === 'ELB' && group.targetGroupArns.length > 0;
    return watchesTargets && [...group.members.values()].some((member) => member.state === 'InService');
  }
}
