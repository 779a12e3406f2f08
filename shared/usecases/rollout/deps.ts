/**
 * What every rollout step takes (its dependencies, DESIGN.md "Conventions"), the ports the AWS
 * adapters implement (shared/aws/{autoscaling,launch-templates,elbv2,cloudwatch}.ts), and the state
 * the deploy state machine carries through the rollout (statemachines/deploy.asl.json, from
 * `RolloutBegin` on). This file is the contract between the rollout's parts: the ASL, the step
 * handler (functions/steps/rollout.ts), the use cases beside this file and the adapters.
 *
 * Ports speak Kiln's types, not the SDK's: a use case never sees an SDK shape, and a unit test
 * fakes a port with a plain object.
 */
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { Notice, NotificationTarget } from '../../domain/notifications';
import type { KilnStore } from '../../store';
import type { EnvironmentRecord } from '../../store/schemas';

// ---------------------------------------------------------------------------------------------
// Ports

export interface Capacity {
  min: number;
  max: number;
  desired: number;
}

export interface LaunchTemplateVersionRef {
  id: string;
  /** Always a number (DESIGN.md rule 2): `$Latest`/`$Default` are resolved before they get here. */
  version: number;
}

export interface GroupInstance {
  instanceId: string;
  /** Auto Scaling's lifecycle state as AWS spells it: `Pending`, `InService`, `Terminating:Wait`, … */
  lifecycleState: string;
  /** `Healthy` | `Unhealthy`. */
  healthStatus: string;
  /** The launch template version the instance was launched from (a number as a string), if any. */
  launchTemplateVersion?: string;
  protectedFromScaleIn: boolean;
}

export interface LifecycleHookSpec {
  name: string;
  transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  heartbeatTimeoutSeconds?: number;
  defaultResult?: 'CONTINUE' | 'ABANDON';
  notificationMetadata?: string;
  notificationTargetArn?: string;
  roleArn?: string;
}

/** A scaling policy as it can be re-created on another group (PutScalingPolicy's inputs). */
export interface ScalingPolicySpec {
  name: string;
  /** `TargetTrackingScaling` | `StepScaling` | `SimpleScaling` | `PredictiveScaling`. */
  policyType: string;
  /** PutScalingPolicy's other parameters, as AWS names them, copied as DescribePolicies gave them. */
  parameters: Record<string, unknown>;
  /**
   * DescribePolicies' PolicyARN (what an alarm's actions name); not sent by putScalingPolicy.
   * Added by the blue/green helper: green's copy of a step or simple policy is added to the alarms
   * that invoke blue's.
   */
  arn?: string;
}

export interface GroupDescription {
  name: string;
  arn: string;
  /** The launch template as the group names it (version as AWS says it: a number, `$Latest` or `$Default`). */
  launchTemplate?: { id: string; version: string };
  capacity: Capacity;
  /** VPCZoneIdentifier, split. */
  subnets: string[];
  healthCheckType: string;
  healthCheckGracePeriod: number;
  defaultInstanceWarmup?: number;
  /** Target groups attached (as traffic sources or through the older target group API). */
  targetGroupArns: string[];
  tags: Record<string, string>;
  suspendedProcesses: string[];
  instances: GroupInstance[];
  /** `Delete in progress` while the group is being deleted. */
  status?: string;
}

/** What an environment's group is created from when blue/green makes the green one. */
export interface GroupSpec {
  name: string;
  launchTemplate: LaunchTemplateVersionRef;
  capacity: Capacity;
  subnets: string[];
  healthCheckType: string;
  healthCheckGracePeriod: number;
  defaultInstanceWarmup?: number;
  tags: Record<string, string>;
  /** Created with the group, so no instance starts without them (LifecycleHookSpecificationList). */
  lifecycleHooks: LifecycleHookSpec[];
  /** Attached at creation; blue/green leaves this empty and attaches green when it is ready. */
  targetGroupArns: string[];
}

/** Instance refresh preferences as Kiln sends them (RefreshPreferences, every field explicit). */
export interface RefreshPreferences {
  minHealthyPercentage: number;
  maxHealthyPercentage: number;
  instanceWarmupSeconds?: number;
  checkpoints?: number[];
  checkpointDelaySeconds?: number;
  bakeTimeSeconds: number;
  skipMatching: boolean;
  autoRollback: boolean;
  /** CloudWatch alarm names (at most 10, AWS's limit). */
  alarms: string[];
  scaleInProtectedInstances: 'Refresh' | 'Ignore' | 'Wait';
  standbyInstances: 'Terminate' | 'Ignore' | 'Wait';
}

