/**
 * The SNS adapter for notifications: Publish to a topic, in the topic's own Region (the ARN says
 * which), speaking Kiln's types. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SnsPort } from '../usecases/notify';
import { callAws } from './aws-errors';

export class SnsTopics implements SnsPort {
  constructor(private readonly clientFor: (region: string) => SNSClient) {}

  async publish(
    topicArn: string,
    message: { subject: string; message: string },
    signal: AbortSignal,
  ): Promise<{ messageId: string }> {
    // arn:aws:sns:REGION:ACCOUNT:NAME (the manifest schema has checked the shape).
    const region = topicArn.split(':')[3] ?? '';
    const result = await callAws('SNS', `publish to ${topicArn}`, () =>
      this.clientFor(region).send(
        new PublishCommand({ TopicArn: topicArn, Subject: message.subject, Message: message.message }),
        { abortSignal: signal },
      ),
    );
    return { messageId: result.MessageId ?? '' };
  }
}
