/**
 * The Lambda adapter: hands an event to a function as an asynchronous (Event) invocation, the
 * way EventBridge delivers it, so a replayed event gets the same retries and the same on-failure
 * destination as the original. Lambda answers 202 once the event is queued.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { KilnError } from '../runtime/errors';

/** The function does not exist (any more) in this account and Region. */
export class FunctionNotFoundError extends KilnError {}

export class FunctionInvoker {
  constructor(private readonly client: LambdaClient) {}

  /** Queues `event` for the function; resolves once Lambda accepted it (202). */
  async invokeAsync(functionArn: string, event: unknown): Promise<void> {
    let status: number | undefined;
    try {
      ({ StatusCode: status } = await this.client.send(
        new InvokeCommand({
          FunctionName: functionArn,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      ));
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        throw new FunctionNotFoundError(`function ${functionArn} does not exist`, { cause: error });
      }
      throw error;
    }
    if (status !== 202)
      throw new KilnError(`Lambda answered ${status ?? 'no status'} instead of 202 for ${functionArn}`);
  }
}
