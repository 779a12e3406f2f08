/**
 * The adapters of lifecycle handling (shared/usecases/lifecycle/deps.ts), speaking Kiln's types:
 * completing and heartbeating an Auto Scaling lifecycle action, deregistering an instance from a
 * target group and reading how its drain stands, and reading what a launching instance runs.
 */
import {
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ActionRef, DrainPort, InstanceView, LifecycleActionsPort } from '../usecases/lifecycle/deps';
import type { LifecycleExecutionInput, LifecycleExecutionsPort } from '../usecases/lifecycle/start';
import { awsErrorCode, callAws, refusedError, transientOr } from './aws-errors';

/**
 * Completing or heartbeating an action that is no longer active (completed by an earlier delivery,
 * timed out, abandoned with the instance's other hooks) is answered with a ValidationError "No
 * active Lifecycle Action found …": for Kiln that action is done.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html
 */
const NO_ACTIVE_ACTION = /no active lifecycle action/i;

export class LifecycleActions implements LifecycleActionsPort {
  constructor(private readonly client: AutoScalingClient) {}

  async complete(
    action: ActionRef,
    result: 'CONTINUE' | 'ABANDON',
  ): Promise<'completed' | 'no-active-action'> {
    return this.call(
      `complete the lifecycle action of ${action.instanceId} (${result})`,
      () =>
        this.client.send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: action.groupName,
            LifecycleHookName: action.hookName,
            InstanceId: action.instanceId,
            ...(action.token === undefined ? {} : { LifecycleActionToken: action.token }),
            LifecycleActionResult: result,
          }),
        ),
      'completed',
    );
  }

  async heartbeat(action: ActionRef): Promise<'recorded' | 'no-active-action'> {
    const outcome = await this.call(
      `record a heartbeat for ${action.instanceId}`,
      () =>
        this.client.send(
          new RecordLifecycleActionHeartbeatCommand({
            AutoScalingGroupName: action.groupName,
            LifecycleHookName: action.hookName,
            InstanceId: action.instanceId,
            ...(action.token === undefined ? {} : { LifecycleActionToken: action.token }),
          }),
        ),
      'recorded',
    );
    return outcome;
  }

  private async call<T extends string>(
    what: string,
    send: () => Promise<unknown>,
    done: T,
  ): Promise<T | 'no-active-action'> {
    let gone = false;
    await callAws('Auto Scaling', what, send, {
      ValidationError: (error) => {
        if (!NO_ACTIVE_ACTION.test(error.message)) throw refusedError('Auto Scaling', what, error);
        gone = true;
        return {};
      },
    });
    return gone ? 'no-active-action' : done;
  }
}

export class TargetDrain implements DrainPort {
  /** Deregistration delays by target group: an attribute that rarely changes, read once per container. */
  private readonly delays = new Map<string, number>();

  constructor(private readonly client: ElasticLoadBalancingV2Client) {}

  /**
   * DeregisterTargets on a target that is already draining changes nothing; one that is not
   * registered is refused InvalidTarget, which for a drain means "already gone".
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html
   */
  async deregister(targetGroupArn: string, instanceId: string): Promise<'deregistered' | 'not-registered'> {
    let missing = false;
    await callAws(
      'Elastic Load Balancing',
      `deregister ${instanceId} from ${targetGroupArn}`,
      () =>
        this.client.send(
          new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }),
        ),
      {
        // The SDK names the modeled error InvalidTargetException (AWS's code: InvalidTarget).
        InvalidTargetException: () => {
          missing = true;
          return {};
        },
      },
    );
    return missing ? 'not-registered' : 'deregistered';
  }

  /** The target's state; `unused` once it is not registered (Target.NotRegistered). */
  async targetState(targetGroupArn: string, instanceId: string): Promise<string> {
    const result = await callAws(
      'Elastic Load Balancing',
      `describe the health of ${instanceId} in ${targetGroupArn}`,
      () =>
        this.client.send(
          new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }),
        ),
      { TargetGroupNotFoundException: () => ({ TargetHealthDescriptions: [] }) },
    );
    const found = (result.TargetHealthDescriptions ?? []).find((d) => d.Target?.Id === instanceId);
    return found?.TargetHealth?.State ?? 'unused';
  }

  /**
   * `deregistration_delay.timeout_seconds` (0–3600, default 300).
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
   */
  async deregistrationDelaySeconds(targetGroupArn: string): Promise<number> {
    const known = this.delays.get(targetGroupArn);
    if (known !== undefined) return known;
    const result = await callAws(
      'Elastic Load Balancing',
      `describe the attributes of ${targetGroupArn}`,
      () => this.client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn })),
    );
    const raw = result.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    const seconds = raw === undefined || Number.isNaN(Number(raw)) ? 300 : Number(raw);
    this.delays.set(targetGroupArn, seconds);
    return seconds;
  }
}

export class InstanceViews {
  constructor(private readonly client: EC2Client) {}

  /** The instance's AMI and state; undefined when EC2 no longer knows it. */
  async describe(instanceId: string): Promise<InstanceView | undefined> {
    const result = await callAws(
      'EC2',
      `describe instance ${instanceId}`,
      () => this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
      { 'InvalidInstanceID.NotFound': () => ({ Reservations: [] }) },
    );
    const instance = result.Reservations?.flatMap((r) => r.Instances ?? []).find(
      (i) => i.InstanceId === instanceId,
    );
    if (instance === undefined) return undefined;
    return {
      ...(instance.ImageId === undefined ? {} : { imageId: instance.ImageId }),
      ...(instance.State?.Name === undefined ? {} : { state: instance.State.Name }),
    };
  }
}

/**
 * The lifecycle state machine's executions, by name. A second StartExecution of a name is refused
 * ExecutionAlreadyExists (different input, or a closed execution) or answered with the running one
 * (same input): either way the handling exists, `already-started`.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export class LifecycleExecutions implements LifecycleExecutionsPort {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(
    name: string,
    input: LifecycleExecutionInput,
  ): Promise<{ outcome: 'started' | 'already-started' }> {
    let existed = false;
    await callAws(
      'Step Functions',
      `start the lifecycle handling ${name}`,
      () =>
        this.client.send(
          new StartExecutionCommand({
            stateMachineArn: this.stateMachineArn,
            name,
            input: JSON.stringify(input),
          }),
        ),
      {
        ExecutionAlreadyExists: () => {
          existed = true;
          return {};
        },
      },
    );
    return { outcome: existed ? 'already-started' : 'started' };
  }

  async status(name: string): Promise<string | undefined> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return out.status;
    } catch (error) {
      if (awsErrorCode(error) === 'ExecutionDoesNotExist') return undefined;
      throw transientOr(error, `describe the lifecycle handling ${name}`);
    }
  }
}
