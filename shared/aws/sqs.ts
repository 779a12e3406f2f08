/**
 * The SQS adapter: reads, releases and deletes messages on Kiln's dead-letter queue, speaking
 * Kiln's QueueMessage. AWS errors become Kiln's named errors; what to do with a message is the
 * caller's policy.
 *
 * Reading every message of a standard queue: ReceiveMessage hands out at most 10 at a time and
 * hides each for the visibility timeout, so repeated receives walk the queue; long polling
 * (WaitTimeSeconds > 0) asks every SQS server rather than a sample, so an empty answer means the
 * queue has nothing visible left.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueMessage } from '../domain/dead-letter';
import { KilnError } from '../runtime/errors';

/** The queue URL names no queue (wrong URL, Region or account). */
export class QueueNotFoundError extends KilnError {}

export interface DeadLetterQueueOptions {
  client: SQSClient;
  queueUrl: string;
}

/** A receive's visibility timeout must outlast what is done with the messages before release. */
export const DEFAULT_VISIBILITY_SECONDS = 120;

export class DeadLetterQueue {
  private readonly client: SQSClient;
  readonly queueUrl: string;

  constructor(options: DeadLetterQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
  }

  /**
   * Receives every visible message, up to `limit`, each hidden from other readers for
   * `visibilitySeconds` (release or delete them before then).
   */
  async receiveAll(options: { limit: number; visibilitySeconds?: number }): Promise<QueueMessage[]> {
    const seen = new Map<string, QueueMessage>();
    while (seen.size < options.limit) {
      const { Messages } = await this.call(() =>
        this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: Math.min(10, options.limit - seen.size),
            VisibilityTimeout: options.visibilitySeconds ?? DEFAULT_VISIBILITY_SECONDS,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        ),
      );
      const fresh = (Messages ?? []).filter((m) => m.MessageId !== undefined && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) seen.set(message.MessageId as string, toQueueMessage(message));
    }
    return [...seen.values()];
  }

  /** Makes received messages visible again at once (ChangeMessageVisibility to 0). */
  async release(messages: readonly QueueMessage[]): Promise<void> {
    for (const message of messages) {
      await this.call(() =>
        this.client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.queueUrl,
            ReceiptHandle: message.receiptHandle,
            VisibilityTimeout: 0,
          }),
        ),
      );
    }
  }

  async delete(message: QueueMessage): Promise<void> {
    await this.call(() =>
      this.client.send(
        new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.receiptHandle }),
      ),
    );
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (
        error instanceof Error &&
        (error.name === 'QueueDoesNotExist' || error.name === 'AWS.SimpleQueueService.NonExistentQueue')
      ) {
        throw new QueueNotFoundError(
          `the dead-letter queue ${this.queueUrl} does not exist (check the URL and the Region)`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
}

function toQueueMessage(message: Message): QueueMessage {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  const sent = Number(message.Attributes?.SentTimestamp);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
  };
}
