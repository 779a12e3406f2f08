/**
 * The Auto Scaling adapter of the rollout (AutoScalingPort, shared/usecases/rollout/deps.ts): read
 * a group, clone one for blue/green, move its launch template version and capacity, attach and
 * detach target groups, and drive instance refreshes, speaking Kiln's types.
 *
 * Idempotency, so a retried step (Lambda retry, ASL Retry) changes nothing twice:
 * - CreateAutoScalingGroup takes no client token; the group name is unique per account and
 *   Region, so a repeat is refused `AlreadyExists` and answered `already-exists`
 *   (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html);
 * - deleting a group already gone is `already-gone` (Auto Scaling answers a `ValidationError`
 *   "AutoScalingGroup name not found");
 * - StartInstanceRefresh takes no client token and refuses a second refresh while one is in
 *   progress (`InstanceRefreshInProgress`,
 *   https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html): a
 *   refresh in progress to the very launch template version asked for is adopted
 *   (`already-started`), one to anything else is RefreshInProgressError;
 * - RollbackInstanceRefresh with no refresh in progress is refused `ActiveInstanceRefreshNotFound`
 *   (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RollbackInstanceRefresh.html):
 *   `none`.
 * Every Describe that pages is read to its last page. Which outcome means what for the rollout is
 * the caller's policy; the adapter only names it.
 */
