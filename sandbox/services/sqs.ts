/**
 * The simulated Amazon SQS: standard queues holding messages with visibility timeouts, enough for
 * Kiln's dead-letter queue. EventBridge (a rule target's DLQ) and Lambda (an on-failure
 * destination) put messages in through `sendFromService`; `kiln dead-letters` reads and deletes
 * them through the SDK.
 *
 * Rules, as the SQS API reference documents them:
 * - SendMessage: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 *   (a body of at least one character, up to 10 message attributes, DelaySeconds 0-900; the
 *   answer carries the MD5 of the body and of the attributes, which the SDK checks).
 * - ReceiveMessage: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
 *   (MaxNumberOfMessages 1-10, VisibilityTimeout 0-43200, WaitTimeSeconds 0-20; a received message
 *   stays invisible for the visibility timeout and gets a new receipt handle each time; system and
 *   message attributes come back only when asked for).
 * - DeleteMessage: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html
 *   (only the most recent receipt handle deletes; an older one succeeds without deleting).
 * - ChangeMessageVisibility: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 *   (0 makes an in-flight message visible again at once).
 * - GetQueueAttributes: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html
 * - MessageRetentionPeriod (default 4 days, 60 s to 14 days): older messages are deleted.
 * - MD5OfMessageAttributes: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html#sqs-attributes-md5-message-digest-calculation
 *
 * Not modelled: FIFO queues, batches, long polling (ReceiveMessage answers at once: a simulated
 * service cannot wait on the virtual clock inside a call), the distributed sampling of short polls
 * (every visible message is a candidate, oldest first), redrive policies, message size limits.
 */
import { createHash } from 'node:crypto';
import {
  InvalidAttributeName,
  MessageNotInflight,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import type {
  ChangeMessageVisibilityRequest,
  CreateQueueRequest,
  DeleteMessageRequest,
  GetQueueAttributesRequest,
  Message,
  MessageAttributeValue,
  ReceiveMessageRequest,
  SendMessageRequest,
} from '@aws-sdk/client-sqs';
import type { SimContext, SimService } from '../core/context';

export interface QueueSettings {
  messageRetentionSeconds?: number;
  visibilityTimeoutSeconds?: number;
  sqsManagedSse?: boolean;
}

interface StoredMessage {
  id: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** The receipt handle of the most recent receive (the only one that deletes). */
  currentHandle?: string;
}

interface SimQueue {
  name: string;
  url: string;
  arn: string;
  createdAt: number;
  retentionSeconds: number;
  visibilityTimeoutSeconds: number;
  sqsManagedSse: boolean;
  messages: StoredMessage[];
}

const DEFAULT_RETENTION_SECONDS = 345_600;
const DEFAULT_VISIBILITY_SECONDS = 30;
const MAXIMUM_MESSAGE_SIZE = 1_048_576;
const QUEUE_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'DelaySeconds',
  'LastModifiedTimestamp',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'QueueArn',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'SqsManagedSseEnabled',
] as const;
const SYSTEM_ATTRIBUTES = [
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SenderId',
];

function invalidParameter(message: string): SQSServiceException {
  return new SQSServiceException({
    name: 'InvalidParameterValue',
    $fault: 'client',
    message,
    $metadata: { httpStatusCode: 400 },
  });
}

function md5(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** The documented digest: per attribute, sorted by name, length-prefixed name, type, transport byte, value. */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const field = (bytes: Buffer): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name] as MessageAttributeValue;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(value.DataType ?? '', 'utf8'));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(value.BinaryValue));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

function integerIn(value: number | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(
      `Value ${value} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}, if provided.`,
    );
  }
  return value;
}

export class SqsSim implements SimService {
  readonly serviceId = 'SQS';
  private readonly queues = new Map<string, SimQueue>();
  /** Every receipt handle ever issued, to the message id it was issued for. */
  private readonly handles = new Map<string, string>();

  constructor(private readonly ctx: SimContext) {}

  /** Creates a queue (as CloudFormation deploys an AWS::SQS::Queue); returns its URL. Idempotent. */
  createQueue(name: string, settings: QueueSettings = {}): string {
    const existing = [...this.queues.values()].find((q) => q.name === name);
    if (existing) return existing.url;
    const url = `https://sqs.${this.ctx.region}.amazonaws.com/${this.ctx.accountId}/${name}`;
    this.queues.set(url, {
      name,
      url,
      arn: `arn:aws:sqs:${this.ctx.region}:${this.ctx.accountId}:${name}`,
      createdAt: this.ctx.clock.now(),
      retentionSeconds: settings.messageRetentionSeconds ?? DEFAULT_RETENTION_SECONDS,
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_SECONDS,
      sqsManagedSse: settings.sqsManagedSse ?? true,
      messages: [],
    });
    return url;
  }

  /** The queue URL for an ARN, if the queue exists. */
  urlOf(arn: string): string | undefined {
    return [...this.queues.values()].find((q) => q.arn === arn)?.url;
  }

