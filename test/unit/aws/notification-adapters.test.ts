import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { NotFoundException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SecureParameters } from '../../../shared/aws/parameters';
import { SnsTopics } from '../../../shared/aws/sns';
import { SlackIncomingWebhook, type WebhookPoster } from '../../../shared/slack/incoming-webhook';

const HOOK = 'https://hooks.slack.com/services/T0001/B0001/secret-part';
const signal = new AbortController().signal;

describe('SlackIncomingWebhook', () => {
  const webhook = (answer: { status: number; text: string }, value = HOOK) => {
    const posts: Array<{ url: string; body: string }> = [];
    const post: WebhookPoster = async (url, request) => {
      posts.push({ url, body: request.body });
      return answer;
    };
    return { posts, adapter: new SlackIncomingWebhook({ secret: async () => value, post }) };
  };

  it('posts the message as JSON to the URL the parameter holds', async () => {
    const { posts, adapter } = webhook({ status: 200, text: 'ok' });
    await adapter.post('/kiln/notifications/web', { text: 'hi', blocks: [] }, signal);
    expect(posts).toEqual([{ url: HOOK, body: '{"text":"hi","blocks":[]}' }]);
  });

  it("fails with Slack's answer and the parameter's name, never the URL, on any status but 200", async () => {
    const { adapter } = webhook({ status: 404, text: 'no_service' });
    const failure = adapter.post('/kiln/notifications/web', { text: 'hi', blocks: [] }, signal);
    await expect(failure).rejects.toThrow(
      'Slack answered 404 no_service (webhook in /kiln/notifications/web)',
    );
    await expect(failure).rejects.not.toThrow('secret-part');
  });

  it('refuses a parameter that does not hold an https URL, without saying what it holds', async () => {
    const { posts, adapter } = webhook({ status: 200, text: 'ok' }, 'http://hooks.example/plain');
    await expect(adapter.post('/kiln/notifications/web', { text: 'hi', blocks: [] }, signal)).rejects.toThrow(
      'the parameter /kiln/notifications/web does not hold an https URL',
    );
    expect(posts).toEqual([]);
  });
});

describe('SecureParameters', () => {
  const ssm = mockClient(SSMClient);
  beforeEach(() => ssm.reset());

  it('reads the parameter decrypted and keeps it for a while', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: HOOK } });
    let now = 0;
    const parameters = new SecureParameters(new SSMClient({ region: 'us-east-1' }), {
      now: () => now,
      cacheMs: 1000,
    });
    expect(await parameters.value('/kiln/notifications/web')).toBe(HOOK);
    now = 999;
    await parameters.value('/kiln/notifications/web');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: '/kiln/notifications/web',
      WithDecryption: true,
    });
    now = 1000;
    await parameters.value('/kiln/notifications/web');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('says which parameter does not exist', async () => {
    ssm
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ message: 'Parameter not found.', $metadata: {} }));
    const parameters = new SecureParameters(new SSMClient({ region: 'us-east-1' }));
    await expect(parameters.value('/kiln/notifications/gone')).rejects.toThrow(
      'the parameter /kiln/notifications/gone does not exist',
    );
  });
});

describe('SnsTopics', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());

  it("publishes in the topic's own Region", async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const regions: string[] = [];
    const topics = new SnsTopics((region) => {
      regions.push(region);
      return new SNSClient({ region });
    });
    const arn = 'arn:aws:sns:eu-west-1:123456789012:deploys';
    expect(await topics.publish(arn, { subject: 'Kiln: x', message: 'x' }, signal)).toEqual({
      messageId: 'm-1',
    });
    expect(regions).toEqual(['eu-west-1']);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toEqual({
      TopicArn: arn,
      Subject: 'Kiln: x',
      Message: 'x',
    });
  });

  it('names the topic when SNS refuses', async () => {
    sns.on(PublishCommand).rejects(new NotFoundException({ message: 'Topic does not exist', $metadata: {} }));
    const topics = new SnsTopics((region) => new SNSClient({ region }));
    await expect(
      topics.publish('arn:aws:sns:us-east-1:123456789012:gone', { subject: 's', message: 'm' }, signal),
    ).rejects.toThrow('publish to arn:aws:sns:us-east-1:123456789012:gone');
  });
});