import {
  AttachTrafficSourcesCommand,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeLifecycleHooksCommand,
  DescribePoliciesCommand,
  DetachLoadBalancerTargetGroupsCommand,
  DetachTrafficSourcesCommand,
  PutScalingPolicyCommand,
  ResumeProcessesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type Filter,
  type InstanceRefresh,
  type LifecycleHook,
  type PutScalingPolicyType,
  type ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import { RefreshInProgressError } from '../domain/step-errors';
import type {
  AutoScalingPort,
  Capacity,
  GroupDescription,
  GroupSpec,
  LaunchTemplateVersionRef,
  LifecycleHookSpec,
  RefreshPreferences,
  RefreshStatus,
  ScalingPolicySpec,
} from '../usecases/rollout/deps';
import { callAws, refusedError } from './aws-errors';

const SERVICE = 'Auto Scaling';

/**
 * Refresh statuses in which the refresh still acts on the group (the port's `activeRefresh`).
 * `Cancelling` also blocks a new refresh, but is on its way out: it is never adopted.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRefresh.html
 */
const ACTIVE_STATUSES = new Set(['Pending', 'InProgress', 'Baking', 'RollbackInProgress']);
const BLOCKING_STATUSES = new Set([...ACTIVE_STATUSES, 'Cancelling']);

/**
 * PutScalingPolicy's parameters besides the group, name and type, per policy type: what
 * `scalingPolicies` copies from DescribePolicies and `putScalingPolicy` sends back. The API
 * reference says which parameter each type takes ("Valid only if the policy type is …", "Not used
 * with any other policy type"): DescribePolicies answers other fields too (PolicyARN, Alarms, and
 * an empty StepAdjustments list on a target tracking policy, as AWS's example shows:
 * https://docs.aws.amazon.com/code-library/latest/ug/auto-scaling_example_auto-scaling_DescribePolicies_section.html),
 * which must not be sent back.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutScalingPolicy.html
 */
const POLICY_PARAMETERS = {
  TargetTrackingScaling: ['TargetTrackingConfiguration', 'EstimatedInstanceWarmup', 'Enabled'],
  StepScaling: [
    'AdjustmentType',
    'MinAdjustmentMagnitude',
    'StepAdjustments',
    'MetricAggregationType',
    'EstimatedInstanceWarmup',
    'Enabled',
  ],
  SimpleScaling: ['AdjustmentType', 'MinAdjustmentMagnitude', 'ScalingAdjustment', 'Cooldown', 'Enabled'],
  PredictiveScaling: ['PredictiveScalingConfiguration', 'Enabled'],
} as const satisfies Record<string, ReadonlyArray<keyof PutScalingPolicyType & keyof ScalingPolicy>>;

/** The parameters `policyType` takes, present in `from`. */
function policyParameters(policyType: string, from: Record<string, unknown>): Record<string, unknown> {
  const keys: readonly string[] = POLICY_PARAMETERS[policyType as keyof typeof POLICY_PARAMETERS] ?? [];
  const parameters: Record<string, unknown> = {};
  for (const key of keys) if (from[key] !== undefined) parameters[key] = from[key];
  return parameters;
}

/** Auto Scaling's generic error for a group (or refresh) that does not exist. */
function isNotFound(error: Error): boolean {
  return /not found/i.test(error.message);
}

export class AutoScalingGroups implements AutoScalingPort {
  constructor(readonly client: AutoScalingClient) {}

  async describeGroup(name: string): Promise<GroupDescription | undefined> {
    const groups = await this.describeGroups(`describe group ${name}`, { AutoScalingGroupNames: [name] });
    return groups.find((group) => group.name === name);
  }

  /**
   * Tag filters `tag:KEY` (key and value together), ANDed
   * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Filter.html); each group found
   * is checked again against every tag, so a service that ignores a filter cannot widen the answer.
   */
  async findGroupsByTags(tags: Record<string, string>): Promise<GroupDescription[]> {
    const entries = Object.entries(tags);
    const filters: Filter[] = entries.map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
    const groups = await this.describeGroups('find groups by tags', { Filters: filters });
    return groups.filter((group) => entries.every(([key, value]) => group.tags[key] === value));
  }

  /**
   * Creates the group with its lifecycle hooks (LifecycleHookSpecificationList: "no instance
   * starts without them") and its tags propagated to the instances it launches.
   */
  async createGroup(spec: GroupSpec): Promise<'created' | 'already-exists'> {
    let outcome: 'created' | 'already-exists' = 'created';
    const exists = () => {
      outcome = 'already-exists';
      return {};
    };
    await this.call(
      `create group ${spec.name}`,
      () =>
        this.client.send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: spec.name,
            LaunchTemplate: launchTemplateOf(spec.launchTemplate),
            MinSize: spec.capacity.min,
            MaxSize: spec.capacity.max,
            DesiredCapacity: spec.capacity.desired,
            VPCZoneIdentifier: spec.subnets.join(','),
            HealthCheckType: spec.healthCheckType,
            HealthCheckGracePeriod: spec.healthCheckGracePeriod,
            ...(spec.defaultInstanceWarmup === undefined
              ? {}
              : { DefaultInstanceWarmup: spec.defaultInstanceWarmup }),
            ...(spec.lifecycleHooks.length === 0
              ? {}
              : {
                  LifecycleHookSpecificationList: spec.lifecycleHooks.map((hook) => ({
                    LifecycleHookName: hook.name,
                    LifecycleTransition: hook.transition,
                    ...(hook.heartbeatTimeoutSeconds === undefined
                      ? {}
                      : { HeartbeatTimeout: hook.heartbeatTimeoutSeconds }),
                    ...(hook.defaultResult === undefined ? {} : { DefaultResult: hook.defaultResult }),
                    ...(hook.notificationMetadata === undefined
                      ? {}
                      : { NotificationMetadata: hook.notificationMetadata }),
                    ...(hook.notificationTargetArn === undefined
                      ? {}
                      : { NotificationTargetARN: hook.notificationTargetArn }),
                    ...(hook.roleArn === undefined ? {} : { RoleARN: hook.roleArn }),
                  })),
                }),
            ...(spec.targetGroupArns.length === 0
              ? {}
              : { TrafficSources: spec.targetGroupArns.map((arn) => ({ Identifier: arn, Type: 'elbv2' })) }),
            Tags: Object.entries(spec.tags).map(([Key, Value]) => ({
              Key,
              Value,
              ResourceId: spec.name,
              ResourceType: 'auto-scaling-group',
              PropagateAtLaunch: true,
            })),
          }),
        ),
      { AlreadyExists: exists, AlreadyExistsFault: exists },
    );
    return outcome;
  }

  /** ForceDelete: the group goes with its instances, without waiting for them to terminate. */
  async deleteGroup(name: string): Promise<'deleted' | 'already-gone'> {
    let outcome: 'deleted' | 'already-gone' = 'deleted';
    const what = `delete group ${name}`;
    await this.call(
      what,
      () =>
        this.client.send(
          new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
        ),
      {
        ValidationError: (error) => {
          if (!isNotFound(error)) throw refusedError(SERVICE, what, error);
          outcome = 'already-gone';
          return {};
        },
      },
    );
    return outcome;
  }

  /**
   * Sends only what is given; the launch template version is always a number (`$Latest` and
   * `$Default` never reach a group Kiln moves: DESIGN.md rule 2, and AWS refuses a rollback with
   * them, https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RollbackInstanceRefresh.html).
   */
  async updateGroup(
    name: string,
    change: { launchTemplate?: LaunchTemplateVersionRef; capacity?: Capacity },
  ): Promise<void> {
    if (change.launchTemplate === undefined && change.capacity === undefined) return;
    await this.call(`update group ${name}`, () =>
      this.client.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          ...(change.launchTemplate === undefined
            ? {}
            : { LaunchTemplate: launchTemplateOf(change.launchTemplate) }),
          ...(change.capacity === undefined
            ? {}
            : {
                MinSize: change.capacity.min,
                MaxSize: change.capacity.max,
                DesiredCapacity: change.capacity.desired,
              }),
        }),
      ),
    );
  }

  /**
   * An empty list sends nothing: SuspendProcesses/ResumeProcesses without ScalingProcesses act on
   * every process (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SuspendProcesses.html).
   */
  async suspendProcesses(name: string, processes: readonly string[]): Promise<void> {
    if (processes.length === 0) return;
    await this.call(`suspend ${processes.join(', ')} on group ${name}`, () =>
      this.client.send(
        new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: [...processes] }),
      ),
    );
  }

  async resumeProcesses(name: string, processes: readonly string[]): Promise<void> {
    if (processes.length === 0) return;
    await this.call(`resume ${processes.join(', ')} on group ${name}`, () =>
      this.client.send(
        new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: [...processes] }),
      ),
    );
  }

  /**
   * AttachTrafficSources, which AWS recommends over AttachLoadBalancerTargetGroups; attaching is
   * additive (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AttachTrafficSources.html).
   */
  async attachTargetGroups(name: string, targetGroupArns: readonly string[]): Promise<void> {
    if (targetGroupArns.length === 0) return;
    await this.call(`attach target groups ${targetGroupArns.join(', ')} to group ${name}`, () =>
      this.client.send(
        new AttachTrafficSourcesCommand({
          AutoScalingGroupName: name,
          TrafficSources: targetGroupArns.map((arn) => ({ Identifier: arn, Type: 'elbv2' })),
        }),
      ),
    );
  }

  /**
   * Detaches through the API that attached each target group: DetachLoadBalancerTargetGroups
   * "can't detach target groups that were attached by using AttachTrafficSources"
   * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DetachLoadBalancerTargetGroups.html).
   * A target group the group lists among its traffic sources goes through DetachTrafficSources;
   * one listed only among TargetGroupARNs (the older API's) through the older call; one not
   * attached at all is already detached.
   */
  async detachTargetGroups(name: string, targetGroupArns: readonly string[]): Promise<void> {
    if (targetGroupArns.length === 0) return;
    const raw = await this.rawGroup(name);
    if (raw === undefined) return;
    const sources = new Set((raw.TrafficSources ?? []).flatMap((source) => source.Identifier ?? []));
    const older = new Set(raw.TargetGroupARNs ?? []);
    const viaSources = targetGroupArns.filter((arn) => sources.has(arn));
    const viaOlder = targetGroupArns.filter((arn) => !sources.has(arn) && older.has(arn));
    if (viaSources.length > 0) {
      await this.call(`detach target groups ${viaSources.join(', ')} from group ${name}`, () =>
        this.client.send(
          new DetachTrafficSourcesCommand({
            AutoScalingGroupName: name,
            TrafficSources: viaSources.map((arn) => ({ Identifier: arn, Type: 'elbv2' })),
          }),
        ),
      );
    }
    if (viaOlder.length > 0) {
      await this.call(`detach target groups ${viaOlder.join(', ')} from group ${name}`, () =>
        this.client.send(
          new DetachLoadBalancerTargetGroupsCommand({
            AutoScalingGroupName: name,
            TargetGroupARNs: viaOlder,
          }),
        ),
      );
    }
  }

  /** DescribeLifecycleHooks answers every hook of the group at once (it does not page). */
  async lifecycleHooks(name: string): Promise<LifecycleHookSpec[]> {
    const result = await this.call(`describe lifecycle hooks of group ${name}`, () =>
      this.client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name })),
    );
    return (result.LifecycleHooks ?? []).flatMap(toHookSpec);
  }

  /**
   * CreateOrUpdateTags overwrites a tag of the same key ("you do not get an error message"), so a
   * repeat is harmless. Not propagated: the tags describe the group (its role), not its instances.
   * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateOrUpdateTags.html
   */
  async tagGroup(name: string, tags: Record<string, string>): Promise<void> {
    await this.call(`tag group ${name}`, () =>
      this.client.send(
        new CreateOrUpdateTagsCommand({
          Tags: Object.entries(tags).map(([Key, Value]) => ({
            ResourceId: name,
            ResourceType: 'auto-scaling-group',
            Key,
            Value,
            PropagateAtLaunch: false,
          })),
        }),
      ),
    );
  }

  async scalingPolicies(name: string): Promise<ScalingPolicySpec[]> {
    const found: ScalingPolicySpec[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call(`describe scaling policies of group ${name}`, () =>
        this.client.send(
          new DescribePoliciesCommand({
            AutoScalingGroupName: name,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      for (const policy of page.ScalingPolicies ?? []) {
        const spec = toPolicySpec(policy);
        if (spec) found.push(spec);
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return found;
  }

  /** PutScalingPolicy creates or replaces the policy of that name: a repeat is harmless. */
  async putScalingPolicy(name: string, policy: ScalingPolicySpec): Promise<void> {
    const parameters: Partial<PutScalingPolicyType> = policyParameters(policy.policyType, policy.parameters);
    await this.call(`put scaling policy ${policy.name} on group ${name}`, () =>
      this.client.send(
        new PutScalingPolicyCommand({
          ...parameters,
          AutoScalingGroupName: name,
          PolicyName: policy.name,
          PolicyType: policy.policyType,
        }),
      ),
    );
  }

  async startRefresh(input: {
    group: string;
    launchTemplate: LaunchTemplateVersionRef;
    preferences: RefreshPreferences;
  }): Promise<{ refreshId: string; outcome: 'started' | 'already-started' }> {
    const { group, launchTemplate, preferences } = input;
    let inProgress: Error | undefined;
    const refused = (error: Error) => {
      inProgress = error;
      return {};
    };
    const result = await this.call(
      `start an instance refresh of group ${group} to ${launchTemplate.id} version ${launchTemplate.version}`,
      () =>
        this.client.send(
          new StartInstanceRefreshCommand({
            AutoScalingGroupName: group,
            Strategy: 'Rolling',
            DesiredConfiguration: { LaunchTemplate: launchTemplateOf(launchTemplate) },
            Preferences: toPreferences(preferences),
          }),
        ),
      { InstanceRefreshInProgress: refused, InstanceRefreshInProgressFault: refused },
    );
    if (inProgress === undefined) {
      if (result.InstanceRefreshId === undefined) {
        throw new Error('StartInstanceRefresh answered without an instance refresh id');
      }
      return { refreshId: result.InstanceRefreshId, outcome: 'started' };
    }
    const blocking = (await this.refreshes(group)).find((refresh) => BLOCKING_STATUSES.has(refresh.status));
    const desired = blocking?.desiredLaunchTemplate;
    if (
      blocking !== undefined &&
      ACTIVE_STATUSES.has(blocking.status) &&
      desired?.id === launchTemplate.id &&
      desired.version === String(launchTemplate.version)
    ) {
      return { refreshId: blocking.refreshId, outcome: 'already-started' };
    }
    throw new RefreshInProgressError(
      blocking === undefined
        ? `group ${group} has an instance refresh in progress that Auto Scaling no longer lists; try again`
        : `group ${group} has instance refresh ${blocking.refreshId} ${blocking.status} to ` +
            (desired ? `${desired.id} version ${desired.version}` : 'no desired configuration') +
            `, not to ${launchTemplate.id} version ${launchTemplate.version}`,
      blocking?.refreshId ?? '',
      desired,
      { cause: inProgress },
    );
  }

  async describeRefresh(group: string, refreshId: string): Promise<RefreshStatus | undefined> {
    const refreshes = await this.refreshes(group, [refreshId]);
    return refreshes.find((refresh) => refresh.refreshId === refreshId);
  }

  async activeRefresh(group: string): Promise<RefreshStatus | undefined> {
    return (await this.refreshes(group)).find((refresh) => ACTIVE_STATUSES.has(refresh.status));
  }

  async rollbackRefresh(group: string): Promise<{ refreshId: string } | 'none'> {
    let none = false;
    const noRefresh = () => {
      none = true;
      return {};
    };
    const result = await this.call(
      `roll back the instance refresh of group ${group}`,
      () => this.client.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: group })),
      { ActiveInstanceRefreshNotFound: noRefresh, ActiveInstanceRefreshNotFoundFault: noRefresh },
    );
    if (none) return 'none';
    if (result.InstanceRefreshId === undefined) {
      throw new Error('RollbackInstanceRefresh answered without an instance refresh id');
    }
    return { refreshId: result.InstanceRefreshId };
  }

  // ---------------------------------------------------------------------------------------------

  /** Every group matching the query, through every page. */
  private async describeGroups(
    what: string,
    query: { AutoScalingGroupNames?: string[]; Filters?: Filter[] },
  ): Promise<GroupDescription[]> {
    return (await this.rawGroups(what, query)).map(toGroupDescription);
  }

  private async rawGroup(name: string): Promise<AutoScalingGroup | undefined> {
    const groups = await this.rawGroups(`describe group ${name}`, { AutoScalingGroupNames: [name] });
    return groups.find((group) => group.AutoScalingGroupName === name);
  }

  private async rawGroups(
    what: string,
    query: { AutoScalingGroupNames?: string[]; Filters?: Filter[] },
  ): Promise<AutoScalingGroup[]> {
    const found: AutoScalingGroup[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call(what, () =>
        this.client.send(
          new DescribeAutoScalingGroupsCommand({
            ...query,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      found.push(...(page.AutoScalingGroups ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return found;
  }

  /**
   * The group's refreshes (or the ones named), newest first as AWS lists them
   * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeInstanceRefreshes.html);
   * none for a group that does not exist.
   */
  private async refreshes(group: string, ids?: string[]): Promise<RefreshStatus[]> {
    const what = `describe the instance refreshes of group ${group}`;
    const found: RefreshStatus[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call(
        what,
        () =>
          this.client.send(
            new DescribeInstanceRefreshesCommand({
              AutoScalingGroupName: group,
              ...(ids === undefined ? {} : { InstanceRefreshIds: ids }),
              ...(token === undefined ? {} : { NextToken: token }),
            }),
          ),
        {
          ValidationError: (error) => {
            if (!isNotFound(error)) throw refusedError(SERVICE, what, error);
            return { InstanceRefreshes: [] };
          },
        },
      );
      for (const refresh of page.InstanceRefreshes ?? []) {
        const status = toRefreshStatus(refresh);
        if (status) found.push(status);
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return found;
  }

  /** One call through the shared mapping of AWS errors (aws-errors.ts, `callAws`). */
  private call<T>(
    what: string,
    send: () => Promise<T>,
    handled: Record<string, (error: Error) => Partial<T>> = {},
  ): Promise<T> {
    return callAws(SERVICE, what, send, handled);
  }
}

function launchTemplateOf(ref: LaunchTemplateVersionRef): { LaunchTemplateId: string; Version: string } {
  // Guards rule 2 at the last moment: a group or refresh Kiln moves names a version number.
  if (!Number.isInteger(ref.version) || ref.version < 1) {
    throw new Error(`launch template ${ref.id}: version ${String(ref.version)} is not a version number`);
  }
  return { LaunchTemplateId: ref.id, Version: String(ref.version) };
}

/**
 * RefreshPreferences with every choice explicit
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html). No
 * AlarmSpecification when there is no alarm: AWS's AlarmSpecification takes at least one.
 */
function toPreferences(preferences: RefreshPreferences) {
  return {
    MinHealthyPercentage: preferences.minHealthyPercentage,
    MaxHealthyPercentage: preferences.maxHealthyPercentage,
    ...(preferences.instanceWarmupSeconds === undefined
      ? {}
      : { InstanceWarmup: preferences.instanceWarmupSeconds }),
    ...(preferences.checkpoints === undefined || preferences.checkpoints.length === 0
      ? {}
      : { CheckpointPercentages: [...preferences.checkpoints] }),
    ...(preferences.checkpointDelaySeconds === undefined
      ? {}
      : { CheckpointDelay: preferences.checkpointDelaySeconds }),
    SkipMatching: preferences.skipMatching,
    AutoRollback: preferences.autoRollback,
    ...(preferences.alarms.length === 0 ? {} : { AlarmSpecification: { Alarms: [...preferences.alarms] } }),
    ScaleInProtectedInstances: preferences.scaleInProtectedInstances,
    StandbyInstances: preferences.standbyInstances,
    BakeTime: preferences.bakeTimeSeconds,
  };
}

function toGroupDescription(group: AutoScalingGroup): GroupDescription {
  const tags: Record<string, string> = {};
  for (const tag of group.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  // Target groups attached either way: TrafficSources of type elbv2 and the older TargetGroupARNs.
  const targetGroupArns = [
    ...new Set([
      ...(group.TrafficSources ?? []).flatMap((source) => {
        const id = source.Identifier;
        // Type is optional when attaching; a target group ARN says what it is either way.
        const elbv2 = source.Type === 'elbv2' || (source.Type === undefined && id?.includes(':targetgroup/'));
        return id !== undefined && elbv2 ? [id] : [];
      }),
      ...(group.TargetGroupARNs ?? []),
    ]),
  ];
  const template =
    group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return {
    name: group.AutoScalingGroupName ?? '',
    arn: group.AutoScalingGroupARN ?? '',
    ...(template?.LaunchTemplateId === undefined
      ? {}
      : { launchTemplate: { id: template.LaunchTemplateId, version: template.Version ?? '$Default' } }),
    capacity: { min: group.MinSize ?? 0, max: group.MaxSize ?? 0, desired: group.DesiredCapacity ?? 0 },
    subnets: (group.VPCZoneIdentifier ?? '')
      .split(',')
      .map((subnet) => subnet.trim())
      .filter((subnet) => subnet !== ''),
    healthCheckType: group.HealthCheckType ?? 'EC2',
    healthCheckGracePeriod: group.HealthCheckGracePeriod ?? 0,
    ...(group.DefaultInstanceWarmup === undefined
      ? {}
      : { defaultInstanceWarmup: group.DefaultInstanceWarmup }),
    targetGroupArns,
    tags,
    suspendedProcesses: (group.SuspendedProcesses ?? []).flatMap((process) => process.ProcessName ?? []),
    instances: (group.Instances ?? []).map((instance) => ({
      instanceId: instance.InstanceId ?? '',
      lifecycleState: instance.LifecycleState ?? '',
      healthStatus: instance.HealthStatus ?? '',
      ...(instance.LaunchTemplate?.Version === undefined
        ? {}
        : { launchTemplateVersion: instance.LaunchTemplate.Version }),
      protectedFromScaleIn: instance.ProtectedFromScaleIn ?? false,
    })),
    ...(group.Status === undefined ? {} : { status: group.Status }),
  };
}

function toHookSpec(hook: LifecycleHook): LifecycleHookSpec[] {
  if (hook.LifecycleHookName === undefined) return [];
  const transition = hook.LifecycleTransition;
  if (
    transition !== 'autoscaling:EC2_INSTANCE_LAUNCHING' &&
    transition !== 'autoscaling:EC2_INSTANCE_TERMINATING'
  ) {
    return [];
  }
  const defaultResult = hook.DefaultResult;
  return [
    {
      name: hook.LifecycleHookName,
      transition,
      ...(hook.HeartbeatTimeout === undefined ? {} : { heartbeatTimeoutSeconds: hook.HeartbeatTimeout }),
      ...(defaultResult === 'CONTINUE' || defaultResult === 'ABANDON' ? { defaultResult } : {}),
      ...(hook.NotificationMetadata === undefined ? {} : { notificationMetadata: hook.NotificationMetadata }),
      ...(hook.NotificationTargetARN === undefined
        ? {}
        : { notificationTargetArn: hook.NotificationTargetARN }),
      ...(hook.RoleARN === undefined ? {} : { roleArn: hook.RoleARN }),
    },
  ];
}

function toPolicySpec(policy: ScalingPolicy): ScalingPolicySpec | undefined {
  if (policy.PolicyName === undefined) return undefined;
  // PolicyType is absent for policies created before types existed: those are simple scaling.
  const policyType = policy.PolicyType ?? 'SimpleScaling';
  return {
    name: policy.PolicyName,
    policyType,
    parameters: policyParameters(policyType, { ...policy }),
    ...(policy.PolicyARN === undefined ? {} : { arn: policy.PolicyARN }),
  };
}

function toRefreshStatus(refresh: InstanceRefresh): RefreshStatus | undefined {
  if (refresh.InstanceRefreshId === undefined) return undefined;
  const template = refresh.DesiredConfiguration?.LaunchTemplate;
  return {
    refreshId: refresh.InstanceRefreshId,
    status: refresh.Status ?? 'Pending',
    ...(refresh.StatusReason === undefined ? {} : { statusReason: refresh.StatusReason }),
    ...(refresh.PercentageComplete === undefined ? {} : { percentageComplete: refresh.PercentageComplete }),
    ...(refresh.InstancesToUpdate === undefined ? {} : { instancesToUpdate: refresh.InstancesToUpdate }),
    ...(template?.LaunchTemplateId === undefined
      ? {}
      : {
          desiredLaunchTemplate: { id: template.LaunchTemplateId, version: template.Version ?? '$Default' },
        }),
    ...(refresh.RollbackDetails?.RollbackReason === undefined
      ? {}
      : { rollbackReason: refresh.RollbackDetails.RollbackReason }),
  };
}
