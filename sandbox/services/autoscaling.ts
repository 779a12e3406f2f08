/**
 * The simulated Amazon EC2 Auto Scaling service: groups that hold their desired capacity, the
 * instance lifecycle with lifecycle hooks and load balancer draining, health-based replacement,
 * and instance refresh with checkpoints, alarms and rollback. Behaviour follows the Amazon EC2
 * Auto Scaling user guide and API reference; the rule beside each piece of code names its page.
 *
 * Time only moves through ctx.clock. Work that depends on something another service decides (EC2
 * boot, target health, draining) is driven by EC2's state-change callback, ELB's drain callback and
 * a per-group poll that runs only while a group has something to watch.
 */
import type {
  Activity,
  ActivitiesType,
  ActivityType,
  AttachLoadBalancerTargetGroupsType,
  AttachTrafficSourcesType,
  AutoScalingGroup,
  AutoScalingGroupNamesType,
  AutoScalingGroupsType,
  AutoScalingInstancesType,
  CancelInstanceRefreshAnswer,
  CancelInstanceRefreshType,
  CompleteLifecycleActionType,
  CreateAutoScalingGroupType,
  DeleteAutoScalingGroupType,
  DeleteLifecycleHookType,
  DescribeAutoScalingInstancesType,
  DescribeInstanceRefreshesAnswer,
  DescribeInstanceRefreshesType,
  DescribeLifecycleHooksAnswer,
  DescribeLifecycleHooksType,
  DescribeLoadBalancerTargetGroupsRequest,
  DescribeLoadBalancerTargetGroupsResponse,
  DescribeScalingActivitiesType,
  DescribeTrafficSourcesRequest,
  DescribeTrafficSourcesResponse,
  DetachLoadBalancerTargetGroupsType,
  DetachTrafficSourcesType,
  Instance,
  InstanceRefresh,
  LaunchTemplateSpecification,
  LifecycleHook,
  LifecycleHookSpecification,
  PutLifecycleHookType,
  RecordLifecycleActionHeartbeatType,
  RollbackInstanceRefreshAnswer,
  RollbackInstanceRefreshType,
  ScalingProcessQuery,
  SetDesiredCapacityType,
  SetInstanceProtectionQuery,
  StartInstanceRefreshAnswer,
  StartInstanceRefreshType,
  TerminateInstanceInAutoScalingGroupType,
  TrafficSourceIdentifier,
  UpdateAutoScalingGroupType,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext, SimService } from '../core/context';
import type { ElbFleet, Ec2Fleet, InstanceState, ResolvedLaunchTemplate, SimInstance } from './fleet';
import {
  alreadyExists,
  groupNotFound,
  irreversible,
  missingField,
  noActiveRefresh,
  refreshInProgress,
  resourceInUse,
  scalingActivityInProgress,
  validationError,
} from './autoscaling/errors';
import type {
  Group,
  Hook,
  LifecycleAction,
  Member,
  MemberState,
  Refresh,
  RefreshPass,
  RefreshStatus,
  ScalingProcess,
} from './autoscaling/model';
import { LAUNCHING, SCALING_PROCESSES, TERMINATING } from './autoscaling/model';
import { batchPlan, capBatch, checkpointTarget, resolvePreferences } from './autoscaling/refresh-rules';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AutoScalingSimOptions {
  /** Current state of a CloudWatch alarm (the CloudWatch sim provides it); unknown alarms never fire. */
  alarmState?: (alarmName: string) => AlarmState;
  /** How often a group re-reads target health and advances its refresh, in virtual seconds (default 10). */
  pollSeconds?: number;
  /** First retry delay after a failed launch, in virtual seconds; doubles up to 300 (default 10). */
  launchRetrySeconds?: number;
}

const SOURCE = 'aws.autoscaling';
const ACTIVE_REFRESH: readonly RefreshStatus[] = [
  'Pending',
  'InProgress',
  'Cancelling',
  'RollbackInProgress',
  'Baking',
];
const TERMINATING_STATES: readonly MemberState[] = [
  'Terminating',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Terminated',
];
// PutLifecycleHook: HeartbeatTimeout 30–7200 s, default 3600; DefaultResult defaults to ABANDON.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html
const DEFAULT_HEARTBEAT_SECONDS = 3600;
// GlobalTimeout: "172800 seconds (48 hours) or 100 times HeartbeatTimeout, whichever is smaller".
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LifecycleHook.html
const MAX_GLOBAL_TIMEOUT_SECONDS = 172800;
const HEALTH_CHECK_TYPES = ['EC2', 'ELB', 'VPC_LATTICE', 'EBS'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isTerminating(member: Member): boolean {
  return TERMINATING_STATES.includes(member.state);
}

function required<T>(value: T | undefined | null, field: string): T {
  if (value === undefined || value === null) throw missingField(field);
  return value;
}

function nonNegativeInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw validationError(`${field} must be a non-negative integer, got ${value}`);
  return value;
}

