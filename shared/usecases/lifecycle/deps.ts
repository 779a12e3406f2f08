/**
 * The ports lifecycle handling uses (adapters in shared/aws/lifecycle.ts, shared/aws/autoscaling.ts,
 * shared/aws/ssm.ts), and the state the handling's execution carries from step to step.
 */
import type { ExpectedImage, LifecycleAction, Transition } from '../../domain/lifecycle';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';
import type { CommandRequest, CommandResult } from '../../aws/ssm';
import type { GroupDescription, LifecycleHookSpec } from '../rollout/deps';

/** Names an action for CompleteLifecycleAction / RecordLifecycleActionHeartbeat. */
export type ActionRef = Pick<LifecycleAction, 'groupName' | 'hookName' | 'instanceId' | 'token'>;

export interface LifecycleActionsPort {
  complete(action: ActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'no-active-action'>;
  heartbeat(action: ActionRef): Promise<'recorded' | 'no-active-action'>;
}

export interface GroupsPort {
  describeGroup(name: string): Promise<GroupDescription | undefined>;
  findGroupsByTags(tags: Record<string, string>): Promise<GroupDescription[]>;
  lifecycleHooks(name: string): Promise<LifecycleHookSpec[]>;
}

export interface DrainPort {
  deregister(targetGroupArn: string, instanceId: string): Promise<'deregistered' | 'not-registered'>;
  targetState(targetGroupArn: string, instanceId: string): Promise<string>;
  deregistrationDelaySeconds(targetGroupArn: string): Promise<number>;
}

export interface InstanceView {
  imageId?: string;
  state?: string;
}

export interface InstancesPort {
  describe(instanceId: string): Promise<InstanceView | undefined>;
}

export interface CommandsPort {
  sendOnce(request: CommandRequest): Promise<{ commandId: string; sent: boolean }>;
  commandResult(commandId: string, instanceId: string): Promise<CommandResult>;
}

/** What the handling steps use, per Region where AWS is concerned. */
export interface LifecycleDeps {
  store: KilnStore<ServiceManifest>;
  groups: (region: string) => GroupsPort;
  actions: (region: string) => LifecycleActionsPort;
  drain: (region: string) => DrainPort;
  instances: (region: string) => InstancesPort;
  commands: (region: string) => CommandsPort;
  now: () => number;
}

/** One target group's drain. */
export interface TargetDrainState {
  targetGroupArn: string;
  deregisteredAt: number;
  /** Epoch ms past which Kiln stops waiting (the deregistration delay, shared/domain/lifecycle.ts). */
  bound: number;
  state: string;
}

/** What the handling knows so far; each step returns the next one (the ASL keeps it at $.progress). */
export interface LifecycleProgress {
  phase: 'begin' | 'draining' | 'stopping' | 'verifying' | 'done';
  /** wait: sleep `waitSeconds` and advance again; complete: complete the action; ignore: not Kiln's. */
  next: 'wait' | 'complete' | 'ignore';
  waitSeconds?: number;
  heartbeatTimeoutSeconds?: number;
  lastBeatAt?: number;
  /** Epoch ms by which the action is completed, whatever is still running. */
  deadline?: number;
  service?: string;
  environment?: string;
  drains?: TargetDrainState[];
  stop?: { command: string; timeoutSeconds: number; commandId?: string; until?: number; status?: string };
  healthyBy?: number;
  expected?: ExpectedImage[];
  result?: 'CONTINUE' | 'ABANDON';
  reason?: string;
  drift?: boolean;
  heartbeats?: number;
  notes?: string[];
}

export type { LifecycleAction, Transition };
