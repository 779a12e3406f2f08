/**
 * The simulated Amazon EC2 Auto Scaling service: groups that hold their desired capacity, the
 * instance lifecycle with lifecycle hooks and load balancer draining, health-based replacement,
 * and instance refresh with checkpoints, alarms and rollback. Behaviour follows the Amazon EC2
 * Auto Scaling user guide and API reference; the rule beside each piece of code names its page.
 *
 * Time only moves through ctx.clock. Work that depends on something another service decides (EC2
 * boot, target health, draining) is driven by EC2's state-change callback, ELB's drain callback and
 * a per-group poll that runs only while a group has something to watch.
 *
 * This file wires the parts (see parts.ts) and lists every operation in one table.
 */
import type {
  AttachLoadBalancerTargetGroupsType,
  AttachTrafficSourcesType,
  AutoScalingGroupNamesType,
  CancelInstanceRefreshType,
  CompleteLifecycleActionType,
  CreateAutoScalingGroupType,
  CreateOrUpdateTagsType,
  DeleteAutoScalingGroupType,
  DeletePolicyType,
  DeleteTagsType,
  DeleteLifecycleHookType,
  DescribeAutoScalingInstancesType,
  DescribeInstanceRefreshesType,
  DescribeLifecycleHooksType,
  DescribeLoadBalancerTargetGroupsRequest,
  DescribePoliciesType,
  DescribeScalingActivitiesType,
  DescribeTagsType,
  DescribeTrafficSourcesRequest,
  DetachLoadBalancerTargetGroupsType,
  DetachTrafficSourcesType,
  EnterStandbyQuery,
  ExitStandbyQuery,
  PutLifecycleHookType,
  PutScalingPolicyType,
  RecordLifecycleActionHeartbeatType,
  RollbackInstanceRefreshType,
  ScalingProcessQuery,
  SetDesiredCapacityType,
  SetInstanceProtectionQuery,
  StartInstanceRefreshType,
  TerminateInstanceInAutoScalingGroupType,
  UpdateAutoScalingGroupType,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext, SimService } from '../../core/context';
import type { Ec2Fleet, ElbFleet } from '../fleet';
import { dispatch, operation, type OperationTable } from '../shared';
import { Activities } from './activities';
import { Capacity } from './capacity';
import { validationError } from './errors';
import { Groups } from './groups';
import { Health } from './health';
import { InstanceRefreshes } from './instance-refresh';
import { Instances } from './instances';
import { LifecycleHooks } from './lifecycle-hooks';
import type { AlarmState } from './model';
import type { AutoScaling } from './parts';
import { PolicyExecution } from './policy-execution';
import { ScalingPolicies } from './scaling-policies';
import { Standby } from './standby';
import { GroupTags } from './tags';
import { TrafficSources } from './traffic-sources';

export type { AlarmState } from './model';

export interface AutoScalingSimOptions {
  /** Current state of a CloudWatch alarm (the CloudWatch sim provides it); unknown alarms never fire. */
  alarmState?: (alarmName: string) => AlarmState;
  /** How often a group re-reads target health and advances its refresh, in virtual seconds (default 10). */
  pollSeconds?: number;
  /** First retry delay after a failed launch, in virtual seconds; doubles up to 300 (default 10). */
  launchRetrySeconds?: number;
}

/** One region's Auto Scaling: the parts, each handed this object to reach the others. */
class AutoScalingParts implements AutoScaling {
  readonly pollMs: number;
  readonly retryMs: number;
  readonly groups: Groups;
  readonly activities: Activities;
  readonly trafficSources: TrafficSources;
  readonly capacity: Capacity;
  readonly instances: Instances;
  readonly health: Health;
  readonly hooks: LifecycleHooks;
  readonly refreshes: InstanceRefreshes;
  readonly standby: Standby;
  readonly policies: ScalingPolicies;
  readonly tags: GroupTags;

  constructor(
    readonly ctx: SimContext,
    readonly ec2: Ec2Fleet,
    readonly elb: ElbFleet,
    private readonly options: AutoScalingSimOptions,
  ) {
    this.pollMs = (options.pollSeconds ?? 10) * 1000;
    this.retryMs = (options.launchRetrySeconds ?? 10) * 1000;
    // A part only keeps this object at construction; it calls the others later, once all exist.
    this.groups = new Groups(this);
    this.activities = new Activities(this);
    this.trafficSources = new TrafficSources(this);
    this.capacity = new Capacity(this);
    this.instances = new Instances(this);
    this.health = new Health(this);
    this.hooks = new LifecycleHooks(this);
    this.refreshes = new InstanceRefreshes(this);
    this.standby = new Standby(this);
    this.policies = new ScalingPolicies(this);
    this.tags = new GroupTags(this);
  }

  alarmState(alarmName: string): AlarmState | undefined {
    return this.options.alarmState?.(alarmName);
  }
}