/** An instance refresh as DescribeInstanceRefreshes tells it. */
export interface RefreshStatus {
  refreshId: string;
  /** AWS's status: `Pending`, `InProgress`, `Successful`, `Failed`, `Cancelling`, `Cancelled`,
   * `RollbackInProgress`, `RollbackFailed`, `RollbackSuccessful`, `Baking`. */
  status: string;
  statusReason?: string;
  percentageComplete?: number;
  instancesToUpdate?: number;
  /** The launch template version the refresh moves the group to. */
  desiredLaunchTemplate?: { id: string; version: string };
  rollbackReason?: string;
}

export interface AutoScalingPort {
  describeGroup(name: string): Promise<GroupDescription | undefined>;
  /** Groups carrying every one of these tags (blue/green's kept groups). */
  findGroupsByTags(tags: Record<string, string>): Promise<GroupDescription[]>;
  createGroup(spec: GroupSpec): Promise<'created' | 'already-exists'>;
  /** ForceDelete: terminates the group's instances too. */
  deleteGroup(name: string): Promise<'deleted' | 'already-gone'>;
  /** Changes only what is given. */
  updateGroup(
    name: string,
    change: { launchTemplate?: LaunchTemplateVersionRef; capacity?: Capacity },
  ): Promise<void>;
  suspendProcesses(name: string, processes: readonly string[]): Promise<void>;
  resumeProcesses(name: string, processes: readonly string[]): Promise<void>;
  attachTargetGroups(name: string, targetGroupArns: readonly string[]): Promise<void>;
  detachTargetGroups(name: string, targetGroupArns: readonly string[]): Promise<void>;
  lifecycleHooks(name: string): Promise<LifecycleHookSpec[]>;
  scalingPolicies(name: string): Promise<ScalingPolicySpec[]>;
  putScalingPolicy(name: string, policy: ScalingPolicySpec): Promise<void>;
  /**
   * Adds or overwrites these tags on the group (CreateOrUpdateTags), not propagated to instances.
   * Blue/green marks a retired group `kiln:role=retired` this way (added by the blue/green helper).
   */
  tagGroup(name: string, tags: Record<string, string>): Promise<void>;
  /**
   * Starts a refresh to `launchTemplate`, or finds one in progress to the same version and
   * adopts it (StartInstanceRefresh takes no client token): `already-started`. A refresh in
   * progress to anything else is an error (RefreshInProgressError).
   */
  startRefresh(input: {
    group: string;
    launchTemplate: LaunchTemplateVersionRef;
    preferences: RefreshPreferences;
  }): Promise<{ refreshId: string; outcome: 'started' | 'already-started' }>;
  describeRefresh(group: string, refreshId: string): Promise<RefreshStatus | undefined>;
  /** The group's refresh that is Pending, InProgress, Baking or RollbackInProgress, if any. */
  activeRefresh(group: string): Promise<RefreshStatus | undefined>;
  /** RollbackInstanceRefresh: `none` when no refresh is in progress (ActiveInstanceRefreshNotFound). */
  rollbackRefresh(group: string): Promise<{ refreshId: string } | 'none'>;
}

export interface LaunchTemplatePort {
  /**
   * A new version from `sourceVersion` with only the image changed (CreateLaunchTemplateVersion
   * with SourceVersion), idempotent by `clientToken`.
   */
  createVersion(input: {
    launchTemplateId: string;
    sourceVersion: number;
    imageId: string;
    description: string;
    clientToken: string;
  }): Promise<LaunchTemplateVersionRef>;
  /** `$Latest`, `$Default` or a number, as a number. */
  resolveVersion(launchTemplateId: string, version: string): Promise<number>;
  describeVersion(
    launchTemplateId: string,
    version: number,
  ): Promise<{ version: number; imageId?: string } | undefined>;
}

/** ELB's target states: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html */
export type TargetState =
  'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable' | 'unhealthy.draining';

export interface TargetHealthEntry {
  instanceId: string;
  state: TargetState;
  reason?: string;
}

