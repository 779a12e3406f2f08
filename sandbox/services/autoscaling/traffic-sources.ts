/**
 * The load balancer target groups (traffic sources) a group registers its instances with: attach,
 * detach, describe, and registration of instances as they reach InService.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html
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
import { required, validationError } from './errors';
import type { Group, Member } from './model';
import type { AutoScaling, TrafficSourcesPart } from './parts';

export class TrafficSources implements TrafficSourcesPart {
  constructor(private readonly asg: AutoScaling) {}

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
      LoadBalancerTargetGroups: group.targetGroupArns.map((arn) => ({
        LoadBalancerTargetGroupARN: arn,
        State: this.targetGroupState(group, arn),
      })),
    };
  }

  describeTrafficSources(input: DescribeTrafficSourcesRequest): DescribeTrafficSourcesResponse {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    return {
      TrafficSources: group.targetGroupArns.map((arn) => ({
        TrafficSource: arn,
        Identifier: arn,
        Type: 'elbv2',
        State: this.targetGroupState(group, arn),
      })),
    };
  }

  // ---------------------------------------------------------------- helpers

  private attach(group: Group, arns: string[]): void {
    this.validateTargetGroups(arns);
    for (const arn of arns) {
      if (group.targetGroupArns.includes(arn)) continue;
      group.targetGroupArns.push(arn);
      // Instances already in service are registered with a newly attached target group.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html
      if (group.suspended.has('AddToLoadBalancer')) continue;
      for (const member of group.members.values()) {
        if (member.state === 'InService') this.register(member, arn);
      }
    }
    this.asg.health.armTick(group);
  }

  private detach(group: Group, arns: string[]): void {
    for (const arn of arns) {
      group.targetGroupArns = group.targetGroupArns.filter((existing) => existing !== arn);
      for (const member of group.members.values()) {
        if (!member.registered.delete(arn)) continue;
        // Detaching deregisters the group's instances; they drain but are not terminated.
        this.asg.elb.deregister(arn, member.instanceId, () => undefined);
      }
    }
  }

  /** "Added" until one registered instance passes the target group's health check, then "InService". */
  private targetGroupState(group: Group, arn: string): string {
    const healthy = [...group.members.values()].some(
      (member) => this.asg.elb.health(arn, member.instanceId) === 'healthy',
    );
    return healthy ? 'InService' : 'Added';
  }
}
