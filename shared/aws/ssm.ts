/**
 * The Systems Manager adapter for the bake: resolve a public AMI parameter, run a command on the
 * builder with Run Command, and read how it went, speaking Kiln's types.
 *
 * SendCommand takes no client token
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html), so the
 * adapter makes it idempotent itself: the caller gives a Comment unique to the deployment and the
 * purpose (`commandComment` in shared/domain/bake.ts), and `sendOnce` first lists the instance's
 * commands (ListCommands with InstanceId,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListCommands.html) and
 * answers with the one that carries that comment. A builder belongs to one deployment, so a
 * re-sent step finds its first command instead of installing twice.
 */
import {
  GetCommandInvocationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { BaseImageNotFoundError } from '../domain/step-errors';
import { callAws } from './aws-errors';

/** How a command went on the one instance it was sent to. */
export interface CommandResult {
  /** `running` while Pending/InProgress/Delayed (or not yet visible), else how it ended. */
  state: 'running' | 'success' | 'failed' | 'timed-out' | 'cancelled';
  /** Run Command's own status words, for the record. */
  status: string;
  /** The end of what the command printed to stderr (or stdout when stderr is empty). */
  output?: string;
}

export interface CommandRequest {
  instanceId: string;
  comment: string;
  /** AWS-RunShellScript with `commands`, or an SSM document with its parameters. */
  documentName: string;
  parameters: Record<string, string[]>;
  /**
   * The delivery timeout: how long Run Command keeps the command for an agent that is not yet
   * online (a builder still registering with Systems Manager). Minimum 30 s.
   */
  deliveryTimeoutSeconds: number;
}

export class SsmBake {
  constructor(private readonly client: SSMClient) {}

  /** The AMI id a (public) SSM parameter names, e.g. /aws/service/ami-amazon-linux-latest/…. */
  async resolveImageParameter(name: string): Promise<string> {
    const result = await this.call(
      `resolve the base image parameter ${name}`,
      () => this.client.send(new GetParameterCommand({ Name: name })),
      {
        ParameterNotFound: (error) => {
          throw new BaseImageNotFoundError(`the base image parameter ${name} does not exist`, {
            cause: error,
          });
        },
      },
    );
    const value = result.Parameter?.Value;
    if (value === undefined || !/^ami-[0-9a-f]+$/.test(value)) {
      throw new BaseImageNotFoundError(
        `the base image parameter ${name} does not name an AMI (its value is ${JSON.stringify(value ?? null)})`,
      );
    }
    return value;
  }

  /** Sends the command unless the instance already has one with this comment; its command id. */
  async sendOnce(request: CommandRequest): Promise<{ commandId: string; sent: boolean }> {
    const existing = await this.findCommand(request.instanceId, request.comment);
    if (existing !== undefined) return { commandId: existing, sent: false };
    const result = await this.call(`send ${request.comment} to ${request.instanceId}`, () =>
      this.client.send(
        new SendCommandCommand({
          InstanceIds: [request.instanceId],
          DocumentName: request.documentName,
          Parameters: request.parameters,
          Comment: request.comment,
          TimeoutSeconds: Math.max(30, request.deliveryTimeoutSeconds),
        }),
      ),
    );
    const commandId = result.Command?.CommandId;
    if (commandId === undefined) throw new Error('SendCommand answered without a command id');
    return { commandId, sent: true };
  }

  private async findCommand(instanceId: string, comment: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await this.call(`list the commands of ${instanceId}`, () =>
        this.client.send(
          new ListCommandsCommand({
            InstanceId: instanceId,
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
        ),
      );
      const found = page.Commands?.find((command) => command.Comment === comment);
      if (found?.CommandId !== undefined) return found.CommandId;
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return undefined;
  }

  /**
   * How the command went on the instance. Invocations are created asynchronously, so
   * InvocationDoesNotExist right after SendCommand means "not yet": still running
   * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html).
   */
  async commandResult(commandId: string, instanceId: string): Promise<CommandResult> {
    const result = await this.call(
      `read command ${commandId} on ${instanceId}`,
      () =>
        this.client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })),
      { InvocationDoesNotExist: () => ({ Status: 'Pending' as const }) },
    );
    const status = result.Status ?? 'Pending';
    const output = (result.StandardErrorContent || result.StandardOutputContent || '').trim().slice(-500);
    const state: CommandResult['state'] =
      status === 'Success'
        ? 'success'
        : status === 'Failed'
          ? 'failed'
          : status === 'TimedOut'
            ? 'timed-out'
            : status === 'Cancelled' || status === 'Cancelling'
              ? 'cancelled'
              : 'running';
    const details =
      result.StatusDetails && result.StatusDetails !== status ? ` (${result.StatusDetails})` : '';
    return { state, status: `${status}${details}`, ...(output === '' ? {} : { output }) };
  }

  /** One call through the shared mapping of AWS errors (aws-errors.ts, `callAws`). */
  private call<T>(
    what: string,
    send: () => Promise<T>,
    handled: Record<string, (error: Error) => Partial<T>> = {},
  ): Promise<T> {
    return callAws('Systems Manager', what, send, handled);
  }
}
