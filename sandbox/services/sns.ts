/**
 * The simulated Amazon SNS: topics to publish Kiln's notifications to, enough for a story to show
 * them. Each message published is kept on its topic (`messages`) and noted on the timeline.
 *
 * Rules, as the SNS API reference documents them:
 * - CreateTopic: https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html — names of 1-256
 *   ASCII letters, digits, `_` and `-` (a FIFO topic's ends in `.fifo` and sets the `FifoTopic`
 *   attribute); "This action is idempotent, so if the requester already owns a topic with the
 *   specified name, that topic's ARN is returned without creating a new topic."
 * - Publish: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html — a topic that does not
 *   exist is `NotFound` (HTTP 404, "Indicates that the requested resource does not exist"), a bad
 *   request `InvalidParameter` (400); Message is required and at most 256 KB; Subject must be ASCII
 *   text without line breaks or control characters, less than 100 characters long; a FIFO topic
 *   requires MessageGroupId.
 *
 * Not modelled: subscriptions and deliveries, phone numbers and platform endpoints (TargetArn),
 * message attributes and structures, topic policies and encryption; error texts are the sandbox's
 * own where AWS documents only the code.
 */
import {
  InvalidParameterException,
  NotFoundException,
  SNSServiceException,
  type CreateTopicCommandInput,
  type CreateTopicCommandOutput,
  type PublishCommandInput,
  type PublishCommandOutput,
} from '@aws-sdk/client-sns';
import type { SimContext, SimService } from '../core/context';
import { badRequest, dispatch, operation, type OperationTable, type Out } from './shared';

export interface PublishedMessage {
  messageId: string;
  subject?: string;
  message: string;
  /** Virtual epoch milliseconds. */
  at: number;
}

interface SimTopic {
  arn: string;
  name: string;
  fifo: boolean;
  messages: PublishedMessage[];
}

const MAX_MESSAGE_BYTES = 262_144;

function invalid(message: string): InvalidParameterException {
  return new InvalidParameterException({ message: `Invalid parameter: ${message}`, ...badRequest() });
}

export class SnsSim implements SimService {
  readonly serviceId = 'SNS';
  private readonly topics = new Map<string, SimTopic>();

  private readonly operations: OperationTable = {
    CreateTopic: operation((input: CreateTopicCommandInput) => this.createTopic(input)),
    Publish: operation((input: PublishCommandInput) => this.publish(input)),
  };

  constructor(private readonly ctx: SimContext) {}

  handle(name: string, input: unknown): Promise<object> {
    return dispatch(
      this.operations,
      name,
      input,
      (unknown) =>
        new SNSServiceException({
          name: 'InvalidAction',
          $fault: 'client',
          message: `The sandbox does not simulate SNS ${unknown}.`,
          $metadata: { httpStatusCode: 400 },
        }),
    );
  }

  /** What was published to a topic, oldest first (for stories and tests). */
  messages(topicArn: string): readonly PublishedMessage[] {
    return this.topics.get(topicArn)?.messages ?? [];
  }

  createTopic(input: CreateTopicCommandInput): Out<CreateTopicCommandOutput> {
    const name = input.Name ?? '';
    const fifo = input.Attributes?.FifoTopic === 'true';
    const base = fifo ? name.replace(/\.fifo$/, '') : name;
    if (
      !/^[A-Za-z0-9_-]{1,256}$/.test(base) ||
      (fifo && !name.endsWith('.fifo')) ||
      (!fifo && name.endsWith('.fifo'))
    ) {
      throw invalid('Topic Name');
    }
    const arn = `arn:aws:sns:${this.ctx.region}:${this.ctx.accountId}:${name}`;
    if (!this.topics.has(arn)) this.topics.set(arn, { arn, name, fifo, messages: [] });
    return { TopicArn: arn };
  }

  publish(input: PublishCommandInput): Out<PublishCommandOutput> {
    if (input.TopicArn === undefined || input.TopicArn === '') {
      throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
    }
    const topic = this.topics.get(input.TopicArn);
    if (!topic) {
      throw new NotFoundException({
        message: 'Topic does not exist',
        $metadata: { httpStatusCode: 404 },
      });
    }
    const message = input.Message;
    if (message === undefined || message === '') throw invalid('Message Reason: Empty message');
    if (Buffer.byteLength(message, 'utf8') > MAX_MESSAGE_BYTES)
      throw invalid('Message Reason: Message too long');
    const subject = input.Subject;
    if (
      subject !== undefined &&
      (subject === '' || subject.length >= 100 || !/^[\x20-\x7e]+$/.test(subject))
    ) {
      throw invalid('Subject');
    }
    if (topic.fifo && input.MessageGroupId === undefined) {
      throw invalid('The MessageGroupId parameter is required for FIFO topics');
    }
    const messageId = this.ctx.ids.uuid();
    topic.messages.push({
      messageId,
      ...(subject === undefined ? {} : { subject }),
      message,
      at: this.ctx.clock.now(),
    });
    this.ctx.timeline.record({
      kind: 'log',
      message: `sns ${topic.name}: ${subject ?? message.split('\n')[0]}`,
    });
    return topic.fifo
      ? { MessageId: messageId, SequenceNumber: String(topic.messages.length) }
      : { MessageId: messageId };
  }
}
