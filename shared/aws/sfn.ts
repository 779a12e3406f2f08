/**
 * Step Functions adapter. `SfnTasks` resumes tasks waiting on a callback (`.waitForTaskToken`).
 *
 * A task that is no longer waiting (it timed out, its execution ended or was stopped, or another
 * delivery already resumed it) answers SendTaskSuccess with TaskTimedOut, InvalidToken or
 * TaskDoesNotExist; for a wake-up that is "already done", not a failure.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { AwsRequestRefusedError } from '../domain/step-errors';
import { awsErrorCode, transientOr } from './aws-errors';

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
