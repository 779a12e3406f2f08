/**
 * Auto Scaling groups: create, update, delete and describe them, their desired capacity, the
 * processes that can be suspended, and which group owns which instance.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
 */
import type {
  AutoScalingGroup,
  AutoScalingGroupNamesType,
  AutoScalingGroupsType,
  AutoScalingInstancesType,
  CreateAutoScalingGroupType,
  DeleteAutoScalingGroupType,
  DescribeAutoScalingInstancesType,
  Instance,
  LaunchTemplateSpecification,
  ScalingProcessQuery,
  SetDesiredCapacityType,
  UpdateAutoScalingGroupType,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import type { ResolvedLaunchTemplate } from '../fleet';
import { isoTime as iso } from '../shared';
import {
  alreadyExists,
  groupNotFound,
  required,
  resourceInUse,
  scalingActivityInProgress,
  validationError,
} from './errors';
import type { Group, Hook, Member, ScalingProcess } from './model';
import { ACTIVE_REFRESH, SCALING_PROCESSES } from './model';
import type { AutoScaling, GroupsPart } from './parts';
import { maintenancePolicyFrom } from './refresh-rules';
import { checkGroupFilters, matchesGroupFilters } from './tags';

const HEALTH_CHECK_TYPES = ['EC2', 'ELB', 'VPC_LATTICE', 'EBS'];

function nonNegativeInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw validationError(`${field} must be a non-negative integer, got ${value}`);
  return value;
}

export class Groups implements GroupsPart {
  private readonly ctx: SimContext;
  /** Every group by name; a deleting group stays until its last instance has gone. */
  private readonly groups = new Map<string, Group>();
  /** instanceId → group name, for EC2's callbacks. */
  private readonly owners = new Map<string, string>();

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  // ---------------------------------------------------------------- what the other parts use

  get(name: string | undefined): Group {
    const groupName = required(name, 'autoScalingGroupName');
    const group = this.groups.get(groupName);
    if (!group || (group.deleting && group.members.size === 0)) throw groupNotFound(groupName);
    return group;
  }

  all(): Group[] {
    return [...this.groups.values()];
  }

  ownerOf(instanceId: string): { group: Group; member: Member } | undefined {
    const groupName = this.owners.get(instanceId);
    const group = groupName !== undefined ? this.groups.get(groupName) : undefined;
    const member = group?.members.get(instanceId);
    return group && member ? { group, member } : undefined;
  }

  adopt(group: Group, member: Member): void {
    group.members.set(member.instanceId, member);
    this.owners.set(member.instanceId, group.name);
  }

  release(group: Group, member: Member): void {
    group.members.delete(member.instanceId);
    this.owners.delete(member.instanceId);
  }

