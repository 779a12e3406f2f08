/**
 * The parts of the Auto Scaling simulator and what each offers the others. Auto Scaling's behaviour
 * is one web of reactions (a finished drain moves a lifecycle hook, which moves an instance, which
 * moves a refresh, which launches and terminates), so the parts call each other freely, but only
 * through these interfaces: no part file imports another, and index.ts wires them together.
 *
 * A part's operations (the SDK calls it answers) are not listed here: only index.ts's operation
 * table calls them.
 */
import type {
  Activity,
  LaunchTemplateSpecification,
  LifecycleHookSpecification,
  TrafficSourceIdentifier,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import type { Ec2Fleet, ElbFleet, ResolvedLaunchTemplate } from '../fleet';
import type {
  AlarmState,
  Group,
  Hook,
  Member,
  MemberState,
  Refresh,
  RefreshPass,
  RefreshStatus,
} from './model';

/** Everything a part may use: the context, the services Auto Scaling drives, and the other parts. */
export interface AutoScaling {
  readonly ctx: SimContext;
  readonly ec2: Ec2Fleet;
  readonly elb: ElbFleet;
  /** How often a group that has something to watch re-reads health and advances its refresh. */
  readonly pollMs: number;
  /** The first retry delay after a failed launch. */
  readonly retryMs: number;
  /** A CloudWatch alarm's state; undefined when no alarm source is wired (the alarm never fires). */
  alarmState(alarmName: string): AlarmState | undefined;

  readonly groups: GroupsPart;
  readonly activities: ActivitiesPart;
  readonly trafficSources: TrafficSourcesPart;
  readonly capacity: CapacityPart;
  readonly instances: InstancesPart;
  readonly health: HealthPart;
  readonly hooks: LifecycleHooksPart;
  readonly refreshes: InstanceRefreshesPart;
}

/** groups.ts: the groups themselves and which group owns which instance. */
export interface GroupsPart {
  /** The named group, or AWS's ValidationError when it does not exist (or has finished deleting). */
  get(name: string | undefined): Group;
  /** Every group, in creation order. */
  all(): Group[];
  /** The group and member behind an EC2 instance id, if a group owns it. */
  ownerOf(instanceId: string): { group: Group; member: Member } | undefined;
  /** Adds a launched instance to its group. */
  adopt(group: Group, member: Member): void;
  /** Removes an instance that has left its group. */
  release(group: Group, member: Member): void;
  /** Resolves a launch template reference, turning EC2's error into Auto Scaling's ValidationError. */
  resolveTemplate(spec: LaunchTemplateSpecification, field: string): ResolvedLaunchTemplate;
  /** Forgets a deleting group once its last instance has gone. */
  removeIfEmpty(group: Group): void;
}

/** activities.ts: scaling activities and the instance launch/terminate events. */
export interface ActivitiesPart {
  newActivity(
    group: Group,
    description: string,
    cause: string,
    member?: { az: string; subnet: string },
  ): Activity;
  endActivity(activity: Activity, status: 'Successful' | 'Failed' | 'Cancelled', message?: string): void;
  emitInstanceEvent(
    group: Group,
    detailType: string,
    activity: Activity,
    member: Member | undefined,
    route: { origin: string; destination: string; az?: string; subnet?: string },
  ): void;
}

/** traffic-sources.ts: the target groups a group registers its instances with, and their states. */
export interface TrafficSourcesPart {
  validateTargetGroups(arns: readonly string[]): void;
  trafficSourceArn(source: TrafficSourceIdentifier): string;
  register(member: Member, arn: string): void;
  /** Records the target groups CreateAutoScalingGroup attached (InService from the start). */
  attachedAtCreation(group: Group): void;
  /** Moves attachments on the group's poll: Adding → Added (registering), Added → InService. */
  poll(group: Group): void;
  /** Whether an attachment waits on the group's poll to move on. */
  needsPoll(group: Group): boolean;
  /** Whether the target group is InService, so that Auto Scaling acts on its ELB health checks. */
  inService(group: Group, arn: string): boolean;
}

/** capacity.ts: holding desired capacity by launching and terminating. */
export interface CapacityPart {
  reconcile(group: Group, cause: string): void;
  scheduleLaunchRetry(group: Group): void;
}

/** instances.ts: one instance's way through Pending, InService and Terminating. */
export interface InstancesPart {
  setState(group: Group, member: Member, to: MemberState): void;
  onRunning(group: Group, member: Member): void;
  proceedLaunch(group: Group, member: Member): void;
  beginTerminate(group: Group, member: Member, cause: string): Activity;
  proceedTerminate(group: Group, member: Member): void;
  terminateEc2(group: Group, member: Member): void;
  onEc2Gone(group: Group, member: Member): void;
}

/** health.ts: health checks, replacement of unhealthy instances, and the group's poll. */
export interface HealthPart {
  armTick(group: Group): void;
  checkHealth(group: Group): void;
}

/** lifecycle-hooks.ts: hooks and the lifecycle actions that hold instances in a wait state. */
export interface LifecycleHooksPart {
  buildHook(
    name: string | undefined,
    spec: Partial<LifecycleHookSpecification>,
    existing: Hook | undefined,
  ): Hook;
  openAction(group: Group, member: Member, hook: Hook): void;
  clearActions(member: Member): void;
}

/** instance-refresh.ts: rolling replacement with checkpoints, alarms and rollback. */
export interface InstanceRefreshesPart {
  /** The group's refresh that is still acting on it, if any. */
  active(group: Group): Refresh | undefined;
  currentPass(refresh: Refresh): RefreshPass;
  /** Advances a refresh as far as it can go now. */
  step(group: Group, refresh: Refresh): void;
  setStatus(group: Group, refresh: Refresh, to: RefreshStatus, reason?: string): void;
  /**
   * A launch failed, or a launched instance failed its health checks, never booted or was abandoned:
   * a refresh whose new instances fail keeps retrying, then fails (see refresh-failures.ts).
   * `member` is the instance that failed, when one was launched.
   */
  noteFailure(
    group: Group,
    cause: 'launch-failures' | 'health-checks',
    member: Member | undefined,
    example: string,
  ): void;
}