  /**
   * How an AWS service (EventBridge, Lambda) puts a message on a queue it may send to. False when
   * the queue does not exist (the service counts a failed DLQ delivery and drops the message).
   */
  sendFromService(queueArn: string, body: string, attributes: Record<string, string> = {}): boolean {
    const url = this.urlOf(queueArn);
    if (url === undefined) return false;
    const messageAttributes = Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    );
    this.sendMessage({ QueueUrl: url, MessageBody: body, MessageAttributes: messageAttributes });
    return true;
  }

  /** Messages on a queue, visible or not (for tests and stories). */
  depth(url: string): number {
    const queue = this.queue(url);
    this.expire(queue);
    return queue.messages.length;
  }

  async handle(operation: string, input: unknown): Promise<object> {
    switch (operation) {
      case 'CreateQueue':
        return this.createQueueOperation(input as CreateQueueRequest);
      case 'SendMessage':
        return this.sendMessage(input as SendMessageRequest);
      case 'ReceiveMessage':
        return this.receiveMessage(input as ReceiveMessageRequest);
      case 'DeleteMessage':
        return this.deleteMessage(input as DeleteMessageRequest);
      case 'ChangeMessageVisibility':
        return this.changeVisibility(input as ChangeMessageVisibilityRequest);
      case 'GetQueueAttributes':
        return this.getQueueAttributes(input as GetQueueAttributesRequest);
      default:
        throw new SQSServiceException({
          name: 'UnsupportedOperation',
          $fault: 'client',
          message: `The sandbox's SQS does not implement ${operation}`,
          $metadata: { httpStatusCode: 400 },
        });
    }
  }

  private queue(url: string | undefined): SimQueue {
    const queue = url === undefined ? undefined : this.queues.get(url);
    if (!queue) {
      throw new QueueDoesNotExist({
        message: 'The specified queue does not exist.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return queue;
  }

  private expire(queue: SimQueue): void {
    const oldest = this.ctx.clock.now() - queue.retentionSeconds * 1000;
    queue.messages = queue.messages.filter((m) => m.sentAt > oldest);
  }

  private createQueueOperation(input: CreateQueueRequest): object {
    if (typeof input.QueueName !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(input.QueueName)) {
      throw invalidParameter(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const attributes = input.Attributes ?? {};
    const number = (name: string): number | undefined =>
      attributes[name as keyof typeof attributes] === undefined
        ? undefined
        : Number(attributes[name as keyof typeof attributes]);
    const settings: QueueSettings = { sqsManagedSse: attributes.SqsManagedSseEnabled !== 'false' };
    const retention = number('MessageRetentionPeriod');
    if (retention !== undefined)
      settings.messageRetentionSeconds = integerIn(
        retention,
        'MessageRetentionPeriod',
        60,
        1_209_600,
      ) as number;
    const visibility = number('VisibilityTimeout');
    if (visibility !== undefined)
      settings.visibilityTimeoutSeconds = integerIn(visibility, 'VisibilityTimeout', 0, 43_200) as number;
    return { QueueUrl: this.createQueue(input.QueueName, settings) };
  }

  private sendMessage(input: SendMessageRequest): object {
    const queue = this.queue(input.QueueUrl);
    if (typeof input.MessageBody !== 'string' || input.MessageBody.length === 0) {
      // "The minimum size is one character" (SendMessage, MessageBody).
      throw invalidParameter('The request must contain the parameter MessageBody.');
    }
    if (Buffer.byteLength(input.MessageBody, 'utf8') > MAXIMUM_MESSAGE_SIZE) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${MAXIMUM_MESSAGE_SIZE} bytes.`,
      );
    }
    const attributes = input.MessageAttributes ?? {};
    if (Object.keys(attributes).length > 10) {
      throw invalidParameter(
        'Number of message attributes [' +
          Object.keys(attributes).length +
          '] exceeds the allowed maximum [10].',
      );
    }
    const delay = integerIn(input.DelaySeconds, 'DelaySeconds', 0, 900) ?? 0;
    const now = this.ctx.clock.now();
    const message: StoredMessage = {
      id: this.ctx.ids.uuid(),
      body: input.MessageBody,
      attributes: structuredClone(attributes),
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.push(message);
    return {
      MessageId: message.id,
      MD5OfMessageBody: md5(message.body),
      ...(Object.keys(attributes).length > 0
        ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) }
        : {}),
    };
  }

  private receiveMessage(input: ReceiveMessageRequest): object {
    const queue = this.queue(input.QueueUrl);
    const max = integerIn(input.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibility =
      integerIn(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200) ?? queue.visibilityTimeoutSeconds;
    integerIn(input.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20);
    this.expire(queue);
    const now = this.ctx.clock.now();
    const wantSystem = new Set<string>([
      ...(input.MessageSystemAttributeNames ?? []),
      ...(input.AttributeNames ?? []),
    ]);
    const wantAttribute = (name: string): boolean =>
      (input.MessageAttributeNames ?? []).some(
        (pattern) =>
          pattern === 'All' ||
          pattern === '.*' ||
          pattern === name ||
          (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
      );
    const messages: Message[] = [];
    for (const stored of queue.messages.filter((m) => m.visibleAt <= now).slice(0, max)) {
      stored.receiveCount += 1;
      stored.firstReceivedAt ??= now;
      stored.visibleAt = now + visibility * 1000;
      const handle = `${this.ctx.ids.uuid()}#${stored.id}`;
      stored.currentHandle = handle;
      this.handles.set(handle, stored.id);
      const system: Record<string, string> = {
        SentTimestamp: String(stored.sentAt),
        ApproximateReceiveCount: String(stored.receiveCount),
        ApproximateFirstReceiveTimestamp: String(stored.firstReceivedAt),
        SenderId: this.ctx.accountId,
      };
      const attributes = Object.fromEntries(
        SYSTEM_ATTRIBUTES.filter((name) => wantSystem.has('All') || wantSystem.has(name)).map((name) => [
          name,
          system[name],
        ]),
      );
      const messageAttributes = Object.fromEntries(
        Object.entries(stored.attributes).filter(([name]) => wantAttribute(name)),
      );
      messages.push({
        MessageId: stored.id,
        ReceiptHandle: handle,
        MD5OfBody: md5(stored.body),
        Body: stored.body,
        ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
        ...(Object.keys(messageAttributes).length > 0
          ? {
              MessageAttributes: structuredClone(messageAttributes),
              MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
            }
          : {}),
      });
    }
    return messages.length > 0 ? { Messages: messages } : {};
  }

  /** The message a receipt handle was issued for (undefined once deleted); throws for a handle never issued. */
  private byHandle(queue: SimQueue, handle: string | undefined): StoredMessage | undefined {
    const id = handle === undefined ? undefined : this.handles.get(handle);
    if (id === undefined) {
      throw new ReceiptHandleIsInvalid({
        message: 'The input receipt handle is invalid.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return queue.messages.find((m) => m.id === id);
  }

  private deleteMessage(input: DeleteMessageRequest): object {
    const queue = this.queue(input.QueueUrl);
    const message = this.byHandle(queue, input.ReceiptHandle);
    // An older handle "succeeds, but the message will not be deleted"; an already deleted message is no error.
    if (message && message.currentHandle === input.ReceiptHandle) {
      queue.messages = queue.messages.filter((m) => m !== message);
    }
    return {};
  }

  private changeVisibility(input: ChangeMessageVisibilityRequest): object {
    const queue = this.queue(input.QueueUrl);
    const timeout = integerIn(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200);
    if (timeout === undefined)
      throw invalidParameter('The request must contain the parameter VisibilityTimeout.');
    const message = this.byHandle(queue, input.ReceiptHandle);
    if (!message || message.currentHandle !== input.ReceiptHandle) {
      throw new ReceiptHandleIsInvalid({
        message: 'The input receipt handle is invalid.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const now = this.ctx.clock.now();
    if (message.visibleAt <= now) {
      throw new MessageNotInflight({
        message: 'The message referred to is not in flight.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    message.visibleAt = now + timeout * 1000;
    return {};
  }

  private getQueueAttributes(input: GetQueueAttributesRequest): object {
    const queue = this.queue(input.QueueUrl);
    this.expire(queue);
    const names = input.AttributeNames ?? [];
    for (const name of names) {
      if (name !== 'All' && !(QUEUE_ATTRIBUTES as readonly string[]).includes(name)) {
        throw new InvalidAttributeName({
          message: `Unknown Attribute ${name}.`,
          $metadata: { httpStatusCode: 400 },
        });
      }
    }
    const now = this.ctx.clock.now();
    const visible = queue.messages.filter((m) => m.visibleAt <= now);
    const values: Record<(typeof QUEUE_ATTRIBUTES)[number], string> = {
      ApproximateNumberOfMessages: String(visible.length),
      ApproximateNumberOfMessagesDelayed: String(
        queue.messages.filter((m) => m.receiveCount === 0 && m.visibleAt > now).length,
      ),
      ApproximateNumberOfMessagesNotVisible: String(
        queue.messages.filter((m) => m.receiveCount > 0 && m.visibleAt > now).length,
      ),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      DelaySeconds: '0',
      LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      MaximumMessageSize: String(MAXIMUM_MESSAGE_SIZE),
      MessageRetentionPeriod: String(queue.retentionSeconds),
      QueueArn: queue.arn,
      ReceiveMessageWaitTimeSeconds: '0',
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      SqsManagedSseEnabled: String(queue.sqsManagedSse),
    };
    const chosen = names.includes('All')
      ? QUEUE_ATTRIBUTES
      : QUEUE_ATTRIBUTES.filter((name) => names.includes(name));
    return chosen.length > 0
      ? { Attributes: Object.fromEntries(chosen.map((name) => [name, values[name]])) }
      : {};
  }
}