  /** Resolves a launch template reference, turning EC2's error into the ValidationError Auto Scaling returns. */
  resolveTemplate(spec: LaunchTemplateSpecification, field: string): ResolvedLaunchTemplate {
    const hasId = spec.LaunchTemplateId !== undefined;
    const hasName = spec.LaunchTemplateName !== undefined;
    if (hasId === hasName) {
      throw validationError(
        `${field}: Valid requests must contain either launchTemplateId or LaunchTemplateName`,
      );
    }
    try {
      return this.asg.ec2.resolveLaunchTemplate({
        ...(spec.LaunchTemplateId !== undefined ? { launchTemplateId: spec.LaunchTemplateId } : {}),
        ...(spec.LaunchTemplateName !== undefined ? { launchTemplateName: spec.LaunchTemplateName } : {}),
        ...(spec.Version !== undefined ? { version: spec.Version } : {}),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw validationError(`You must use a valid fully-formed launch template. ${reason}`);
    }
  }

  removeIfEmpty(group: Group): void {
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

  // ---------------------------------------------------------------- operations

  createGroup(input: CreateAutoScalingGroupType): object {
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
      ...(input.TrafficSources ?? []).map((source) => this.asg.trafficSources.trafficSourceArn(source)),
    ];
    this.asg.trafficSources.validateTargetGroups(targetGroupArns);
    const healthCheckType = this.validateHealthCheckType(input.HealthCheckType ?? 'EC2');
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/set-instance-maintenance-policy.html
    const maintenancePolicy = maintenancePolicyFrom(input.InstanceMaintenancePolicy, undefined);
    const hooks = new Map<string, Hook>();
    for (const spec of input.LifecycleHookSpecificationList ?? []) {
      const hook = this.asg.hooks.buildHook(spec.LifecycleHookName, spec, undefined);
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
      ...(maintenancePolicy ? { maintenancePolicy } : {}),
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
      policies: new Map(),
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
    this.asg.trafficSources.attachedAtCreation(group);
    this.asg.capacity.reconcile(
      group,
      `a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}`,
    );
    return {};
  }

  updateGroup(input: UpdateAutoScalingGroupType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html
    const group = this.get(input.AutoScalingGroupName);
    const active = this.asg.refreshes.active(group);
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
    // A refresh already running keeps the preferences it started with.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/set-instance-maintenance-policy-on-group.html
    const maintenancePolicy = maintenancePolicyFrom(input.InstanceMaintenancePolicy, group.maintenancePolicy);
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
    if (maintenancePolicy) group.maintenancePolicy = maintenancePolicy;
    else delete group.maintenancePolicy;
    const before = group.desired;
    group.minSize = minSize;
    group.maxSize = maxSize;
    group.desired = desired;
    this.asg.capacity.reconcile(
      group,
      `a user request update of AutoScalingGroup constraints changed the desired capacity from ${before} to ${desired}`,
    );
    this.asg.health.armTick(group);
    return {};
  }

  deleteGroup(input: DeleteAutoScalingGroupType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html
    const group = this.get(input.AutoScalingGroupName);
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
      if (ACTIVE_REFRESH.includes(refresh.status)) this.asg.refreshes.setStatus(group, refresh, 'Cancelled');
    }
    // ForceDelete "deletes the group along with all instances ... without waiting for all instances to be
    // terminated"; outstanding lifecycle actions are dropped.
    for (const member of [...group.members.values()]) {
      this.asg.hooks.clearActions(member);
      for (const arn of member.registered) this.asg.elb.deregister(arn, member.instanceId, () => undefined);
      member.registered.clear();
      if (member.state !== 'Terminating:Proceed')
        this.asg.instances.setState(group, member, 'Terminating:Proceed');
      this.asg.instances.terminateEc2(group, member);
    }
    this.removeIfEmpty(group);
    return {};
  }

  describeGroups(input: AutoScalingGroupNamesType): AutoScalingGroupsType {
    const names = input.AutoScalingGroupNames;
    const filters = input.Filters ?? [];
    checkGroupFilters(filters);
    const all = [...this.groups.values()].filter(
      (group) =>
        (!names || names.length === 0 || names.includes(group.name)) && matchesGroupFilters(group, filters),
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

  describeInstances(input: DescribeAutoScalingInstancesType): AutoScalingInstancesType {
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

  setDesiredCapacity(input: SetDesiredCapacityType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html
    const group = this.get(input.AutoScalingGroupName);
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
    this.asg.capacity.reconcile(
      group,
      `a user request explicitly set group desired capacity changing the desired capacity from ${before} to ${desired}`,
    );
    return {};
  }

  suspendProcesses(input: ScalingProcessQuery): object {
    const group = this.get(input.AutoScalingGroupName);
    for (const process of this.processesOf(input)) group.suspended.add(process);
    return {};
  }

  resumeProcesses(input: ScalingProcessQuery): object {
    const group = this.get(input.AutoScalingGroupName);
    const resumed = this.processesOf(input);
    for (const process of resumed) group.suspended.delete(process);
    // Instances launched while AddToLoadBalancer was suspended are registered when it resumes.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
    if (resumed.includes('AddToLoadBalancer')) {
      for (const member of group.members.values()) {
        if (member.state !== 'InService') continue;
        for (const arn of group.targetGroupArns) this.asg.trafficSources.register(member, arn);
      }
    }
    this.asg.capacity.reconcile(group, 'processes resumed');
    this.asg.health.armTick(group);
    for (const refresh of group.refreshes)
      if (ACTIVE_REFRESH.includes(refresh.status)) this.asg.refreshes.step(group, refresh);
    return {};
  }

  // ---------------------------------------------------------------- helpers

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

  private validateHealthCheckType(type: string): string {
    if (!HEALTH_CHECK_TYPES.includes(type)) {
      throw validationError(`HealthCheckType must be one of ${HEALTH_CHECK_TYPES.join(', ')}, got ${type}`);
    }
    return type;
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
      // "The default for an Auto Scaling group is to not have an instance maintenance policy": absent until set.
      ...(group.maintenancePolicy ? { InstanceMaintenancePolicy: { ...group.maintenancePolicy } } : {}),
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
}
