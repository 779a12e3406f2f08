/**
 * The notifier's two adapters over SDK clients, as every function that notifies builds them
 * (rollout-steps; on-alarm for alarm notices): the Slack webhook URL read decrypted from its
 * SecureString in the function's own Region, and SNS in each topic's Region.
 * The function's role needs the three statements rollout-steps has in serverless.yml
 * (ssm:GetParameter under /kiln/notifications/, kms:Decrypt via SSM for those, sns:Publish).
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SlackIncomingWebhook, type WebhookPoster } from '../slack/incoming-webhook';
import type { NotifyDeps } from '../usecases/notify';
import { SecureParameters } from './parameters';
import { SnsTopics } from './sns';

export function notifyAdapters(clients: {
  ssm: SSMClient;
  snsFor: (region: string) => SNSClient;
  /** How a webhook POST goes out (default: fetch; the sandbox records instead). */
  postWebhook?: WebhookPoster;
  now?: () => number;
}): Pick<NotifyDeps, 'slack' | 'sns'> {
  const parameters = new SecureParameters(clients.ssm, clients.now === undefined ? {} : { now: clients.now });
  return {
    slack: new SlackIncomingWebhook({
      secret: (name, signal) => parameters.value(name, signal),
      ...(clients.postWebhook === undefined ? {} : { post: clients.postWebhook }),
    }),
    sns: new SnsTopics(clients.snsFor),
  };
}
