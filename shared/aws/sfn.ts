/**
 * The Step Functions adapter for starting deployments, speaking Kiln's types. Starting is
 * idempotent by the execution's name: "If StartExecution is called with the same name and input
 * as a running execution, the call succeeds and return the same response as the original
 * request. If the execution is closed or if the input is different, it returns a 400
 * ExecutionAlreadyExists error. You can reuse names after 90 days."
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 * Either way an execution of that name exists, which is what the caller asked for, so both are
 * success here (`already-started` for the second). Other errors are named: refusals (a machine
 * that does not exist, a bad name or input) as AwsRequestRefusedError, throttling and 5xx after
 * the SDK's retries as TransientAwsError.
 *
 * `SfnTasks` resumes tasks waiting on a callback (`.waitForTaskToken`). A task that is no longer
 * waiting (it timed out, its execution ended or was stopped, or another delivery already resumed
 * it) answers SendTaskSuccess with TaskTimedOut, InvalidToken or TaskDoesNotExist; for a wake-up
 * that is "already done", not a failure.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
 */
import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { DeployExecutionInput } from '../domain/deploy-execution';
import { AwsRequestRefusedError, TransientAwsError } from '../domain/step-errors';
import { awsErrorCode, transientOr } from './aws-errors';

/** StartExecution's refusals (its documented errors other than ExecutionAlreadyExists). */
const REFUSALS = new Set([
  'InvalidArn',
  'InvalidExecutionInput',
  'InvalidName',
  'StateMachineDeleting',
  'StateMachineDoesNotExist',
  'ValidationException',
  'KmsAccessDeniedException',
  'KmsInvalidStateException',
  'AccessDeniedException',
]);

export type StartOutcome = 'started' | 'already-started';

/** `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME`, the form StartExecution takes. */
const STATE_MACHINE_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):stateMachine:([^:]+)$/;

export class DeployExecutions {
  private readonly executionPrefix: string;

  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {
    const parts = STATE_MACHINE_ARN.exec(stateMachineArn);
    if (parts === null) throw new RangeError(`not a state machine ARN: "${stateMachineArn}"`);
    const [, partition, region, account, name] = parts;
    this.executionPrefix = `arn:${partition}:states:${region}:${account}:execution:${name}:`;
  }

  /**
   * The ARN an execution of this name has (or will have): the machine's ARN with `execution` and
   * the name (the ARN form StartExecution returns), so a record can name it before it starts.
   */
  executionArn(name: string): string {
    return this.executionPrefix + name;
  }

  /**
   * How the deploy execution named `name` stands; undefined when there is none (never started, or
   * older than Step Functions keeps: ExecutionDoesNotExist).
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
   */
  async describe(name: string): Promise<ExecutionReport | undefined> {
    const executionArn = this.executionArn(name);
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return {
        status: out.status ?? 'RUNNING',
        ...(out.error === undefined ? {} : { error: out.error }),
        ...(out.cause === undefined ? {} : { cause: out.cause }),
        ...(out.input === undefined ? {} : { input: out.input }),
      };
    } catch (error) {
      if (awsErrorCode(error) === 'ExecutionDoesNotExist') return undefined;
      throw transientOr(error, `DescribeExecution ${executionArn}`);
    }
  }

  /** Starts the deploy execution `name`, or finds it started already. */
  async start(
    name: string,
    input: DeployExecutionInput,
  ): Promise<{ executionArn: string; outcome: StartOutcome }> {
    try {
      const { executionArn } = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return { executionArn: executionArn ?? this.executionArn(name), outcome: 'started' };
    } catch (error) {
      const code = awsErrorCode(error);
      if (code === 'ExecutionAlreadyExists') {
        return { executionArn: this.executionArn(name), outcome: 'already-started' };
      }
      const what = `StartExecution ${name} on ${this.stateMachineArn}`;
      if (code !== undefined && REFUSALS.has(code)) {
        const message = error instanceof Error ? error.message : String(error);
        throw new AwsRequestRefusedError(`${what}: AWS refused it (${code}: ${message})`, code, {
          cause: error,
        });
      }
      if (code === 'ExecutionLimitExceeded') {
        // Too many executions running at once: one ending frees a place, so try again later.
        throw new TransientAwsError(`${what}: too many executions are running (${code})`, code, {
          cause: error,
        });
      }
      throw transientOr(error, what);
    }
  }
}

/** How an execution stands, as DescribeExecution answers (error and cause once it failed). */
export interface ExecutionReport {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  error?: string;
  cause?: string;
  /** The execution's input (JSON), when Step Functions includes it. */
  input?: string;
}

/** The errors of SendTaskSuccess that mean the task is gone (API_SendTaskSuccess.html, Errors). */
const TASK_GONE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

export type TaskResumption = { outcome: 'resumed' } | { outcome: 'gone'; code: string };

export class SfnTasks {
  constructor(private readonly client: SFNClient) {}

  /** Completes a waiting task with `output` (JSON); a task already gone is reported, not thrown. */
  async succeed(taskToken: string, output: unknown): Promise<TaskResumption> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      return { outcome: 'resumed' };
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && TASK_GONE.has(code)) return { outcome: 'gone', code };
      const transient = transientOr(error, 'resume waiting task');
      if (transient !== error || code === undefined) throw transient;
      throw new AwsRequestRefusedError(
        `resume waiting task: Step Functions refused it (${code}: ${(error as Error).message})`,
        code,
        { cause: error },
      );
    }
  }
}
