/**
 * Lifecycle hooks: a hook holds each launching (Pending:Wait) or terminating (Terminating:Wait)
 * instance until every open lifecycle action completes, a heartbeat or the global timeout runs out
 * (then the hook's DefaultResult applies), or the hook is deleted.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html
 */
import type {
  CompleteLifecycleActionType,
  DeleteLifecycleHookType,
  DescribeLifecycleHooksAnswer,
  DescribeLifecycleHooksType,
  LifecycleHook,
  LifecycleHookSpecification,
  PutLifecycleHookType,
  RecordLifecycleActionHeartbeatType,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import { missingField, required, validationError } from './errors';
import type { Group, Hook, LifecycleAction, Member } from './model';
import { EVENT_SOURCE, LAUNCHING, TERMINATING } from './model';
import type { AutoScaling, LifecycleHooksPart } from './parts';

// PutLifecycleHook: HeartbeatTimeout 30–7200 s, default 3600; DefaultResult defaults to ABANDON.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html
const DEFAULT_HEARTBEAT_SECONDS = 3600;
// GlobalTimeout: "172800 seconds (48 hours) or 100 times HeartbeatTimeout, whichever is smaller".
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LifecycleHook.html
const MAX_GLOBAL_TIMEOUT_SECONDS = 172800;

export class LifecycleHooks implements LifecycleHooksPart {
  private readonly ctx: SimContext;

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  // ---------------------------------------------------------------- what the other parts use

  buildHook(
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

  openAction(group: Group, member: Member, hook: Hook): void {
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
      source: EVENT_SOURCE,
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

  clearActions(member: Member): void {
    for (const action of member.actions.values()) {
      this.ctx.clock.clearTimeout(action.heartbeatTimer);
      this.ctx.clock.clearTimeout(action.globalTimer);
    }
    member.actions.clear();
  }

  // ---------------------------------------------------------------- operations

  putHook(input: PutLifecycleHookType): object {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const name = required(input.LifecycleHookName, 'lifecycleHookName');
    const hook = this.buildHook(name, input, group.hooks.get(name));
    group.hooks.set(hook.name, hook);
    return {};
  }

  describeHooks(input: DescribeLifecycleHooksType): DescribeLifecycleHooksAnswer {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const names = input.LifecycleHookNames;
    const hooks = [...group.hooks.values()].filter(
      (hook) => !names || names.length === 0 || names.includes(hook.name),
    );
    return { LifecycleHooks: hooks.map((hook) => this.hookView(group, hook)) };
  }

  deleteHook(input: DeleteLifecycleHookType): object {
    const group = this.asg.groups.get(input.AutoScalingGroupName);
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

  completeLifecycleAction(input: CompleteLifecycleActionType): object {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const hookName = required(input.LifecycleHookName, 'lifecycleHookName');
    const result = required(input.LifecycleActionResult, 'lifecycleActionResult');
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw validationError(`LifecycleActionResult must be CONTINUE or ABANDON, got ${result}`);
    }
    const { member, action } = this.findAction(group, hookName, input.LifecycleActionToken, input.InstanceId);
    this.finishAction(group, member, action, result);
    return {};
  }

  recordHeartbeat(input: RecordLifecycleActionHeartbeatType): object {
    // A heartbeat restarts the heartbeat timeout, not the global one.
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RecordLifecycleActionHeartbeat.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const hookName = required(input.LifecycleHookName, 'lifecycleHookName');
    const { member, action } = this.findAction(group, hookName, input.LifecycleActionToken, input.InstanceId);
    const hook = group.hooks.get(hookName);
    if (!hook) throw validationError(`No Lifecycle Hook found with name ${hookName}`);
    this.ctx.clock.clearTimeout(action.heartbeatTimer);
    action.heartbeatTimer = this.armHeartbeat(group, member, action.token, hook);
    return {};
  }

  // ---------------------------------------------------------------- actions

  /**
   * Closes one action; when the last one closes the instance moves on. ABANDON (completed, or a
   * hook's DefaultResult on a timeout) closes the instance's other open actions with it: "abandon
   * stops any remaining actions, such as other lifecycle hooks, and continue allows any other
   * lifecycle hooks to complete" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html).
   * Their tokens are no longer active, so completing them later is AWS's "No active Lifecycle
   * Action" ValidationError, which Kiln treats as already done.
   */
  private finishAction(
    group: Group,
    member: Member,
    action: LifecycleAction,
    result: 'CONTINUE' | 'ABANDON',
  ): void {
    this.ctx.clock.clearTimeout(action.heartbeatTimer);
    this.ctx.clock.clearTimeout(action.globalTimer);
    if (action.transition === LAUNCHING && result === 'ABANDON') member.abandoned = true;
    if (result === 'ABANDON') {
      for (const other of [...member.actions.values()]) {
        if (other.token === action.token) continue;
        this.ctx.clock.clearTimeout(other.heartbeatTimer);
        this.ctx.clock.clearTimeout(other.globalTimer);
        member.actions.delete(other.token);
      }
    }
    if (member.actions.size > 1) {
      member.actions.delete(action.token);
      return;
    }
    // Keep the last token on record until proceedLaunch has reported it.
    if (action.transition === LAUNCHING && member.state === 'Pending:Wait') {
      this.asg.instances.proceedLaunch(group, member);
      member.actions.clear();
    } else if (action.transition === TERMINATING && member.state === 'Terminating:Wait') {
      member.actions.clear();
      // Either result terminates the instance on a terminate hook (completing-lifecycle-hooks.html).
      this.asg.instances.proceedTerminate(group, member);
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

  private armHeartbeat(group: Group, member: Member, token: string, hook: Hook) {
    return this.ctx.clock.setTimeout(() => {
      const open = member.actions.get(token);
      if (open) this.finishAction(group, member, open, hook.defaultResult);
    }, hook.heartbeatTimeout * 1000);
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
}