/** Every operation the sandbox's Auto Scaling answers, by the part that owns it. */
function operationsOf(asg: AutoScalingParts): OperationTable {
  const { groups, trafficSources, activities, instances, hooks, refreshes, standby, policies, tags } = asg;
  return {
    CreateAutoScalingGroup: operation((input: CreateAutoScalingGroupType) => groups.createGroup(input)),
    UpdateAutoScalingGroup: operation((input: UpdateAutoScalingGroupType) => groups.updateGroup(input)),
    DeleteAutoScalingGroup: operation((input: DeleteAutoScalingGroupType) => groups.deleteGroup(input)),
    DescribeAutoScalingGroups: operation((input: AutoScalingGroupNamesType) => groups.describeGroups(input)),
    DescribeAutoScalingInstances: operation((input: DescribeAutoScalingInstancesType) =>
      groups.describeInstances(input),
    ),
    SetDesiredCapacity: operation((input: SetDesiredCapacityType) => groups.setDesiredCapacity(input)),
    SuspendProcesses: operation((input: ScalingProcessQuery) => groups.suspendProcesses(input)),
    ResumeProcesses: operation((input: ScalingProcessQuery) => groups.resumeProcesses(input)),

    AttachLoadBalancerTargetGroups: operation((input: AttachLoadBalancerTargetGroupsType) =>
      trafficSources.attachTargetGroups(input),
    ),
    DetachLoadBalancerTargetGroups: operation((input: DetachLoadBalancerTargetGroupsType) =>
      trafficSources.detachTargetGroups(input),
    ),
    DescribeLoadBalancerTargetGroups: operation((input: DescribeLoadBalancerTargetGroupsRequest) =>
      trafficSources.describeTargetGroups(input),
    ),
    AttachTrafficSources: operation((input: AttachTrafficSourcesType) =>
      trafficSources.attachTrafficSources(input),
    ),
    DetachTrafficSources: operation((input: DetachTrafficSourcesType) =>
      trafficSources.detachTrafficSources(input),
    ),
    DescribeTrafficSources: operation((input: DescribeTrafficSourcesRequest) =>
      trafficSources.describeTrafficSources(input),
    ),

    DescribeScalingActivities: operation((input: DescribeScalingActivitiesType) =>
      activities.describeActivities(input),
    ),

    TerminateInstanceInAutoScalingGroup: operation((input: TerminateInstanceInAutoScalingGroupType) =>
      instances.terminateInstanceInGroup(input),
    ),
    SetInstanceProtection: operation((input: SetInstanceProtectionQuery) =>
      instances.setInstanceProtection(input),
    ),
    EnterStandby: operation((input: EnterStandbyQuery) => standby.enterStandby(input)),
    ExitStandby: operation((input: ExitStandbyQuery) => standby.exitStandby(input)),

    PutLifecycleHook: operation((input: PutLifecycleHookType) => hooks.putHook(input)),
    DescribeLifecycleHooks: operation((input: DescribeLifecycleHooksType) => hooks.describeHooks(input)),
    DeleteLifecycleHook: operation((input: DeleteLifecycleHookType) => hooks.deleteHook(input)),
    CompleteLifecycleAction: operation((input: CompleteLifecycleActionType) =>
      hooks.completeLifecycleAction(input),
    ),
    RecordLifecycleActionHeartbeat: operation((input: RecordLifecycleActionHeartbeatType) =>
      hooks.recordHeartbeat(input),
    ),

    CreateOrUpdateTags: operation((input: CreateOrUpdateTagsType) => tags.createOrUpdateTags(input)),
    DeleteTags: operation((input: DeleteTagsType) => tags.deleteTags(input)),
    DescribeTags: operation((input: DescribeTagsType) => tags.describeTags(input)),

    PutScalingPolicy: operation((input: PutScalingPolicyType) => policies.putScalingPolicy(input)),
    DescribePolicies: operation((input: DescribePoliciesType) => policies.describePolicies(input)),
    DeletePolicy: operation((input: DeletePolicyType) => policies.deletePolicy(input)),

    StartInstanceRefresh: operation((input: StartInstanceRefreshType) => refreshes.startRefresh(input)),
    DescribeInstanceRefreshes: operation((input: DescribeInstanceRefreshesType) =>
      refreshes.describeRefreshes(input),
    ),
    CancelInstanceRefresh: operation((input: CancelInstanceRefreshType) => refreshes.cancelRefresh(input)),
    RollbackInstanceRefresh: operation((input: RollbackInstanceRefreshType) =>
      refreshes.rollbackRefresh(input),
    ),
  };
}

export class AutoScalingSim implements SimService {
  readonly serviceId = 'Auto Scaling';
  private readonly operations: OperationTable;
  private readonly policyExecution: PolicyExecution;
  private readonly parts: AutoScalingParts;

  constructor(ctx: SimContext, ec2: Ec2Fleet, elb: ElbFleet, options: AutoScalingSimOptions = {}) {
    const asg = new AutoScalingParts(ctx, ec2, elb, options);
    this.parts = asg;
    ec2.onStateChange((instance, from, to) => asg.instances.onEc2StateChange(instance, from, to));
    this.operations = operationsOf(asg);
    this.policyExecution = new PolicyExecution(asg);
  }

  /** An alarm's Auto Scaling action (CloudWatch calls it; the region wires the two). */
  runPolicy(policyArn: string, alarm: { name: string; breach?: number }): void {
    this.policyExecution.run(policyArn, alarm);
  }

  /**
   * A group's tags and target groups as they are now, or undefined when there is no such group.
   * For observers (sandbox/observe/): no API call, nothing recorded, nothing shared with the sim.
   */
  peekGroup(name: string): { tags: Record<string, string>; targetGroupArns: string[] } | undefined {
    const group = this.parts.groups.all().find((g) => g.name === name);
    if (group === undefined) return undefined;
    const tags: Record<string, string> = {};
    for (const tag of group.tags) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
    return { tags, targetGroupArns: [...group.targetGroupArns] };
  }

  /** A group's desired capacity now (undefined: no such group), for observers as peekGroup. */
  peekDesiredCapacity(name: string): number | undefined {
    return this.parts.groups.all().find((g) => g.name === name)?.desired;
  }

  handle(operation: string, input: unknown): Promise<object> {
    return dispatch(this.operations, operation, input, (name) =>
      validationError(`The sandbox does not simulate Auto Scaling operation ${name}`),
    );
  }
}
