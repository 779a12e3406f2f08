/**
 * The simulator's internal state for Auto Scaling groups, their instances, hooks and refreshes, and
 * the small pure rules every part reads it by.
 */
import type { Activity, LaunchTemplateSpecification, ScalingPolicy, Tag } from '@aws-sdk/client-auto-scaling';
import type { TimerHandle } from '../../core/context';
import type { ResolvedLaunchTemplate } from '../fleet';
import type { Stuck } from './refresh-failures';
import type { MaintenancePolicy, ResolvedPreferences } from './refresh-rules';

/** The `source` of every event Auto Scaling emits. */
export const EVENT_SOURCE = 'aws.autoscaling';

/** A CloudWatch alarm's state, as an instance refresh's AlarmSpecification reads it. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
export type HookTransition = typeof LAUNCHING | typeof TERMINATING;

export type MemberState =
  | 'Pending'
  | 'Pending:Wait'
  | 'Pending:Proceed'
  | 'InService'
  | 'Terminating'
  | 'Terminating:Wait'
  | 'Terminating:Proceed'
  | 'Terminated'
  | 'EnteringStandby'
  | 'Standby';

/** The processes SuspendProcesses accepts. https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html */
export const SCALING_PROCESSES = [
  'Launch',
  'Terminate',
  'AddToLoadBalancer',
  'AlarmNotification',
  'AZRebalance',
  'HealthCheck',
  'InstanceRefresh',
  'ReplaceUnhealthy',
  'ScheduledActions',
] as const;
export type ScalingProcess = (typeof SCALING_PROCESSES)[number];

export interface Hook {
  name: string;
  transition: HookTransition;
  heartbeatTimeout: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
  notificationMetadata?: string;
  notificationTargetArn?: string;
  roleArn?: string;
}

export interface LifecycleAction {
  token: string;
  hookName: string;
  transition: HookTransition;
  heartbeatTimer: TimerHandle;
  globalTimer: TimerHandle;
}

export interface InstanceLaunchTemplate {
  id: string;
  name: string;
  version: number;
}

export interface Member {
  instanceId: string;
  state: MemberState;
  health: 'Healthy' | 'Unhealthy';
  launchTemplate: InstanceLaunchTemplate;
  instanceType: string;
  availabilityZone: string;
  subnetId: string;
  launchedAt: number;
  protectedFromScaleIn: boolean;
  inServiceAt?: number;
  /** Target groups this instance is registered with. */
  registered: Set<string>;
  /** Lifecycle actions still open, by token; the instance waits until all of them complete. */
  actions: Map<string, LifecycleAction>;
  /** Set once any hook answers ABANDON on launch. */
  abandoned: boolean;
  activity: Activity;
  warmupTimer?: TimerHandle;
}

export interface RefreshPass {
  /** The configuration instances are moved to. */
  target: ResolvedLaunchTemplate;
  /** Old instances still to replace, in the order they will go. */
  pending: string[];
  /** Instances in the group when the pass began (the 100 % mark). */
  total: number;
  /** Checkpoints not yet reached, ascending; the last one ends the pass. */
  checkpoints: number[];
  /** Extra capacity above desired while a launch-first batch is in flight. */
  surge: number;
  /** Old instances to terminate once the launch-first batch is ready. */
  deferred: string[];
  /** Old instances taken out by a batch, until they have left the group. */
  replaced: string[];
  /** Sizes of the batches started so far (launches + terminations). */
  batches: number[];
  /** New instances that were ready at the last step: more now means the pass made progress. */
  lastReady: number;
  /** Set while the pass cannot make progress; it fails once this has lasted the retry window. */
  stuck?: Stuck;
}

export type RefreshStatus =
  | 'Pending'
  | 'InProgress'
  | 'Successful'
  | 'Failed'
  | 'Cancelling'
  | 'Cancelled'
  | 'RollbackInProgress'
  | 'RollbackSuccessful'
  | 'RollbackFailed'
  | 'Baking';

/** The statuses of a refresh that still acts on its group (at most one per group). */
export const ACTIVE_REFRESH: readonly RefreshStatus[] = [
  'Pending',
  'InProgress',
  'Cancelling',
  'RollbackInProgress',
  'Baking',
];

export interface Refresh {
  id: string;
  status: RefreshStatus;
  statusReason?: string;
  startTime: number;
  endTime?: number;
  preferences: ResolvedPreferences;
  desiredConfiguration?: LaunchTemplateSpecification;
  forward: RefreshPass;
  rollback?: { pass: RefreshPass; reason: string; startTime: number; total: number };
  pausedUntil?: number;
  bakeUntil?: number;
}

export interface Group {
  name: string;
  arn: string;
  createdTime: number;
  launchTemplate: LaunchTemplateSpecification;
  launchTemplateId: string;
  launchTemplateName: string;
  minSize: number;
  maxSize: number;
  desired: number;
  defaultCooldown: number;
  availabilityZones: string[];
  subnets: string[];
  healthCheckType: string;
  healthCheckGracePeriod: number;
  defaultInstanceWarmup?: number;
  /** InstanceMaintenancePolicy: the healthy bounds of replacements, and the refresh defaults. */
  maintenancePolicy?: MaintenancePolicy;
  targetGroupArns: string[];
  terminationPolicies: string[];
  newInstancesProtectedFromScaleIn: boolean;
  tags: Tag[];
  /** Scaling policies by name (stored and described, not executed: scaling-policies.ts). */
  policies: Map<string, ScalingPolicy>;
  suspended: Set<ScalingProcess>;
  members: Map<string, Member>;
  hooks: Map<string, Hook>;
  refreshes: Refresh[];
  activities: Activity[];
  deleting: boolean;
  // `| undefined`: cleared by assignment; `delete` would make the group a dictionary-mode object.
  tickTimer?: TimerHandle | undefined;
  retryTimer?: TimerHandle;
  /** Consecutive failed launches, for the retry backoff. */
  launchFailures: number;
}

const TERMINATING_STATES: readonly MemberState[] = [
  'Terminating',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Terminated',
];

export function isTerminating(member: Member): boolean {
  return TERMINATING_STATES.includes(member.state);
}

/** EnterStandby took the instance out of service (it is still draining in EnteringStandby). */
export function isStandby(member: Member): boolean {
  return member.state === 'EnteringStandby' || member.state === 'Standby';
}

/**
 * An instance on its way out no longer counts toward the group's capacity, nor does one in Standby:
 * without a decrement "the Auto Scaling group launches new instances to replace the instances on
 * standby". https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html
 */
export function countsTowardCapacity(member: Member): boolean {
  return !isTerminating(member) && !isStandby(member);
}

/** Whether the instance runs exactly this launch template version. */
export function matches(member: Member, template: ResolvedLaunchTemplate | undefined): boolean {
  return (
    template !== undefined &&
    member.launchTemplate.id === template.launchTemplateId &&
    member.launchTemplate.version === template.version
  );
}

/** The timeline resource of an instance in a group. */
export function resourceOf(group: Group, member: Member): string {
  return `autoscaling:${group.name}/${member.instanceId}`;
}