export interface LoadBalancingPort {
  targetHealth(targetGroupArn: string): Promise<TargetHealthEntry[]>;
  /**
   * The target group's `deregistration_delay.timeout_seconds` (DescribeTargetGroupAttributes):
   * how long a target that left it stays draining, which bounds a blue/green rollback.
   */
  deregistrationDelaySeconds(targetGroupArn: string): Promise<number>;
}

export interface AlarmStatus {
  name: string;
  /** `OK` | `ALARM` | `INSUFFICIENT_DATA`. */
  state: string;
  reason?: string;
  /** Epoch milliseconds of the last state change. */
  updatedAt?: number;
  /** Which list DescribeAlarms answered it in (on-alarm's reconcile names it in what it records). */
  kind?: 'metric' | 'composite';
}

export interface AlarmPort {
  /** Current states; an alarm that does not exist is left out. */
  states(names: readonly string[]): Promise<AlarmStatus[]>;
  /** Moves into ALARM since `since` (DescribeAlarmHistory, StateUpdate), oldest first. */
  wentIntoAlarm(
    names: readonly string[],
    since: number,
  ): Promise<Array<{ name: string; at: number; reason?: string }>>;
  /*
   * Added by the blue/green helper: a step or simple scaling policy is invoked by the alarms that
   * name its ARN, so green's copy of blue's policy must be named by the same alarms.
   */
  /** Metric alarms with `action` among their actions (any state's). */
  alarmsWithAction(action: string): Promise<string[]>;
  /** Adds `added` beside `existing` in each of the alarm's action lists that holds `existing` (PutMetricAlarm). */
  mirrorAlarmAction(alarmName: string, existing: string, added: string): Promise<void>;
  /** Takes `action` out of every action list of the alarm. */
  removeAlarmAction(alarmName: string, action: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Dependencies

export interface RolloutDeps {
  store: KilnStore<ServiceManifest>;
  autoScaling: (region: string) => AutoScalingPort;
  launchTemplates: (region: string) => LaunchTemplatePort;
  loadBalancing: (region: string) => LoadBalancingPort;
  alarms: (region: string) => AlarmPort;
  /**
   * Resumes a waiting task (SendTaskSuccess); a token already used or expired is success (the
   * task has moved on).
   */
  wake: (taskToken: string, output: unknown) => Promise<void>;
  now: () => number;
  /** Who the store records as acting (the state machine's step function). */
  actor: string;
  /**
   * Sends a notice (shared/usecases/notify `notify`, bound to its adapters); never throws. Absent:
   * the steps notify nobody (tests of other concerns, tools that drive steps by hand).
   */
  notify?: (notice: Notice) => Promise<unknown>;
}

// ---------------------------------------------------------------------------------------------
// The state the ASL carries (JSONPath): the execution input, then what each step put under its key.

/** `$.rollout`: which environment is next, and the gate before it. */
export interface RolloutCursor {
  mode: 'deploy' | 'rollback';
  environments: string[];
  /** The environment in progress (or next). */
  index: number;
  /** Every environment done: the ASL goes to `RolloutSucceeded`. */
  done: boolean;
  /**
   * The manifest's `notifications` block, set by `rollout-begin` only when it names a destination,
   * so the steps know without a read whether to notify anyone (./notices.ts).
   */
  notifications?: NotificationTarget;
  /** Set by `environment-done` when another environment follows. */
  gate?: {
    /** The next environment's bakeTimeMinutes, in seconds: how long the ASL's `BakeGate` waits. */
    bakeSeconds: number;
    approval: boolean;
    approvalTimeoutSeconds: number;
    next: string;
    /** Epoch milliseconds: when the bake started (alarm history is read from then). */
    since: number;
  };
}

/** `$.lock`: what `take-lock` found. */
export interface LockOutcome {
  outcome: 'acquired' | 'wait' | 'superseded' | 'aborted';
  holder?: string;
  /** Epoch milliseconds the holder's lease runs to. */
  until?: number;
}

/** `$.env`: one environment's rollout, settled by `prepare-environment` and added to as it goes. */
export interface EnvironmentRun {
  name: string;
  region: string;
  strategy: 'rolling' | 'blue-green';
  /** What ran before: restored exactly by a rollback. */
  before: EnvironmentRecord;
  /** What the rollout moves to. */
  target: {
    release: string;
    imageId: string;
    launchTemplate: LaunchTemplateVersionRef;
    /** Rolling: the same group; blue/green: the green group. */
    group: string;
    capacity: Capacity;
  };
  targetGroupArns: string[];
  /** Rolling: the refresh carrying it. */
  refreshId?: string;
  /** Blue/green: green attached to the target groups / blue detached (epoch milliseconds). */
  attachedAt?: number;
  switchedAt?: number;
  /** Blue/green: when `create-green` first ran (epoch ms); green must be ready within the health gate's timeout of it. */
  greenCreatedAt?: number;
  /**
   * Blue/green: switch processes blue already had suspended before Kiln suspended them; they stay
   * suspended when Kiln resumes the others (the platform team's choice is not Kiln's to undo).
   */
  blueSuspended?: string[];
  /** Seconds the rollout alarms are watched after the switch (the bake time, at least 1). */
  watchSeconds?: number;
  /**
   * Seconds the ASL's next WatchSwitch waits (its TimeoutSecondsPath): the whole watch on entry,
   * then what is left of it each time check-watch sends the wait back (WatchOn).
   */
  watchWaitSeconds?: number;
  /** Set by `rollback-environment`: what it undid. */
  rollback?: {
    kind: 'nothing' | 'refresh-rollback' | 'refresh-to-previous' | 'discard-green' | 'restore-blue';
    refreshId?: string;
    reason: string;
    /** When the rollback started (epoch ms): blue/green's deadline runs from it. */
    startedAt?: number;
    /**
     * Blue/green: how long the rollback may take from `startedAt`, from what it waits on
     * (shared/domain/blue-green.ts `rollbackDeadline`), and that sum in words.
     */
    deadline?: { seconds: number; why: string };
  };
  startedAt: number;
}

/** `$.check`: what a check step found; the ASL's Choice reads `outcome`. */
export interface CheckOutcome {
  outcome:
    | 'waiting'
    | 'succeeded'
    | 'failed'
    | 'rolled-back'
    | 'ready'
    | 'healthy'
    | 'clear'
    | 'alarm'
    | 'abort'
    | 'done';
  reason?: string;
  /** Blue/green's health gate: since when every green target has been healthy (epoch ms). */
  healthySince?: number;
  /** Blue/green's watch, `waiting`: seconds left of it (at least 1), what WatchOn waits next. */
  remainingSeconds?: number;
  percentage?: number;
}

/** The execution's state as the ASL hands it to each rollout step. */
export interface RolloutState {
  deploymentId: string;
  service: string;
  version: string;
  manifestVersion: number;
  artifact?: { kind: string; uri: string; digest: string };
  environments?: string[];
  mode?: 'deploy' | 'rollback';
  /** `$.release` from the bake's RecordRelease; absent when the bake was skipped. */
  release?: { version: string; amis: Record<string, string> };
  rollout?: RolloutCursor;
  lock?: LockOutcome;
  env?: EnvironmentRun;
  check?: CheckOutcome;
  /** `$.approval`: what `kiln approve` sent (the approval task's output). */
  approval?: { approved: boolean; actor: string; reason?: string };
  error?: { Error?: string; Cause?: string };
}

/** Task token keys (DESIGN.md rule 5): what each wait is stored under (`/` apart: keys refuse `#`). */
export const tokenKeys = {
  /** waitKind `lock`: one per waiting deployment, so a release wakes every waiter of the environment. */
  lock: (service: string, environment: string, deploymentId: string) =>
    `${service}/${environment}/${deploymentId}`,
  lockPrefix: (service: string, environment: string) => `${service}/${environment}/`,
  /** waitKind `approval`: `kiln approve DEPLOYMENT` takes it. */
  approval: (deploymentId: string) => deploymentId,
  /** waitKind `refresh`: on-progress wakes it on the refresh's events. */
  refresh: (refreshId: string) => refreshId,
  /** waitKind `alarm`: blue/green's watch after the switch (on-alarm wakes it, issue 11). */
  watch: (deploymentId: string, environment: string) => `${deploymentId}/${environment}`,
  /** waitKind `group`: a rollback or green group coming up. */
  group: (deploymentId: string, environment: string) => `${deploymentId}/${environment}/group`,
};

/** What a woken task receives: on-progress's wake, an abort, or an approval. */
export type WakeReason = { woken: 'event' | 'abort' | 'lock-released' | 'poll' };