export class AutoScalingSim implements SimService {
  readonly serviceId = 'Auto Scaling';
  private readonly groups = new Map<string, Group>();
  /** instanceId → group name, for EC2's callbacks. */
  private readonly owners = new Map<string, string>();
  private readonly pollMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly ctx: SimContext,
    private readonly ec2: Ec2Fleet,
    private readonly elb: ElbFleet,
    private readonly options: AutoScalingSimOptions = {},
  ) {
    this.pollMs = (options.pollSeconds ?? 10) * 1000;
    this.retryMs = (options.launchRetrySeconds ?? 10) * 1000;
    ec2.onStateChange((instance, from, to) => this.onEc2StateChange(instance, from, to));
  }

  async handle(operation: string, input: unknown): Promise<object> {
    switch (operation) {
      case 'CreateAutoScalingGroup':
        return this.createGroup(input as CreateAutoScalingGroupType);
      case 'UpdateAutoScalingGroup':
        return this.updateGroup(input as UpdateAutoScalingGroupType);
      case 'DeleteAutoScalingGroup':
        return this.deleteGroup(input as DeleteAutoScalingGroupType);
      case 'DescribeAutoScalingGroups':
        return this.describeGroups(input as AutoScalingGroupNamesType);
      case 'DescribeAutoScalingInstances':
        return this.describeInstances(input as DescribeAutoScalingInstancesType);
      case 'SetDesiredCapacity':
        return this.setDesiredCapacity(input as SetDesiredCapacityType);
      case 'AttachLoadBalancerTargetGroups':
        return this.attachTargetGroups(input as AttachLoadBalancerTargetGroupsType);
      case 'DetachLoadBalancerTargetGroups':
        return this.detachTargetGroups(input as DetachLoadBalancerTargetGroupsType);
      case 'DescribeLoadBalancerTargetGroups':
        return this.describeTargetGroups(input as DescribeLoadBalancerTargetGroupsRequest);
      case 'AttachTrafficSources':
        return this.attachTrafficSources(input as AttachTrafficSourcesType);
      case 'DetachTrafficSources':
        return this.detachTrafficSources(input as DetachTrafficSourcesType);
      case 'DescribeTrafficSources':
        return this.describeTrafficSources(input as DescribeTrafficSourcesRequest);
      case 'SuspendProcesses':
        return this.suspendProcesses(input as ScalingProcessQuery);
      case 'ResumeProcesses':
        return this.resumeProcesses(input as ScalingProcessQuery);
      case 'DescribeScalingActivities':
        return this.describeActivities(input as DescribeScalingActivitiesType);
      case 'TerminateInstanceInAutoScalingGroup':
        return this.terminateInstanceInGroup(input as TerminateInstanceInAutoScalingGroupType);
      case 'SetInstanceProtection':
        return this.setInstanceProtection(input as SetInstanceProtectionQuery);
      case 'PutLifecycleHook':
        return this.putHook(input as PutLifecycleHookType);
      case 'DescribeLifecycleHooks':
        return this.describeHooks(input as DescribeLifecycleHooksType);
      case 'DeleteLifecycleHook':
        return this.deleteHook(input as DeleteLifecycleHookType);
      case 'CompleteLifecycleAction':
        return this.completeLifecycleAction(input as CompleteLifecycleActionType);
      case 'RecordLifecycleActionHeartbeat':
        return this.recordHeartbeat(input as RecordLifecycleActionHeartbeatType);
      case 'StartInstanceRefresh':
        return this.startRefresh(input as StartInstanceRefreshType);
      case 'DescribeInstanceRefreshes':
        return this.describeRefreshes(input as DescribeInstanceRefreshesType);
      case 'CancelInstanceRefresh':
        return this.cancelRefresh(input as CancelInstanceRefreshType);
      case 'RollbackInstanceRefresh':
        return this.rollbackRefresh(input as RollbackInstanceRefreshType);
      default:
        throw validationError(`The sandbox does not simulate Auto Scaling operation ${operation}`);
    }
  }

  // ---------------------------------------------------------------- groups

  private getGroup(name: string | undefined): Group {
    const groupName = required(name, 'autoScalingGroupName');
    const group = this.groups.get(groupName);
    if (!group || (group.deleting && group.members.size === 0)) throw groupNotFound(groupName);
    return group;
  }

  /** Resolves a launch template reference, turning EC2's error into the ValidationError Auto Scaling returns. */
  private resolveTemplate(spec: LaunchTemplateSpecification, field: string): ResolvedLaunchTemplate {
    const hasId = spec.LaunchTemplateId !== undefined;
    const hasName = spec.LaunchTemplateName !== undefined;
    if (hasId === hasName) {
      throw validationError(
        `${field}: Valid requests must contain either launchTemplateId or LaunchTemplateName`,
      );
    }
    try {
      return this.ec2.resolveLaunchTemplate({
        ...(spec.LaunchTemplateId !== undefined ? { launchTemplateId: spec.LaunchTemplateId } : {}),
        ...(spec.LaunchTemplateName !== undefined ? { launchTemplateName: spec.LaunchTemplateName } : {}),
        ...(spec.Version !== undefined ? { version: spec.Version } : {}),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw validationError(`You must use a valid fully-formed launch template. ${reason}`);
    }
  }

  private validateSizes(min: number, max: number, desired: number): void {
    // Min ≤ desired ≤ max: https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-capacity-limits.html
    if (min > max)
      throw validationError(`Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
    if (desired < min || desired > max) {
      throw validationError(
        `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
      );
    }
  }

  private validateTargetGroups(arns: readonly string[]): void {
    const missing = arns.filter((arn) => !this.elb.targetGroupExists(arn));
    if (missing.length > 0) {
      throw validationError(
        `Provided Target Groups may not be valid. Please ensure they exist and try again: ${missing.join(', ')}`,
      );
    }
  }

  private validateHealthCheckType(type: string): string {
    if (!HEALTH_CHECK_TYPES.includes(type)) {
      throw validationError(`HealthCheckType must be one of ${HEALTH_CHECK_TYPES.join(', ')}, got ${type}`);
    }
    return type;
  }

  private createGroup(input: CreateAutoScalingGroupType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
    const name = required(input.AutoScalingGroupName, 'autoScalingGroupName');
    if (name.length < 1 || name.length > 255)
      throw validationError('AutoScalingGroupName must be 1 to 255 characters');
    const sources = [
      input.LaunchTemplate,
      input.LaunchConfigurationName,
      input.InstanceId,
      input.MixedInstancesPolicy,
    ];
    if (sources.filter((source) => source !== undefined).length !== 1) {
      throw validationError(
        'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
      );
    }
    if (input.LaunchTemplate === undefined) {
      throw validationError('The sandbox supports only LaunchTemplate as the launch source of a group');
    }
    const minSize = nonNegativeInt(required(input.MinSize, 'minSize'), 'MinSize');
    const maxSize = nonNegativeInt(required(input.MaxSize, 'maxSize'), 'MaxSize');
    // Without DesiredCapacity the group starts at MinSize (API_CreateAutoScalingGroup, DesiredCapacity).
    const desired = nonNegativeInt(input.DesiredCapacity ?? minSize, 'DesiredCapacity');
    this.validateSizes(minSize, maxSize, desired);
    if (this.groups.has(name)) throw alreadyExists(name);
    const resolved = this.resolveTemplate(input.LaunchTemplate, 'LaunchTemplate');
    const subnets = (input.VPCZoneIdentifier ?? '')
      .split(',')
      .map((subnet) => subnet.trim())
      .filter((subnet) => subnet.length > 0);
    const availabilityZones = input.AvailabilityZones ?? [];
    if (subnets.length === 0 && availabilityZones.length === 0) {
      throw validationError('At least one Availability Zone or VPC Subnet is required.');
    }
    const targetGroupArns = [
      ...(input.TargetGroupARNs ?? []),
      ...(input.TrafficSources ?? []).map((source) => this.trafficSourceArn(source)),
    ];
    this.validateTargetGroups(targetGroupArns);
    const healthCheckType = this.validateHealthCheckType(input.HealthCheckType ?? 'EC2');
    const hooks = new Map<string, Hook>();
    for (const spec of input.LifecycleHookSpecificationList ?? []) {
      const hook = this.buildHook(spec.LifecycleHookName, spec, undefined);
      hooks.set(hook.name, hook);
    }
    const group: Group = {
      name,
      arn: `arn:aws:autoscaling:${this.ctx.region}:${this.ctx.accountId}:autoScalingGroup:${this.ctx.ids.uuid()}:autoScalingGroupName/${name}`,
      createdTime: this.ctx.clock.now(),
      launchTemplate: { ...input.LaunchTemplate },
      launchTemplateId: resolved.launchTemplateId,
      launchTemplateName: resolved.launchTemplateName,
      minSize,
      maxSize,
      desired,
      defaultCooldown: input.DefaultCooldown ?? 300,
      availabilityZones,
      subnets,
      healthCheckType,
      // The SDK/CLI default grace period is 0 (the console's is 300).
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html
      healthCheckGracePeriod: nonNegativeInt(input.HealthCheckGracePeriod ?? 0, 'HealthCheckGracePeriod'),
      ...(input.DefaultInstanceWarmup !== undefined
        ? { defaultInstanceWarmup: input.DefaultInstanceWarmup }
        : {}),
      targetGroupArns: [...new Set(targetGroupArns)],
      terminationPolicies: input.TerminationPolicies ?? ['Default'],
      newInstancesProtectedFromScaleIn: input.NewInstancesProtectedFromScaleIn ?? false,
      tags: (input.Tags ?? []).map((tag) => ({
        ResourceId: name,
        ResourceType: 'auto-scaling-group',
        Key: tag.Key,
        Value: tag.Value ?? '',
        PropagateAtLaunch: tag.PropagateAtLaunch ?? false,
      })),
      suspended: new Set(),
      members: new Map(),
      hooks,
      refreshes: [],
      activities: [],
      deleting: false,
      launchFailures: 0,
    };
    this.groups.set(name, group);
    this.ctx.timeline.record({ kind: 'state', resource: `autoscaling:${name}`, from: null, to: 'Active' });
    this.reconcile(
      group,
      `a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}`,
    );
    return {};
  }

  private updateGroup(input: UpdateAutoScalingGroupType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html
    const group = this.getGroup(input.AutoScalingGroupName);
    const active = this.activeRefresh(group);
    if (input.LaunchTemplate !== undefined && active?.desiredConfiguration !== undefined) {
      throw validationError(
        'An active instance refresh with a desired configuration exists. All configuration options derived from the desired configuration are not available for update while the instance refresh is active.',
      );
    }
    const minSize = input.MinSize !== undefined ? nonNegativeInt(input.MinSize, 'MinSize') : group.minSize;
    const maxSize = input.MaxSize !== undefined ? nonNegativeInt(input.MaxSize, 'MaxSize') : group.maxSize;
    let desired = group.desired;
    if (input.DesiredCapacity !== undefined) {
      desired = nonNegativeInt(input.DesiredCapacity, 'DesiredCapacity');
    } else {
      // A new MinSize above the current size raises desired to it; a new MaxSize below lowers it.
      if (input.MinSize !== undefined && minSize > desired) desired = minSize;
      if (input.MaxSize !== undefined && maxSize < desired) desired = maxSize;
    }
    this.validateSizes(minSize, maxSize, desired);
    const resolved = input.LaunchTemplate
      ? this.resolveTemplate(input.LaunchTemplate, 'LaunchTemplate')
      : undefined;
    const healthCheckType =
      input.HealthCheckType !== undefined
        ? this.validateHealthCheckType(input.HealthCheckType)
        : group.healthCheckType;
    if (input.LaunchTemplate && resolved) {
      group.launchTemplate = { ...input.LaunchTemplate };
      group.launchTemplateId = resolved.launchTemplateId;
      group.launchTemplateName = resolved.launchTemplateName;
    }
    if (input.VPCZoneIdentifier !== undefined) {
      group.subnets = input.VPCZoneIdentifier.split(',')
        .map((subnet) => subnet.trim())
        .filter((subnet) => subnet.length > 0);
    }
    if (input.AvailabilityZones !== undefined) group.availabilityZones = input.AvailabilityZones;
    if (input.HealthCheckGracePeriod !== undefined) {
      group.healthCheckGracePeriod = nonNegativeInt(input.HealthCheckGracePeriod, 'HealthCheckGracePeriod');
    }
    if (input.DefaultInstanceWarmup !== undefined) group.defaultInstanceWarmup = input.DefaultInstanceWarmup;
    if (input.DefaultCooldown !== undefined) group.defaultCooldown = input.DefaultCooldown;
    if (input.TerminationPolicies !== undefined) group.terminationPolicies = input.TerminationPolicies;
    if (input.NewInstancesProtectedFromScaleIn !== undefined) {
      group.newInstancesProtectedFromScaleIn = input.NewInstancesProtectedFromScaleIn;
    }
    group.healthCheckType = healthCheckType;
    const before = group.desired;
    group.minSize = minSize;
    group.maxSize = maxSize;
    group.desired = desired;
    this.reconcile(
      group,
      `a user request update of AutoScalingGroup constraints changed the desired capacity from ${before} to ${desired}`,
    );
    this.armTick(group);
    return {};
  }

  private deleteGroup(input: DeleteAutoScalingGroupType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html
    const group = this.getGroup(input.AutoScalingGroupName);
    if (group.deleting) return {};
    if (!input.ForceDelete && group.members.size > 0) {
      const busy = [...group.members.values()].some((member) => member.state !== 'InService');
      if (busy) {
        throw scalingActivityInProgress(
          'You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.',
        );
      }
      throw resourceInUse(
        'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.',
      );
    }
    group.deleting = true;
    for (const refresh of group.refreshes) {
      if (ACTIVE_REFRESH.includes(refresh.status)) this.setRefreshStatus(group, refresh, 'Cancelled');
    }
    // ForceDelete "deletes the group along with all instances ... without waiting for all instances to be
    // terminated"; outstanding lifecycle actions are dropped.
    for (const member of [...group.members.values()]) {
      this.clearActions(member);
      for (const arn of member.registered) this.elb.deregister(arn, member.instanceId, () => undefined);
      member.registered.clear();
      if (member.state !== 'Terminating:Proceed') this.setState(group, member, 'Terminating:Proceed');
      this.terminateEc2(group, member);
    }
    this.removeGroupIfEmpty(group);
    return {};
  }

  private removeGroupIfEmpty(group: Group): void {
    if (!group.deleting || group.members.size > 0) return;
    if (group.tickTimer) this.ctx.clock.clearTimeout(group.tickTimer);
    if (group.retryTimer) this.ctx.clock.clearTimeout(group.retryTimer);
    this.groups.delete(group.name);
    this.ctx.timeline.record({
      kind: 'state',
      resource: `autoscaling:${group.name}`,
      from: 'Active',
      to: 'Deleted',
    });
  }

  private describeGroups(input: AutoScalingGroupNamesType): AutoScalingGroupsType {
    const names = input.AutoScalingGroupNames;
    const all = [...this.groups.values()].filter(
      (group) => !names || names.length === 0 || names.includes(group.name),
    );
    const pageSize = Math.min(Math.max(input.MaxRecords ?? 50, 1), 100);
    const start = input.NextToken !== undefined ? Number.parseInt(input.NextToken, 10) : 0;
    if (!Number.isInteger(start) || start < 0) throw validationError('NextToken is invalid');
    const page = all.slice(start, start + pageSize);
    const next = start + pageSize < all.length ? String(start + pageSize) : undefined;
    return {
      AutoScalingGroups: page.map((group) => this.groupView(group)),
      ...(next ? { NextToken: next } : {}),
    };
  }

  private groupView(group: Group): AutoScalingGroup {
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      LaunchTemplate: {
        LaunchTemplateId: group.launchTemplateId,
        LaunchTemplateName: group.launchTemplateName,
        ...(group.launchTemplate.Version !== undefined ? { Version: group.launchTemplate.Version } : {}),
      },
      MinSize: group.minSize,
      MaxSize: group.maxSize,
      DesiredCapacity: group.desired,
      DefaultCooldown: group.defaultCooldown,
      AvailabilityZones: this.zonesOf(group),
      LoadBalancerNames: [],
      TargetGroupARNs: [...group.targetGroupArns],
      HealthCheckType: group.healthCheckType,
      HealthCheckGracePeriod: group.healthCheckGracePeriod,
      Instances: [...group.members.values()].map((member) => this.instanceView(member)),
      CreatedTime: new Date(group.createdTime),
      SuspendedProcesses: [...group.suspended].map((process) => ({
        ProcessName: process,
        SuspensionReason: `User suspended at ${iso(group.createdTime)}`,
      })),
      ...(group.subnets.length > 0 ? { VPCZoneIdentifier: group.subnets.join(',') } : {}),
      EnabledMetrics: [],
      Tags: group.tags.map((tag) => ({ ...tag })),
      TerminationPolicies: [...group.terminationPolicies],
      NewInstancesProtectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
      ServiceLinkedRoleARN: `arn:aws:iam::${this.ctx.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      CapacityRebalance: false,
      TrafficSources: group.targetGroupArns.map((arn) => ({ Identifier: arn, Type: 'elbv2' })),
      ...(group.defaultInstanceWarmup !== undefined
        ? { DefaultInstanceWarmup: group.defaultInstanceWarmup }
        : {}),
      ...(group.deleting ? { Status: 'Delete in progress' } : {}),
    };
  }

  private zonesOf(group: Group): string[] {
    if (group.availabilityZones.length > 0) return [...group.availabilityZones];
    return [...new Set([...group.members.values()].map((member) => member.availabilityZone))];
  }

  private instanceView(member: Member): Instance {
    return {
      InstanceId: member.instanceId,
      InstanceType: member.instanceType,
      AvailabilityZone: member.availabilityZone,
      LifecycleState: member.state,
      HealthStatus: member.health,
      LaunchTemplate: {
        LaunchTemplateId: member.launchTemplate.id,
        LaunchTemplateName: member.launchTemplate.name,
        Version: String(member.launchTemplate.version),
      },
      ProtectedFromScaleIn: member.protectedFromScaleIn,
    };
  }

  private describeInstances(input: DescribeAutoScalingInstancesType): AutoScalingInstancesType {
    const ids = input.InstanceIds;
    const rows = [];
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        if (ids && ids.length > 0 && !ids.includes(member.instanceId)) continue;
        const view = this.instanceView(member);
        rows.push({ ...view, AutoScalingGroupName: group.name, HealthStatus: member.health.toUpperCase() });
      }
    }
    return { AutoScalingInstances: rows };
  }

  private setDesiredCapacity(input: SetDesiredCapacityType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html
    const group = this.getGroup(input.AutoScalingGroupName);
    const desired = nonNegativeInt(required(input.DesiredCapacity, 'desiredCapacity'), 'DesiredCapacity');
    if (desired < group.minSize) {
      throw validationError(
        `New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`,
      );
    }
    if (desired > group.maxSize) {
      throw validationError(
        `New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`,
      );
    }
    const before = group.desired;
    group.desired = desired;
    this.reconcile(
      group,
      `a user request explicitly set group desired capacity changing the desired capacity from ${before} to ${desired}`,
    );
    return {};
  }

  // ---------------------------------------------------------------- load balancing

  private trafficSourceArn(source: TrafficSourceIdentifier): string {
    // Only ELBv2 target groups are simulated; Type defaults to elbv2 for a target group ARN.
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TrafficSourceIdentifier.html
    const identifier = required(source.Identifier, 'trafficSources.member.identifier');
    if (source.Type !== undefined && source.Type !== 'elbv2') {
      throw validationError(`TrafficSources: the sandbox simulates only Type elbv2, got ${source.Type}`);
    }
    return identifier;
  }

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
    this.armTick(group);
  }

  private detach(group: Group, arns: string[]): void {
    for (const arn of arns) {
      group.targetGroupArns = group.targetGroupArns.filter((existing) => existing !== arn);
      for (const member of group.members.values()) {
        if (!member.registered.delete(arn)) continue;
        // Detaching deregisters the group's instances; they drain but are not terminated.
        this.elb.deregister(arn, member.instanceId, () => undefined);
      }
    }
  }

  private attachTargetGroups(input: AttachLoadBalancerTargetGroupsType): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    this.attach(group, required(input.TargetGroupARNs, 'targetGroupARNs'));
    return {};
  }

  private detachTargetGroups(input: DetachLoadBalancerTargetGroupsType): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    this.detach(group, required(input.TargetGroupARNs, 'targetGroupARNs'));
    return {};
  }

  private attachTrafficSources(input: AttachTrafficSourcesType): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    this.attach(
      group,
      required(input.TrafficSources, 'trafficSources').map((source) => this.trafficSourceArn(source)),
    );
    return {};
  }

  private detachTrafficSources(input: DetachTrafficSourcesType): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    this.detach(
      group,
      required(input.TrafficSources, 'trafficSources').map((source) => this.trafficSourceArn(source)),
    );
    return {};
  }

  private describeTargetGroups(
    input: DescribeLoadBalancerTargetGroupsRequest,
  ): DescribeLoadBalancerTargetGroupsResponse {
    const group = this.getGroup(input.AutoScalingGroupName);
    return {
      LoadBalancerTargetGroups: group.targetGroupArns.map((arn) => ({
        LoadBalancerTargetGroupARN: arn,
        State: this.targetGroupState(group, arn),
      })),
    };
  }

  private describeTrafficSources(input: DescribeTrafficSourcesRequest): DescribeTrafficSourcesResponse {
    const group = this.getGroup(input.AutoScalingGroupName);
    return {
      TrafficSources: group.targetGroupArns.map((arn) => ({
        TrafficSource: arn,
        Identifier: arn,
        Type: 'elbv2',
        State: this.targetGroupState(group, arn),
      })),
    };
  }

  /** "Added" until one registered instance passes the target group's health check, then "InService". */
  private targetGroupState(group: Group, arn: string): string {
    const healthy = [...group.members.values()].some(
      (member) => this.elb.health(arn, member.instanceId) === 'healthy',
    );
    return healthy ? 'InService' : 'Added';
  }

  private register(member: Member, arn: string): void {
    if (member.registered.has(arn)) return;
    member.registered.add(arn);
    this.elb.register(arn, member.instanceId);
  }

  // ---------------------------------------------------------------- processes and activities

  private processesOf(input: ScalingProcessQuery): ScalingProcess[] {
    const requested = input.ScalingProcesses ?? [];
    // An empty list means every process. https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SuspendProcesses.html
    if (requested.length === 0) return [...SCALING_PROCESSES];
    return requested.map((name) => {
      const known = SCALING_PROCESSES.find((process) => process === name);
      if (!known)
        throw validationError(
          `ScalingProcesses: unknown process ${name}; valid: ${SCALING_PROCESSES.join(', ')}`,
        );
      return known;
    });
  }

  private suspendProcesses(input: ScalingProcessQuery): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    for (const process of this.processesOf(input)) group.suspended.add(process);
    return {};
  }

  private resumeProcesses(input: ScalingProcessQuery): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    const resumed = this.processesOf(input);
    for (const process of resumed) group.suspended.delete(process);
    // Instances launched while AddToLoadBalancer was suspended are registered when it resumes.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
    if (resumed.includes('AddToLoadBalancer')) {
      for (const member of group.members.values()) {
        if (member.state !== 'InService') continue;
        for (const arn of group.targetGroupArns) this.register(member, arn);
      }
    }
    this.reconcile(group, 'processes resumed');
    this.armTick(group);
    for (const refresh of group.refreshes)
      if (ACTIVE_REFRESH.includes(refresh.status)) this.stepRefresh(group, refresh);
    return {};
  }

  private newActivity(
    group: Group,
    description: string,
    cause: string,
    member?: { az: string; subnet: string },
  ): Activity {
    const now = this.ctx.clock.now();
    const activity: Activity = {
      ActivityId: this.ctx.ids.uuid(),
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      Description: description,
      Cause: `At ${iso(now).replace(/\.\d{3}Z$/, 'Z')} ${cause}.`,
      StartTime: new Date(now),
      StatusCode: 'InProgress',
      Progress: 0,
      Details: JSON.stringify(member ? { 'Subnet ID': member.subnet, 'Availability Zone': member.az } : {}),
    };
    group.activities.unshift(activity);
    return activity;
  }

  private endActivity(
    activity: Activity,
    status: 'Successful' | 'Failed' | 'Cancelled',
    message?: string,
  ): void {
    activity.StatusCode = status;
    activity.Progress = 100;
    activity.EndTime = new Date(this.ctx.clock.now());
    if (message !== undefined) activity.StatusMessage = message;
  }

  private describeActivities(input: DescribeScalingActivitiesType): ActivitiesType {
    const groups = input.AutoScalingGroupName
      ? [this.getGroup(input.AutoScalingGroupName)]
      : [...this.groups.values()];
    let activities = groups.flatMap((group) => group.activities);
    if (input.ActivityIds && input.ActivityIds.length > 0) {
      const wanted = input.ActivityIds;
      activities = activities.filter(
        (activity) => activity.ActivityId !== undefined && wanted.includes(activity.ActivityId),
      );
    }
    const pageSize = Math.min(Math.max(input.MaxRecords ?? 100, 1), 100);
    const start = input.NextToken !== undefined ? Number.parseInt(input.NextToken, 10) : 0;
    const page = activities.slice(start, start + pageSize).map((activity) => ({ ...activity }));
    const next = start + pageSize < activities.length ? String(start + pageSize) : undefined;
    return { Activities: page, ...(next ? { NextToken: next } : {}) };
  }

  // ---------------------------------------------------------------- capacity

  private countsTowardCapacity(member: Member): boolean {
    return !isTerminating(member);
  }

  /** Launches or terminates until the group holds desired capacity (plus a refresh's launch-first surge). */
  private reconcile(group: Group, cause: string): void {
    if (group.deleting) return;
    const refresh = this.activeRefresh(group);
    const surge = refresh ? this.currentPass(refresh).surge : 0;
    const target = group.desired + surge;
    const active = [...group.members.values()].filter((member) => this.countsTowardCapacity(member));
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
        this.beginTerminate(
          group,
          victim,
          `an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${active.length} to ${target}; ${cause}`,
        );
      }
    }
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
        const stale = Number(this.matches(a, current)) - Number(this.matches(b, current));
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

  private matches(member: Member, template: ResolvedLaunchTemplate | undefined): boolean {
    return (
      template !== undefined &&
      member.launchTemplate.id === template.launchTemplateId &&
      member.launchTemplate.version === template.version
    );
  }

  /** The configuration new instances launch with: a running refresh's desired one, else the group's. */
  private launchSpec(group: Group): ResolvedLaunchTemplate | undefined {
    const refresh = this.activeRefresh(group);
    if (
      refresh &&
      (refresh.status === 'InProgress' || refresh.status === 'Pending' || refresh.status === 'Baking')
    ) {
      return refresh.forward.target;
    }
    try {
      return this.resolveTemplate(group.launchTemplate, 'LaunchTemplate');
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
      template = this.launchSpec(group) ?? this.resolveTemplate(group.launchTemplate, 'LaunchTemplate');
      const tags: Record<string, string> = { 'aws:autoscaling:groupName': group.name };
      for (const tag of group.tags) if (tag.PropagateAtLaunch && tag.Key) tags[tag.Key] = tag.Value ?? '';
      instance = this.ec2.launch({ launchTemplate: template, subnetId, tags: { ...template.tags, ...tags } });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const activity = this.newActivity(
        group,
        'Launching a new EC2 instance.  Status Reason: ' + message,
        cause,
      );
      this.endActivity(activity, 'Failed', message);
      this.emitInstanceEvent(group, 'EC2 Instance Launch Unsuccessful', activity, undefined, {
        az: '',
        subnet: subnetId,
        origin: 'EC2',
        destination: 'AutoScalingGroup',
      });
      this.scheduleLaunchRetry(group);
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
      activity: this.newActivity(group, `Launching a new EC2 instance: ${instance.instanceId}`, cause, {
        az: instance.availabilityZone,
        subnet: instance.subnetId,
      }),
    };
    group.members.set(member.instanceId, member);
    this.owners.set(member.instanceId, group.name);
    this.ctx.timeline.record({
      kind: 'state',
      resource: this.resourceOf(group, member),
      from: null,
      to: 'Pending',
    });
    // EC2 may already have moved the instance on (zero boot time or an immediate boot failure).
    const now = this.ec2.get(member.instanceId);
    if (now?.state === 'running') this.onRunning(group, member);
    else if (now?.state === 'terminated' || now?.state === 'shutting-down') this.onEc2Gone(group, member);
    return true;
  }

  private scheduleLaunchRetry(group: Group): void {
    if (group.retryTimer !== undefined) return;
    // Failed launches are retried with a growing delay, as Auto Scaling backs off.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/CHAP_Troubleshooting.html
    const delay = Math.min(this.retryMs * 2 ** group.launchFailures, 300_000);
    group.launchFailures += 1;
    group.retryTimer = this.ctx.clock.setTimeout(() => {
      delete group.retryTimer;
      this.reconcile(group, 'retrying a failed launch');
    }, delay);
  }

  // ---------------------------------------------------------------- instance lifecycle

  private resourceOf(group: Group, member: Member): string {
    return `autoscaling:${group.name}/${member.instanceId}`;
  }

  private setState(group: Group, member: Member, to: MemberState): void {
    if (member.state === to) return;
    this.ctx.timeline.record({
      kind: 'state',
      resource: this.resourceOf(group, member),
      from: member.state,
      to,
    });
    member.state = to;
  }

  private onEc2StateChange(instance: SimInstance, _from: InstanceState | null, to: InstanceState): void {
    const groupName = this.owners.get(instance.instanceId);
    const group = groupName !== undefined ? this.groups.get(groupName) : undefined;
    const member = group?.members.get(instance.instanceId);
    if (!group || !member) return;
    if (to === 'running' && member.state === 'Pending') this.onRunning(group, member);
    else if (to === 'terminated') this.onEc2Gone(group, member);
    else if (
      (to === 'stopping' || to === 'stopped' || to === 'shutting-down') &&
      member.state === 'InService'
    ) {
      this.checkHealth(group);
    }
  }

  /** The instance booted: wait on launch hooks (Pending:Wait) or proceed. */
  private onRunning(group: Group, member: Member): void {
    const hooks = [...group.hooks.values()].filter((hook) => hook.transition === LAUNCHING);
    if (hooks.length === 0) {
      this.proceedLaunch(group, member);
      return;
    }
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html (steps 1–2)
    this.setState(group, member, 'Pending:Wait');
    member.activity.StatusCode = 'MidLifecycleAction';
    for (const hook of hooks) this.openAction(group, member, hook);
  }

  /** Pending:Proceed → register with target groups → InService (or terminate after ABANDON). */
  private proceedLaunch(group: Group, member: Member): void {
    if (member.abandoned) {
      // An ABANDONed launch terminates the instance.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html
      const token = [...member.actions.keys()][0] ?? '';
      const message = `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ${token} was abandoned: Lifecycle Action Completed with ABANDON Result`;
      this.endActivity(member.activity, 'Cancelled', message);
      this.emitInstanceEvent(group, 'EC2 Instance Launch Unsuccessful', member.activity, member, {
        origin: 'EC2',
        destination: 'AutoScalingGroup',
      });
      this.setState(group, member, 'Terminating:Proceed');
      member.activity = this.newActivity(
        group,
        `Terminating EC2 instance: ${member.instanceId}`,
        `instance ${member.instanceId} was taken out of service because its launch lifecycle action was abandoned`,
        { az: member.availabilityZone, subnet: member.subnetId },
      );
      this.terminateEc2(group, member);
      return;
    }
    if (member.state === 'Pending:Wait') this.setState(group, member, 'Pending:Proceed');
    // Instances are registered with the load balancer before they reach InService (lifecycle-hooks-overview, step 3).
    if (!group.suspended.has('AddToLoadBalancer')) {
      for (const arn of group.targetGroupArns) this.register(member, arn);
    }
    this.setState(group, member, 'InService');
    member.inServiceAt = this.ctx.clock.now();
    group.launchFailures = 0;
    this.endActivity(member.activity, 'Successful');
    this.emitInstanceEvent(group, 'EC2 Instance Launch Successful', member.activity, member, {
      origin: 'EC2',
      destination: 'AutoScalingGroup',
    });
    const refresh = this.activeRefresh(group);
    if (refresh) {
      const warmup = refresh.preferences.InstanceWarmup * 1000;
      member.warmupTimer = this.ctx.clock.setTimeout(() => this.stepRefresh(group, refresh), warmup);
      this.stepRefresh(group, refresh);
    }
    this.armTick(group);
  }

  /**
   * Terminating: deregister from every target group and wait for draining, then Terminating:Wait on
   * terminate hooks, then Terminating:Proceed. The load balancer drains before the hook runs.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html (steps 4–5)
   */
  private beginTerminate(group: Group, member: Member, cause: string): Activity {
    if (isTerminating(member)) return member.activity;
    this.clearActions(member);
    if (member.warmupTimer) this.ctx.clock.clearTimeout(member.warmupTimer);
    if (member.activity.StatusCode !== 'Successful' && member.activity.StatusCode !== 'Failed') {
      this.endActivity(member.activity, 'Cancelled');
    }
    this.setState(group, member, 'Terminating');
    member.activity = this.newActivity(group, `Terminating EC2 instance: ${member.instanceId}`, cause, {
      az: member.availabilityZone,
      subnet: member.subnetId,
    });
    const registered = [...member.registered];
    member.registered.clear();
    if (registered.length === 0) {
      this.afterDrain(group, member);
      return member.activity;
    }
    member.activity.StatusCode = 'WaitingForELBConnectionDraining';
    let left = registered.length;
    for (const arn of registered) {
      this.elb.deregister(arn, member.instanceId, () => {
        left -= 1;
        if (left === 0) this.afterDrain(group, member);
      });
    }
    return member.activity;
  }

  private afterDrain(group: Group, member: Member): void {
    if (member.state !== 'Terminating') return;
    member.activity.StatusCode = 'InProgress';
    const hooks = [...group.hooks.values()].filter((hook) => hook.transition === TERMINATING);
    if (hooks.length === 0) {
      this.proceedTerminate(group, member);
      return;
    }
    this.setState(group, member, 'Terminating:Wait');
    member.activity.StatusCode = 'MidLifecycleAction';
    for (const hook of hooks) this.openAction(group, member, hook);
  }

  private proceedTerminate(group: Group, member: Member): void {
    this.setState(group, member, 'Terminating:Proceed');
    member.activity.StatusCode = 'InProgress';
    this.terminateEc2(group, member);
  }

  private terminateEc2(group: Group, member: Member): void {
    const instance = this.ec2.get(member.instanceId);
    if (!instance || instance.state === 'terminated') {
      this.onEc2Gone(group, member);
      return;
    }
    if (instance.state !== 'shutting-down') this.ec2.terminate(member.instanceId);
    if (this.ec2.get(member.instanceId)?.state === 'terminated') this.onEc2Gone(group, member);
  }

  /** EC2 reports the instance terminated: finish a termination we started, or notice one we did not. */
  private onEc2Gone(group: Group, member: Member): void {
    if (!group.members.has(member.instanceId)) return;
    this.clearActions(member);
    if (member.warmupTimer) this.ctx.clock.clearTimeout(member.warmupTimer);
    const wasPending =
      member.state === 'Pending' || member.state === 'Pending:Wait' || member.state === 'Pending:Proceed';
    if (wasPending) {
      const message =
        'Instance became unhealthy while waiting for instance to be in InService state. Termination Reason: Client.InternalError: Client error on launch';
      this.endActivity(member.activity, 'Failed', message);
      this.emitInstanceEvent(group, 'EC2 Instance Launch Unsuccessful', member.activity, member, {
        origin: 'EC2',
        destination: 'AutoScalingGroup',
      });
      this.scheduleLaunchRetry(group);
    } else {
      if (!isTerminating(member)) {
        // Terminated behind the group's back: it is unhealthy and gets replaced (healthcheck.html).
        member.health = 'Unhealthy';
        member.activity = this.newActivity(
          group,
          `Terminating EC2 instance: ${member.instanceId}`,
          `an instance was taken out of service in response to an EC2 instance status check failure`,
          { az: member.availabilityZone, subnet: member.subnetId },
        );
      }
      this.endActivity(member.activity, 'Successful');
      this.emitInstanceEvent(group, 'EC2 Instance Terminate Successful', member.activity, member, {
        origin: 'AutoScalingGroup',
        destination: 'EC2',
      });
    }
    for (const arn of member.registered) this.elb.deregister(arn, member.instanceId, () => undefined);
    this.setState(group, member, 'Terminated');
    group.members.delete(member.instanceId);
    this.owners.delete(member.instanceId);
    this.removeGroupIfEmpty(group);
    if (group.deleting) return;
    this.reconcile(group, 'an instance left the group');
    const refresh = this.activeRefresh(group);
    if (refresh) this.stepRefresh(group, refresh);
  }

  private emitInstanceEvent(
    group: Group,
    detailType: string,
    activity: Activity,
    member: Member | undefined,
    route: { origin: string; destination: string; az?: string; subnet?: string },
  ): void {
    // Shapes: https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
    const instanceId = member?.instanceId ?? '';
    const failed = activity.StatusCode === 'Failed' || activity.StatusCode === 'Cancelled';
    this.ctx.emit({
      source: SOURCE,
      detailType,
      resources: member
        ? [group.arn, `arn:aws:ec2:${this.ctx.region}:${this.ctx.accountId}:instance/${instanceId}`]
        : [group.arn],
      detail: {
        StatusCode: failed ? 'Failed' : 'InProgress',
        ...(failed ? {} : { Description: activity.Description ?? '' }),
        AutoScalingGroupName: group.name,
        ActivityId: activity.ActivityId ?? '',
        Details: {
          'Availability Zone': member?.availabilityZone ?? route.az ?? '',
          'Subnet ID': member?.subnetId ?? route.subnet ?? '',
        },
        RequestId: activity.ActivityId ?? '',
        StatusMessage: activity.StatusMessage ?? '',
        EndTime: iso(activity.EndTime?.getTime() ?? this.ctx.clock.now()),
        EC2InstanceId: instanceId,
        StartTime: iso(activity.StartTime?.getTime() ?? this.ctx.clock.now()),
        Cause: activity.Cause ?? '',
        Origin: route.origin,
        Destination: route.destination,
      },
    });
  }

  // ---------------------------------------------------------------- health

  private needsTick(group: Group): boolean {
    if (group.deleting) return false;
    if (this.activeRefresh(group)) return true;
    const watchesTargets = group.healthCheckType === 'ELB' && group.targetGroupArns.length > 0;
    return watchesTargets && [...group.members.values()].some((member) => member.state === 'InService');
  }

  private armTick(group: Group): void {
    if (group.tickTimer !== undefined || !this.needsTick(group)) return;
    group.tickTimer = this.ctx.clock.setTimeout(() => {
      delete group.tickTimer;
      this.checkHealth(group);
      const refresh = this.activeRefresh(group);
      if (refresh) this.stepRefresh(group, refresh);
      this.armTick(group);
    }, this.pollMs);
  }

  /**
   * Marks InService instances Unhealthy once past the grace period when EC2 says they are not running
   * or, for HealthCheckType ELB, a target group reports them unhealthy; then replaces them unless
   * HealthCheck/ReplaceUnhealthy is suspended.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/healthcheck.html
   */
  private checkHealth(group: Group): void {
    if (group.deleting || group.suspended.has('HealthCheck')) return;
    const now = this.ctx.clock.now();
    for (const member of [...group.members.values()]) {
      if (member.state !== 'InService' || member.inServiceAt === undefined) continue;
      if (member.health === 'Healthy') {
        if (now < member.inServiceAt + group.healthCheckGracePeriod * 1000) continue;
        const state = this.ec2.get(member.instanceId)?.state;
        const ec2Down = state !== 'running';
        const elbDown =
          group.healthCheckType === 'ELB' &&
          [...member.registered].some((arn) => this.elb.health(arn, member.instanceId) === 'unhealthy');
        if (!ec2Down && !elbDown) continue;
        member.health = 'Unhealthy';
        this.ctx.timeline.record({
          kind: 'state',
          resource: `${this.resourceOf(group, member)}#health`,
          from: 'Healthy',
          to: 'Unhealthy',
        });
      }
      if (!group.suspended.has('ReplaceUnhealthy')) {
        const why =
          group.healthCheckType === 'ELB'
            ? 'an ELB system health check failure'
            : 'an EC2 health check indicating it has been terminated or stopped';
        this.beginTerminate(group, member, `an instance was taken out of service in response to ${why}`);
      }
    }
    this.reconcile(group, 'replacing unhealthy instances');
  }

  // ---------------------------------------------------------------- lifecycle hooks

  private buildHook(
    name: string | undefined,
    spec: Partial<LifecycleHookSpecification>,
    existing: Hook | undefined,
  ): Hook {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html
    const hookName = required(name, 'lifecycleHookName');
    if (!/^[A-Za-z0-9\-_/]{1,255}$/.test(hookName)) {
      throw validationError(
        `LifecycleHookName ${hookName} must match [A-Za-z0-9\\-_\\/]+ and be 1 to 255 characters`,
      );
    }
    const transition = spec.LifecycleTransition ?? existing?.transition;
    if (transition === undefined) throw missingField('lifecycleTransition');
    if (transition !== LAUNCHING && transition !== TERMINATING) {
      throw validationError(`LifecycleTransition must be ${LAUNCHING} or ${TERMINATING}, got ${transition}`);
    }
    const heartbeatTimeout = spec.HeartbeatTimeout ?? existing?.heartbeatTimeout ?? DEFAULT_HEARTBEAT_SECONDS;
    if (!Number.isInteger(heartbeatTimeout) || heartbeatTimeout < 30 || heartbeatTimeout > 7200) {
      throw validationError(`HeartbeatTimeout must be between 30 and 7200 seconds, got ${heartbeatTimeout}`);
    }
    const defaultResult = spec.DefaultResult ?? existing?.defaultResult ?? 'ABANDON';
    if (defaultResult !== 'CONTINUE' && defaultResult !== 'ABANDON') {
      throw validationError(`DefaultResult must be CONTINUE or ABANDON, got ${defaultResult}`);
    }
    const metadata = spec.NotificationMetadata ?? existing?.notificationMetadata;
    const target = spec.NotificationTargetARN ?? existing?.notificationTargetArn;
    const role = spec.RoleARN ?? existing?.roleArn;
    return {
      name: hookName,
      transition,
      heartbeatTimeout,
      defaultResult,
      ...(metadata !== undefined ? { notificationMetadata: metadata } : {}),
      ...(target !== undefined ? { notificationTargetArn: target } : {}),
      ...(role !== undefined ? { roleArn: role } : {}),
    };
  }

  private putHook(input: PutLifecycleHookType): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    const name = required(input.LifecycleHookName, 'lifecycleHookName');
    const hook = this.buildHook(name, input, group.hooks.get(name));
    group.hooks.set(hook.name, hook);
    return {};
  }

  private hookView(group: Group, hook: Hook): LifecycleHook {
    return {
      LifecycleHookName: hook.name,
      AutoScalingGroupName: group.name,
      LifecycleTransition: hook.transition,
      ...(hook.notificationTargetArn !== undefined
        ? { NotificationTargetARN: hook.notificationTargetArn }
        : {}),
      ...(hook.roleArn !== undefined ? { RoleARN: hook.roleArn } : {}),
      ...(hook.notificationMetadata !== undefined ? { NotificationMetadata: hook.notificationMetadata } : {}),
      HeartbeatTimeout: hook.heartbeatTimeout,
      GlobalTimeout: this.globalTimeout(hook),
      DefaultResult: hook.defaultResult,
    };
  }

  private globalTimeout(hook: Hook): number {
    return Math.min(100 * hook.heartbeatTimeout, MAX_GLOBAL_TIMEOUT_SECONDS);
  }

  private describeHooks(input: DescribeLifecycleHooksType): DescribeLifecycleHooksAnswer {
    const group = this.getGroup(input.AutoScalingGroupName);
    const names = input.LifecycleHookNames;
    const hooks = [...group.hooks.values()].filter(
      (hook) => !names || names.length === 0 || names.includes(hook.name),
    );
    return { LifecycleHooks: hooks.map((hook) => this.hookView(group, hook)) };
  }

  private deleteHook(input: DeleteLifecycleHookType): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    const name = required(input.LifecycleHookName, 'lifecycleHookName');
    if (!group.hooks.delete(name)) {
      throw validationError(`No Lifecycle Hook found with name ${name} for AutoScalingGroup ${group.name}`);
    }
    // "If there are any outstanding lifecycle actions, they are completed first (ABANDON for launching
    // instances, CONTINUE for terminating instances)." API_DeleteLifecycleHook.
    for (const member of [...group.members.values()]) {
      for (const action of [...member.actions.values()]) {
        if (action.hookName !== name) continue;
        this.finishAction(group, member, action, action.transition === LAUNCHING ? 'ABANDON' : 'CONTINUE');
      }
    }
    return {};
  }

  private openAction(group: Group, member: Member, hook: Hook): void {
    const token = this.ctx.ids.uuid();
    const action: LifecycleAction = {
      token,
      hookName: hook.name,
      transition: hook.transition,
      heartbeatTimer: this.armHeartbeat(group, member, token, hook),
      // The global timeout caps the wait however many heartbeats arrive (API_LifecycleHook, GlobalTimeout).
      globalTimer: this.ctx.clock.setTimeout(
        () => {
          const open = member.actions.get(token);
          if (open) this.finishAction(group, member, open, hook.defaultResult);
        },
        this.globalTimeout(hook) * 1000,
      ),
    };
    member.actions.set(token, action);
    const launching = hook.transition === LAUNCHING;
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
    this.ctx.emit({
      source: SOURCE,
      detailType: launching
        ? 'EC2 Instance-launch Lifecycle Action'
        : 'EC2 Instance-terminate Lifecycle Action',
      resources: [group.arn],
      detail: {
        LifecycleActionToken: token,
        AutoScalingGroupName: group.name,
        LifecycleHookName: hook.name,
        EC2InstanceId: member.instanceId,
        LifecycleTransition: hook.transition,
        ...(hook.notificationMetadata !== undefined
          ? { NotificationMetadata: hook.notificationMetadata }
          : {}),
        Origin: launching ? 'EC2' : 'AutoScalingGroup',
        Destination: launching ? 'AutoScalingGroup' : 'EC2',
      },
    });
  }

  private armHeartbeat(group: Group, member: Member, token: string, hook: Hook) {
    return this.ctx.clock.setTimeout(() => {
      const open = member.actions.get(token);
      if (open) this.finishAction(group, member, open, hook.defaultResult);
    }, hook.heartbeatTimeout * 1000);
  }

  private clearActions(member: Member): void {
    for (const action of member.actions.values()) {
      this.ctx.clock.clearTimeout(action.heartbeatTimer);
      this.ctx.clock.clearTimeout(action.globalTimer);
    }
    member.actions.clear();
  }

  /** Closes one action; when the last one closes the instance moves on. */
  private finishAction(
    group: Group,
    member: Member,
    action: LifecycleAction,
    result: 'CONTINUE' | 'ABANDON',
  ): void {
    this.ctx.clock.clearTimeout(action.heartbeatTimer);
    this.ctx.clock.clearTimeout(action.globalTimer);
    if (action.transition === LAUNCHING && result === 'ABANDON') member.abandoned = true;
    if (member.actions.size > 1) {
      member.actions.delete(action.token);
      return;
    }
    // Keep the last token on record until proceedLaunch has reported it.
    if (action.transition === LAUNCHING && member.state === 'Pending:Wait') {
      this.proceedLaunch(group, member);
      member.actions.clear();
    } else if (action.transition === TERMINATING && member.state === 'Terminating:Wait') {
      member.actions.clear();
      // Either result terminates the instance on a terminate hook (completing-lifecycle-hooks.html).
      this.proceedTerminate(group, member);
    } else {
      member.actions.clear();
    }
  }

  /** The open action named by token or by instance id, or AWS's ValidationError for one no longer active. */
  private findAction(
    group: Group,
    hookName: string,
    token: string | undefined,
    instanceId: string | undefined,
  ): { member: Member; action: LifecycleAction } {
    if (token === undefined && instanceId === undefined) {
      throw validationError('Either LifecycleActionToken or InstanceId must be specified');
    }
    for (const member of group.members.values()) {
      if (instanceId !== undefined && member.instanceId !== instanceId) continue;
      for (const action of member.actions.values()) {
        if (action.hookName !== hookName) continue;
        if (token !== undefined && action.token !== token) continue;
        return { member, action };
      }
    }
    // The message real AWS returns for a finished or unknown action (seen in CompleteLifecycleAction
    // callers' logs); Kiln treats it as "already done". API_CompleteLifecycleAction.
    throw validationError(
      instanceId !== undefined
        ? `No active Lifecycle Action found with instance ID ${instanceId}`
        : `No active Lifecycle Action found with token ${token ?? ''}`,
    );
  }

  private completeLifecycleAction(input: CompleteLifecycleActionType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html
    const group = this.getGroup(input.AutoScalingGroupName);
    const hookName = required(input.LifecycleHookName, 'lifecycleHookName');
    const result = required(input.LifecycleActionResult, 'lifecycleActionResult');
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw validationError(`LifecycleActionResult must be CONTINUE or ABANDON, got ${result}`);
    }
    const { member, action } = this.findAction(group, hookName, input.LifecycleActionToken, input.InstanceId);
    this.finishAction(group, member, action, result);
    return {};
  }

  private recordHeartbeat(input: RecordLifecycleActionHeartbeatType): object {
    // A heartbeat restarts the heartbeat timeout, not the global one.
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RecordLifecycleActionHeartbeat.html
    const group = this.getGroup(input.AutoScalingGroupName);
    const hookName = required(input.LifecycleHookName, 'lifecycleHookName');
    const { member, action } = this.findAction(group, hookName, input.LifecycleActionToken, input.InstanceId);
    const hook = group.hooks.get(hookName);
    if (!hook) throw validationError(`No Lifecycle Hook found with name ${hookName}`);
    this.ctx.clock.clearTimeout(action.heartbeatTimer);
    action.heartbeatTimer = this.armHeartbeat(group, member, action.token, hook);
    return {};
  }

  // ---------------------------------------------------------------- instances

  private findMember(instanceId: string): { group: Group; member: Member } | undefined {
    const groupName = this.owners.get(instanceId);
    const group = groupName !== undefined ? this.groups.get(groupName) : undefined;
    const member = group?.members.get(instanceId);
    return group && member ? { group, member } : undefined;
  }

  private terminateInstanceInGroup(input: TerminateInstanceInAutoScalingGroupType): ActivityType {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html
    const decrement = required(input.ShouldDecrementDesiredCapacity, 'shouldDecrementDesiredCapacity');
    const ids = input.InstanceId !== undefined ? [input.InstanceId] : (input.InstanceIds ?? []);
    if (ids.length === 0) throw missingField('instanceId');
    const found = ids.map((id) => {
      const hit = this.findMember(id);
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
      this.reconcile(group, 'a user request terminated an instance');
    }
    const first = activities[0];
    return input.InstanceId !== undefined && first ? { Activity: first } : { Activities: activities };
  }

  private setInstanceProtection(input: SetInstanceProtectionQuery): object {
    const group = this.getGroup(input.AutoScalingGroupName);
    const protect = required(input.ProtectedFromScaleIn, 'protectedFromScaleIn');
    for (const id of required(input.InstanceIds, 'instanceIds')) {
      const member = group.members.get(id);
      if (!member)
        throw validationError(`The instance ${id} is not part of Auto Scaling group ${group.name}.`);
      member.protectedFromScaleIn = protect;
    }
    return {};
  }

  // ---------------------------------------------------------------- instance refresh

  private activeRefresh(group: Group): Refresh | undefined {
    return group.refreshes.find((refresh) => ACTIVE_REFRESH.includes(refresh.status));
  }

  private currentPass(refresh: Refresh): RefreshPass {
    return refresh.status === 'RollbackInProgress' && refresh.rollback
      ? refresh.rollback.pass
      : refresh.forward;
  }

  private setRefreshStatus(group: Group, refresh: Refresh, to: RefreshStatus, reason?: string): void {
    const from = refresh.status;
    if (from === to) return;
    refresh.status = to;
    if (reason !== undefined) refresh.statusReason = reason;
    if (!ACTIVE_REFRESH.includes(to)) refresh.endTime = this.ctx.clock.now();
    this.ctx.timeline.record({
      kind: 'state',
      resource: `instance-refresh:${group.name}/${refresh.id}`,
      from,
      to,
    });
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-eventbridge-events.html
    const events: Partial<Record<RefreshStatus, string>> = {
      InProgress: 'EC2 Auto Scaling Instance Refresh Started',
      Successful: 'EC2 Auto Scaling Instance Refresh Succeeded',
      Failed: 'EC2 Auto Scaling Instance Refresh Failed',
      Cancelled: 'EC2 Auto Scaling Instance Refresh Cancelled',
      RollbackInProgress: 'EC2 Auto Scaling Instance Refresh Rollback Started',
      RollbackSuccessful: 'EC2 Auto Scaling Instance Refresh Rollback Succeeded',
      RollbackFailed: 'EC2 Auto Scaling Instance Refresh Rollback Failed',
    };
    const detailType = events[to];
    if (detailType !== undefined && !(to === 'InProgress' && from !== 'Pending')) {
      this.emitRefreshEvent(group, refresh, detailType, {});
    }
  }

  private emitRefreshEvent(
    group: Group,
    refresh: Refresh,
    detailType: string,
    extra: Record<string, string>,
  ): void {
    this.ctx.emit({
      source: SOURCE,
      detailType,
      resources: [group.arn],
      detail: { InstanceRefreshId: refresh.id, AutoScalingGroupName: group.name, ...extra },
    });
  }

  private newPass(
    group: Group,
    target: ResolvedLaunchTemplate,
    replace: (member: Member) => boolean,
    checkpoints: number[],
  ): RefreshPass {
    const members = [...group.members.values()]
      .filter((member) => this.countsTowardCapacity(member))
      .sort((a, b) => a.launchedAt - b.launchedAt || a.instanceId.localeCompare(b.instanceId));
    return {
      target,
      pending: members.filter(replace).map((member) => member.instanceId),
      total: members.length,
      checkpoints: checkpoints.length > 0 ? checkpoints : [100],
      surge: 0,
      deferred: [],
      replaced: [],
      batches: [],
    };
  }

  private startRefresh(input: StartInstanceRefreshType): StartInstanceRefreshAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html
    const group = this.getGroup(input.AutoScalingGroupName);
    if (this.activeRefresh(group)) throw refreshInProgress();
    if (input.Strategy !== undefined && input.Strategy !== 'Rolling') {
      throw validationError(`Strategy: the sandbox simulates only Rolling, got ${input.Strategy}`);
    }
    const preferences = resolvePreferences(input.Preferences, {
      defaultInstanceWarmup: group.defaultInstanceWarmup,
      healthCheckGracePeriod: group.healthCheckGracePeriod,
    });
    const desired = input.DesiredConfiguration?.LaunchTemplate;
    if (input.DesiredConfiguration?.MixedInstancesPolicy !== undefined) {
      throw validationError('DesiredConfiguration.MixedInstancesPolicy is not simulated by the sandbox');
    }
    if (preferences.AutoRollback) this.assertReversible(group, desired);
    const target = this.resolveTemplate(
      desired ?? group.launchTemplate,
      desired ? 'DesiredConfiguration.LaunchTemplate' : 'LaunchTemplate',
    );
    const replace = (member: Member): boolean => {
      // SkipMatching leaves instances already on the desired template version alone.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-instance-refresh-skip-matching.html
      if (preferences.SkipMatching && this.matches(member, target)) return false;
      if (member.protectedFromScaleIn && preferences.ScaleInProtectedInstances === 'Ignore') return false;
      return true;
    };
    const refresh: Refresh = {
      id: this.ctx.ids.uuid(),
      status: 'Pending',
      startTime: this.ctx.clock.now(),
      preferences,
      ...(desired ? { desiredConfiguration: { ...desired } } : {}),
      forward: this.newPass(group, target, replace, preferences.CheckpointPercentages),
    };
    group.refreshes.unshift(refresh);
    this.ctx.timeline.record({
      kind: 'state',
      resource: `instance-refresh:${group.name}/${refresh.id}`,
      from: null,
      to: 'Pending',
    });
    this.ctx.clock.setTimeout(() => this.stepRefresh(group, refresh), 0);
    this.armTick(group);
    return { InstanceRefreshId: refresh.id };
  }

  /**
   * Rollback needs a desired configuration and a numbered launch template version on the group.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
   */
  private assertReversible(group: Group, desired: LaunchTemplateSpecification | undefined): void {
    const version = group.launchTemplate.Version;
    if (desired === undefined) {
      throw irreversible('A rollback is not supported: the instance refresh has no desired configuration.');
    }
    if (version === undefined || version === '$Latest' || version === '$Default') {
      throw irreversible(
        `A rollback is not supported: the Auto Scaling group uses the launch template's ${version ?? '$Default'} version.`,
      );
    }
  }

  /** Instances on the pass's target that are ready: InService, healthy and past the warmup. */
  private isReady(group: Group, refresh: Refresh, member: Member): boolean {
    if (member.state !== 'InService' || member.health !== 'Healthy' || member.inServiceAt === undefined)
      return false;
    // A replaced instance counts once "health status changes to healthy and the specified warm-up time passes".
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRefresh.html (PercentageComplete)
    if (this.ctx.clock.now() < member.inServiceAt + refresh.preferences.InstanceWarmup * 1000) return false;
    if (group.healthCheckType === 'ELB') {
      return group.targetGroupArns.every((arn) => this.elb.health(arn, member.instanceId) === 'healthy');
    }
    return true;
  }

  private progress(
    group: Group,
    refresh: Refresh,
    pass: RefreshPass,
  ): { ready: number; inflight: number; oldLeaving: number } {
    let ready = 0;
    let inflight = 0;
    let oldLeaving = 0;
    for (const member of group.members.values()) {
      if (pass.replaced.includes(member.instanceId)) {
        oldLeaving += 1;
        continue;
      }
      const isNew = !pass.pending.includes(member.instanceId) && this.matches(member, pass.target);
      if (isTerminating(member)) continue;
      if (!isNew) continue;
      if (this.isReady(group, refresh, member)) ready += 1;
      else inflight += 1;
    }
    return { ready, inflight, oldLeaving };
  }

  private percentage(ready: number, total: number): number {
    return total === 0 ? 100 : Math.min(100, Math.floor((100 * ready) / total));
  }

  private checkAlarms(refresh: Refresh): string | undefined {
    // Any alarm in ALARM fails the refresh. https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
    const firing = refresh.preferences.Alarms.filter((name) => this.options.alarmState?.(name) === 'ALARM');
    return firing.length > 0
      ? `Instance refresh failed due to CloudWatch alarm(s) in ALARM state: ${firing.join(', ')}`
      : undefined;
  }

  /** Advances a refresh as far as it can go now; called on every tick and on every instance change. */
  private stepRefresh(group: Group, refresh: Refresh): void {
    if (!ACTIVE_REFRESH.includes(refresh.status) || group.deleting) return;
    // A suspended InstanceRefresh process pauses the refresh (as-suspend-resume-processes.html).
    if (group.suspended.has('InstanceRefresh')) return;
    if (refresh.status === 'Pending') this.setRefreshStatus(group, refresh, 'InProgress');
    if (refresh.status === 'InProgress' || refresh.status === 'Baking') {
      const alarm = this.checkAlarms(refresh);
      if (alarm !== undefined) {
        this.failRefresh(group, refresh, alarm);
        return;
      }
    }
    const now = this.ctx.clock.now();
    if (refresh.pausedUntil !== undefined) {
      if (now < refresh.pausedUntil) return;
      delete refresh.pausedUntil;
    }
    const pass = this.currentPass(refresh);
    pass.pending = pass.pending.filter((id) => {
      const member = group.members.get(id);
      return member !== undefined && !isTerminating(member);
    });
    pass.replaced = pass.replaced.filter((id) => group.members.has(id));
    const { ready, inflight, oldLeaving } = this.progress(group, refresh, pass);
    if (inflight > 0) {
      const warming = [...group.members.values()].find(
        (member) =>
          member.state === 'InService' &&
          this.matches(member, pass.target) &&
          !this.isReady(group, refresh, member),
      );
      refresh.statusReason = warming
        ? `Waiting for instances to warm up before continuing. For example: ${warming.instanceId} is warming up.`
        : 'Waiting for new instances to launch and pass health checks.';
      return;
    }
    // Launch-first batch ready: now the old instances it replaces may go.
    if (pass.deferred.length > 0) {
      const deferred = pass.deferred;
      pass.deferred = [];
      pass.surge = 0;
      this.terminateForRefresh(group, deferred, false);
      return;
    }
    if (oldLeaving > 0) return;
    if (refresh.status === 'Cancelling') {
      this.setRefreshStatus(group, refresh, 'Cancelled', 'The instance refresh was cancelled.');
      return;
    }
    if (refresh.status === 'Baking') {
      if (refresh.bakeUntil !== undefined && now >= refresh.bakeUntil) this.succeed(group, refresh);
      return;
    }
    const percent = this.percentage(ready, pass.total);
    const next = pass.checkpoints[0];
    if (next !== undefined && percent >= next) {
      // A batch can carry the group past several checkpoints; only the highest one reached is reported.
      let reached = next;
      while (pass.checkpoints[0] !== undefined && percent >= pass.checkpoints[0])
        reached = pass.checkpoints.shift() ?? reached;
      if (pass.checkpoints.length === 0) {
        this.finishPass(group, refresh);
        return;
      }
      if (refresh.status === 'InProgress') {
        // "Amazon EC2 Auto Scaling emits events for each checkpoint, except for the 100 percent complete checkpoint."
        // https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
        const delay = refresh.preferences.CheckpointDelay;
        this.emitRefreshEvent(group, refresh, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached', {
          CheckpointPercentage: String(reached),
          CheckpointDelay: String(delay),
        });
        refresh.statusReason = `Waiting for ${delay} seconds at checkpoint ${reached}% before continuing.`;
        refresh.pausedUntil = now + delay * 1000;
        this.ctx.clock.setTimeout(() => this.stepRefresh(group, refresh), delay * 1000);
        return;
      }
    }
    if (pass.pending.length === 0) {
      this.finishPass(group, refresh);
      return;
    }
    this.startBatch(group, refresh, pass, ready);
  }

  private startBatch(group: Group, refresh: Refresh, pass: RefreshPass, ready: number): void {
    const { MinHealthyPercentage, MaxHealthyPercentage } = refresh.preferences;
    const checkpoint = pass.checkpoints[0] ?? 100;
    const untilCheckpoint = checkpointTarget(checkpoint, pass.total) - ready;
    const waitsOnProtected = refresh.preferences.ScaleInProtectedInstances === 'Wait';
    const replaceable = pass.pending.filter(
      (id) => !(waitsOnProtected && group.members.get(id)?.protectedFromScaleIn),
    );
    if (replaceable.length === 0) {
      refresh.statusReason = 'Waiting for scale-in protected instances to be unprotected before continuing.';
      return;
    }
    const plan = capBatch(
      batchPlan(group.desired, MinHealthyPercentage, MaxHealthyPercentage),
      Math.min(Math.max(untilCheckpoint, 1), replaceable.length),
    );
    const size = plan.launchFirst + plan.terminateFirst;
    pass.batches.push(size);
    const victims = replaceable.slice(0, size);
    pass.pending = pass.pending.filter((id) => !victims.includes(id));
    pass.replaced.push(...victims);
    refresh.statusReason = `Replacing ${size} instance(s).`;
    this.ctx.timeline.record({
      kind: 'log',
      message: `instance-refresh ${refresh.id}: batch of ${size} (${plan.launchFirst} launched first)`,
    });
    // Launch before terminating when MaxHealthy allows going above desired; the rest terminate and launch together.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-maintenance-policy-overview-and-considerations.html
    pass.deferred = victims.slice(0, plan.launchFirst);
    pass.surge = plan.launchFirst;
    this.terminateForRefresh(group, victims.slice(plan.launchFirst), true);
    this.reconcile(group, 'an instance refresh');
  }

  private terminateForRefresh(group: Group, ids: string[], deferReconcile: boolean): void {
    for (const id of ids) {
      const member = group.members.get(id);
      if (!member) continue;
      this.beginTerminate(
        group,
        member,
        `instance ${id} was taken out of service in response to an instance refresh`,
      );
    }
    if (!deferReconcile) this.reconcile(group, 'an instance refresh');
  }

  private finishPass(group: Group, refresh: Refresh): void {
    if (refresh.status === 'RollbackInProgress') {
      this.setRefreshStatus(group, refresh, 'RollbackSuccessful', 'The rollback completed successfully.');
      this.reconcile(group, 'an instance refresh rollback completed');
      return;
    }
    if (refresh.preferences.BakeTime > 0 && refresh.status === 'InProgress') {
      // Baking: wait BakeTime after the last replacement before calling it done (understand-instance-refresh-default-values.html).
      refresh.bakeUntil = this.ctx.clock.now() + refresh.preferences.BakeTime * 1000;
      this.setRefreshStatus(
        group,
        refresh,
        'Baking',
        `Waiting ${refresh.preferences.BakeTime} seconds of bake time.`,
      );
      this.ctx.clock.setTimeout(() => this.stepRefresh(group, refresh), refresh.preferences.BakeTime * 1000);
      return;
    }
    this.succeed(group, refresh);
  }

  private succeed(group: Group, refresh: Refresh): void {
    // On success the group takes the desired configuration for future launches.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
    if (refresh.desiredConfiguration) {
      group.launchTemplate = { ...refresh.desiredConfiguration };
      group.launchTemplateId = refresh.forward.target.launchTemplateId;
      group.launchTemplateName = refresh.forward.target.launchTemplateName;
    }
    this.setRefreshStatus(group, refresh, 'Successful', 'The instance refresh completed successfully.');
  }

  private failRefresh(group: Group, refresh: Refresh, reason: string): void {
    if (refresh.preferences.AutoRollback && refresh.desiredConfiguration) {
      this.beginRollback(group, refresh, reason);
      return;
    }
    this.setRefreshStatus(group, refresh, 'Failed', reason);
    this.reconcile(group, 'an instance refresh failed');
  }

  private beginRollback(group: Group, refresh: Refresh, reason: string): void {
    // A rollback replaces what the refresh deployed with the group's saved configuration, ignoring checkpoints.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
    const target = this.resolveTemplate(group.launchTemplate, 'LaunchTemplate');
    refresh.forward.surge = 0;
    refresh.forward.deferred = [];
    delete refresh.pausedUntil;
    const pass = this.newPass(group, target, (member) => !this.matches(member, target), []);
    refresh.rollback = { pass, reason, startTime: this.ctx.clock.now(), total: pass.pending.length };
    this.setRefreshStatus(group, refresh, 'RollbackInProgress', reason);
    this.reconcile(group, 'an instance refresh rollback');
    this.stepRefresh(group, refresh);
  }

  private refreshFor(group: Group, statuses: readonly RefreshStatus[]): Refresh | undefined {
    return group.refreshes.find((refresh) => statuses.includes(refresh.status));
  }

  private cancelRefresh(input: CancelInstanceRefreshType): CancelInstanceRefreshAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CancelInstanceRefresh.html
    const group = this.getGroup(input.AutoScalingGroupName);
    const refresh = this.refreshFor(group, ['Pending', 'InProgress', 'Baking']);
    if (!refresh) throw noActiveRefresh(group.name);
    refresh.forward.surge = 0;
    refresh.forward.deferred = [];
    delete refresh.pausedUntil;
    this.setRefreshStatus(group, refresh, 'Cancelling', 'Cancelling the instance refresh.');
    this.reconcile(group, 'an instance refresh was cancelled');
    this.stepRefresh(group, refresh);
    return { InstanceRefreshId: refresh.id };
  }

  private rollbackRefresh(input: RollbackInstanceRefreshType): RollbackInstanceRefreshAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RollbackInstanceRefresh.html
    const group = this.getGroup(input.AutoScalingGroupName);
    const refresh = this.refreshFor(group, ['Pending', 'InProgress', 'Baking']);
    if (!refresh) throw noActiveRefresh(group.name);
    this.assertReversible(group, refresh.desiredConfiguration);
    this.beginRollback(group, refresh, 'Rollback started by a user request.');
    return { InstanceRefreshId: refresh.id };
  }

  private refreshView(group: Group, refresh: Refresh): InstanceRefresh {
    const forward = this.progress(group, refresh, refresh.forward);
    const percent =
      ACTIVE_REFRESH.includes(refresh.status) || refresh.status === 'Failed' || refresh.status === 'Cancelled'
        ? this.percentage(forward.ready, refresh.forward.total)
        : refresh.status === 'Successful'
          ? 100
          : this.percentage(forward.ready, refresh.forward.total);
    const toUpdate = Math.max(0, refresh.forward.total - forward.ready);
    const p = refresh.preferences;
    const rollback = refresh.rollback;
    const rollbackProgress = rollback ? this.progress(group, refresh, rollback.pass) : undefined;
    const rollbackPercent =
      rollback && rollbackProgress
        ? refresh.status === 'RollbackSuccessful'
          ? 100
          : this.percentage(rollbackProgress.ready - (rollback.pass.total - rollback.total), rollback.total)
        : 0;
    return {
      InstanceRefreshId: refresh.id,
      AutoScalingGroupName: group.name,
      Status: refresh.status,
      ...(refresh.statusReason !== undefined ? { StatusReason: refresh.statusReason } : {}),
      StartTime: new Date(refresh.startTime),
      ...(refresh.endTime !== undefined ? { EndTime: new Date(refresh.endTime) } : {}),
      PercentageComplete: refresh.status === 'Successful' ? 100 : percent,
      InstancesToUpdate: refresh.status === 'Successful' ? 0 : toUpdate,
      ProgressDetails: {
        LivePoolProgress: {
          PercentageComplete: refresh.status === 'Successful' ? 100 : percent,
          InstancesToUpdate: refresh.status === 'Successful' ? 0 : toUpdate,
        },
      },
      Preferences: {
        MinHealthyPercentage: p.MinHealthyPercentage,
        MaxHealthyPercentage: p.MaxHealthyPercentage,
        InstanceWarmup: p.InstanceWarmup,
        ...(p.CheckpointPercentages.length > 0
          ? { CheckpointPercentages: [...p.CheckpointPercentages], CheckpointDelay: p.CheckpointDelay }
          : {}),
        SkipMatching: p.SkipMatching,
        AutoRollback: p.AutoRollback,
        ScaleInProtectedInstances: p.ScaleInProtectedInstances,
        StandbyInstances: p.StandbyInstances,
        ...(p.Alarms.length > 0 ? { AlarmSpecification: { Alarms: [...p.Alarms] } } : {}),
        BakeTime: p.BakeTime,
      },
      ...(refresh.desiredConfiguration
        ? { DesiredConfiguration: { LaunchTemplate: { ...refresh.desiredConfiguration } } }
        : {}),
      ...(rollback
        ? {
            RollbackDetails: {
              RollbackReason: rollback.reason,
              RollbackStartTime: new Date(rollback.startTime),
              PercentageCompleteOnRollback: Math.max(0, rollbackPercent),
              InstancesToUpdateOnRollback:
                refresh.status === 'RollbackSuccessful' ? 0 : rollback.pass.pending.length,
            },
          }
        : {}),
      Strategy: 'Rolling',
    };
  }

  private describeRefreshes(input: DescribeInstanceRefreshesType): DescribeInstanceRefreshesAnswer {
    // Newest first. https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeInstanceRefreshes.html
    const group = this.getGroup(input.AutoScalingGroupName);
    const ids = input.InstanceRefreshIds;
    const refreshes = group.refreshes.filter(
      (refresh) => !ids || ids.length === 0 || ids.includes(refresh.id),
    );
    const pageSize = Math.min(Math.max(input.MaxRecords ?? 50, 1), 100);
    const start = input.NextToken !== undefined ? Number.parseInt(input.NextToken, 10) : 0;
    const page = refreshes.slice(start, start + pageSize);
    const next = start + pageSize < refreshes.length ? String(start + pageSize) : undefined;
    return {
      InstanceRefreshes: page.map((refresh) => this.refreshView(group, refresh)),
      ...(next ? { NextToken: next } : {}),
    };
  }
}
