/**
 * The load balancer target groups (traffic sources) a group registers its instances with: attach,
 * detach, describe, registration of instances as they reach InService, and the states each
 * attachment passes through (Adding, Added, InService, Removing, Removed).
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/load-balancer-status.html
 */
import type {
  AttachLoadBalancerTargetGroupsType,
  AttachTrafficSourcesType,
  DescribeLoadBalancerTargetGroupsRequest,
  DescribeLoadBalancerTargetGroupsResponse,
  DescribeTrafficSourcesRequest,
  DescribeTrafficSourcesResponse,
  DetachLoadBalancerTargetGroupsType,
  DetachTrafficSourcesType,
  TrafficSourceIdentifier,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import { required, validationError } from './errors';
import type { Group, Member } from './model';
import type { AutoScaling, TrafficSourcesPart } from './parts';

/**
 * The states of an attachment, from the API reference's TrafficSourceState and
 * LoadBalancerTargetGroupState. https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TrafficSourceState.html
 */
type AttachmentState = 'Adding' | 'Added' | 'InService' | 'Removing' | 'Removed';

interface Attachment {
  arn: string;
  state: AttachmentState;
  /** While Removing: instances whose deregistration has not completed yet. */
  deregistering: number;
}

export class TrafficSources implements TrafficSourcesPart {
  private readonly ctx: SimContext;
  /** Each group's target groups, attached or being removed, in the order they were attached. */
  private readonly attachments = new WeakMap<Group, Map<string, Attachment>>();

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  // ---------------------------------------------------------------- what the other parts use

  validateTargetGroups(arns: readonly string[]): void {
    const missing = arns.filter((arn) => !this.asg.elb.targetGroupExists(arn));
    if (missing.length > 0) {
      throw validationError(
        `Provided Target Groups may not be valid. Please ensure they exist and try again: ${missing.join(', ')}`,
      );
    }
  }

  trafficSourceArn(source: TrafficSourceIdentifier): string {
    // Only ELBv2 target groups are simulated; Type defaults to elbv2 for a target group ARN.
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TrafficSourceIdentifier.html
    const identifier = required(source.Identifier, 'trafficSources.member.identifier');
    if (source.Type !== undefined && source.Type !== 'elbv2') {
      throw validationError(`TrafficSources: the sandbox simulates only Type elbv2, got ${source.Type}`);
    }
    return identifier;
  }

  register(member: Member, arn: string): void {
    if (member.registered.has(arn)) return;
    member.registered.add(arn);
    this.asg.elb.register(arn, member.instanceId);
  }

  /**
   * Target groups named in CreateAutoScalingGroup are InService from the start: "Target groups also
   * have an InService state if you attach them in the CreateAutoScalingGroup API call."
   * (API_DescribeLoadBalancerTargetGroups; API_LoadBalancerTargetGroupState: "the target group
   * enters this state immediately".) The reference is silent on TrafficSources given there; the
   * sandbox treats them the same.
   */
  attachedAtCreation(group: Group): void {
    for (const arn of group.targetGroupArns) this.newAttachment(group, arn, 'InService');
  }

  /**
   * One step of the group's poll. Adding: Auto Scaling registers the instances already in service,
   * then the attachment is Added. Added: with ELB health checks on, it turns InService once a
   * registered instance passes the ELB health check; with EC2 health checks it stays Added.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/load-balancer-status.html
   * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeLoadBalancerTargetGroups.html
   */
  poll(group: Group): void {
    for (const attachment of [...this.of(group).values()]) {
      if (attachment.state === 'Adding') this.finishAdding(group, attachment);
      if (attachment.state === 'Added' && this.passedElbHealthCheck(group, attachment.arn)) {
        this.setState(group, attachment, 'InService');
      }
    }
  }

  needsPoll(group: Group): boolean {
    return [...this.of(group).values()].some(
      (attachment) =>
        attachment.state === 'Adding' ||
        (attachment.state === 'Added' &&
          group.healthCheckType === 'ELB' &&
          [...group.members.values()].some((member) => member.registered.has(attachment.arn))),
    );
  }

  /**
   * Whether Auto Scaling acts on this target group's health: "Amazon EC2 Auto Scaling can replace
   * instances that Elastic Load Balancing reports as unhealthy, but only after the load balancer is
   * in the InService state."
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-checks-overview.html#elastic-load-balancing-health-checks
   */
  inService(group: Group, arn: string): boolean {
    return this.of(group).get(arn)?.state === 'InService';
  }

  // ---------------------------------------------------------------- operations

  attachTargetGroups(input: AttachLoadBalancerTargetGroupsType): object {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    this.attach(group, required(input.TargetGroupARNs, 'targetGroupARNs'));
    return {};
  }

  detachTargetGroups(input: DetachLoadBalancerTargetGroupsType): object {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    this.detach(group, required(input.TargetGroupARNs, 'targetGroupARNs'));
    return {};
  }

  attachTrafficSources(input: AttachTrafficSourcesType): object {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    this.attach(
      group,
      required(input.TrafficSources, 'trafficSources').map((source) => this.trafficSourceArn(source)),
    );
    return {};
  }

  detachTrafficSources(input: DetachTrafficSourcesType): object {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    this.detach(
      group,
      required(input.TrafficSources, 'trafficSources').map((source) => this.trafficSourceArn(source)),
    );
    return {};
  }

  describeTargetGroups(
    input: DescribeLoadBalancerTargetGroupsRequest,
  ): DescribeLoadBalancerTargetGroupsResponse {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    return {
      LoadBalancerTargetGroups: [...this.of(group).values()].map((attachment) => ({
        LoadBalancerTargetGroupARN: attachment.arn,
        State: attachment.state,
      })),
    };
  }

  describeTrafficSources(input: DescribeTrafficSourcesRequest): DescribeTrafficSourcesResponse {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    // "If you provide a traffic source type, then the results only include that traffic source type."
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeTrafficSources.html
    if (input.TrafficSourceType !== undefined && input.TrafficSourceType !== 'elbv2') {
      return { TrafficSources: [] };
    }
    return {
      TrafficSources: [...this.of(group).values()].map((attachment) => ({
        TrafficSource: attachment.arn,
        Identifier: attachment.arn,
        Type: 'elbv2',
        State: attachment.state,
      })),
    };
  }

  // ---------------------------------------------------------------- helpers

  /**
   * "After you attach a load balancer, it enters the Adding state while registering the instances in
   * the group." The sandbox registers them on the group's next poll (see poll).
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/load-balancer-status.html
   */
  private attach(group: Group, arns: string[]): void {
    this.validateTargetGroups(arns);
    for (const arn of arns) {
      if (group.targetGroupArns.includes(arn)) continue;
      group.targetGroupArns.push(arn);
      // Attaching again while the last detach is still removing starts a new attachment.
      this.of(group).delete(arn);
      this.newAttachment(group, arn, 'Adding');
    }
    this.asg.health.armTick(group);
  }

  /**
   * "When you detach a traffic source, it enters the Removing state while deregistering the
   * instances in the group. When all instances are deregistered, then you can no longer describe the
   * traffic source using the DescribeTrafficSources API call. The instances continue to run." The
   * instances are deregistered once ELB has drained them (their in-flight requests, or the delay).
   * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DetachTrafficSources.html
   */
  private detach(group: Group, arns: string[]): void {
    for (const arn of arns) {
      const attachment = this.of(group).get(arn);
      if (!attachment || attachment.state === 'Removing') continue;
      group.targetGroupArns = group.targetGroupArns.filter((existing) => existing !== arn);
      this.setState(group, attachment, 'Removing');
      const registered = [...group.members.values()].filter((member) => member.registered.delete(arn));
      // Counted before deregistering: ELB may call back at once.
      attachment.deregistering = registered.length;
      if (registered.length === 0) this.removed(group, attachment);
      for (const member of registered) {
        this.asg.elb.deregister(arn, member.instanceId, () => {
          if (this.of(group).get(arn) !== attachment) return;
          attachment.deregistering -= 1;
          if (attachment.deregistering === 0) this.removed(group, attachment);
        });
      }
    }
  }

  private removed(group: Group, attachment: Attachment): void {
    this.setState(group, attachment, 'Removed');
    this.of(group).delete(attachment.arn);
  }

  /** Registers the instances in service (unless AddToLoadBalancer is suspended); Added once all are. */
  private finishAdding(group: Group, attachment: Attachment): void {
    const inService = [...group.members.values()].filter((member) => member.state === 'InService');
    if (!group.suspended.has('AddToLoadBalancer')) {
      for (const member of inService) this.register(member, attachment.arn);
    }
    if (inService.every((member) => member.registered.has(attachment.arn))) {
      this.setState(group, attachment, 'Added');
    }
  }

  private passedElbHealthCheck(group: Group, arn: string): boolean {
    if (group.healthCheckType !== 'ELB') return false;
    return [...group.members.values()].some(
      (member) => member.registered.has(arn) && this.asg.elb.health(arn, member.instanceId) === 'healthy',
    );
  }

  private newAttachment(group: Group, arn: string, state: AttachmentState): void {
    this.of(group).set(arn, { arn, state, deregistering: 0 });
    this.record(group, arn, null, state);
  }

  private setState(group: Group, attachment: Attachment, to: AttachmentState): void {
    this.record(group, attachment.arn, attachment.state, to);
    attachment.state = to;
  }

  private record(group: Group, arn: string, from: AttachmentState | null, to: AttachmentState): void {
    this.ctx.timeline.record({
      kind: 'state',
      resource: `autoscaling:${group.name}/traffic-source:${arn}`,
      from,
      to,
    });
  }

  private of(group: Group): Map<string, Attachment> {
    let attachments = this.attachments.get(group);
    if (!attachments) {
      attachments = new Map();
      this.attachments.set(group, attachments);
    }
    return attachments;
  }
}
