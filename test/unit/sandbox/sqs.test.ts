import { createHash } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import { createTestContext, type TestSimContext } from '../../../sandbox/core/testing';
import { md5OfMessageAttributes, SqsSim } from '../../../sandbox/services/sqs';

const ARN = 'arn:aws:sqs:us-east-1:123456789012:kiln-test-dead-letters';

describe('SqsSim', () => {
  let ctx: TestSimContext;
  let sqs: SqsSim;
  let url: string;

  beforeEach(() => {
    ctx = createTestContext(1);
    sqs = new SqsSim(ctx);
    url = sqs.createQueue('kiln-test-dead-letters', { messageRetentionSeconds: 3600 });
  });

  const receive = async (input: Record<string, unknown> = {}): Promise<Message[]> => {
    const output = (await sqs.handle('ReceiveMessage', {
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      ...input,
    })) as {
      Messages?: Message[];
    };
    return output.Messages ?? [];
  };
  const send = (body: string, input: Record<string, unknown> = {}) =>
    sqs.handle('SendMessage', { QueueUrl: url, MessageBody: body, ...input });
  const errorOf = async (promise: Promise<unknown>): Promise<{ name: string; message: string }> => {
    try {
      await promise;
    } catch (error) {
      if (error instanceof Error) return { name: error.name, message: error.message };
    }
    throw new Error('expected an error');
  };

  describe('queues', () => {
    it('names a queue by URL and ARN in the region and account', () => {
      expect(url).toBe('https://sqs.us-east-1.amazonaws.com/123456789012/kiln-test-dead-letters');
      expect(sqs.urlOf(ARN)).toBe(url);
    });

    it('refuses calls to a queue that does not exist with QueueDoesNotExist', async () => {
      await expect(
        errorOf(sqs.handle('SendMessage', { QueueUrl: `${url}-nope`, MessageBody: 'x' })),
      ).resolves.toEqual({
        name: 'QueueDoesNotExist',
        message: 'The specified queue does not exist.',
      });
    });
  });

  describe('SendMessage and ReceiveMessage', () => {
    it('answers with the MD5 of the body and of the attributes, as the SDK checks them', async () => {
      const attributes = {
        RULE_ARN: { DataType: 'String', StringValue: 'arn:aws:events:us-east-1:1:rule/r' },
      };
      const sent = await send('{"a":1}', { MessageAttributes: attributes });
      expect(sent).toMatchObject({
        MD5OfMessageBody: createHash('md5').update('{"a":1}').digest('hex'),
        MD5OfMessageAttributes: md5OfMessageAttributes(attributes),
      });
      // The value moto (and SQS) computes for this attribute set.
      expect(md5OfMessageAttributes({ RULE_ARN: { DataType: 'String', StringValue: 'arn:x' } })).toBe(
        '465557dd89bbab60da79314dd426390a',
      );
    });

    it('refuses an empty body, which SQS documents as at least one character', async () => {
      await expect(errorOf(send(''))).resolves.toMatchObject({ name: 'InvalidParameterValue' });
    });

    it('returns system and message attributes only when asked for', async () => {
      await send('body', {
        MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'NO_RESOURCE' } },
      });
      const [bare] = await receive();
      expect(bare?.Attributes).toBeUndefined();
      expect(bare?.MessageAttributes).toBeUndefined();

      await ctx.fakeClock.tickAsync(31_000);
      const [full] = await receive({
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      });
      expect(full?.MessageAttributes).toEqual({
        ERROR_CODE: { DataType: 'String', StringValue: 'NO_RESOURCE' },
      });
      expect(full?.Attributes).toEqual({
        SentTimestamp: String(ctx.fakeClock.now - 31_000),
        ApproximateReceiveCount: '2',
      });
    });

    it('hides a received message for the visibility timeout, then offers it again with a new receipt handle', async () => {
      await send('once');
      const [first] = await receive({ VisibilityTimeout: 60 });
      await ctx.fakeClock.tickAsync(59_000);
      expect(await receive()).toEqual([]);
      await ctx.fakeClock.tickAsync(1_000);
      const [again] = await receive();
      expect(again?.MessageId).toBe(first?.MessageId);
      expect(again?.ReceiptHandle).not.toBe(first?.ReceiptHandle);
    });

    it.each([
      ['MaxNumberOfMessages', 11],
      ['VisibilityTimeout', 43_201],
      ['WaitTimeSeconds', 21],
    ])('refuses %s = %d with InvalidParameterValue naming the parameter', async (name, value) => {
      const error = await errorOf(receive({ [name]: value }));
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.message).toContain(name);
    });

    it('deletes messages older than the retention period', async () => {
      await send('old');
      await ctx.fakeClock.tickAsync(3_600_000);
      expect(await receive()).toEqual([]);
      expect(sqs.depth(url)).toBe(0);
    });
  });

  describe('DeleteMessage', () => {
    it('deletes with the most recent receipt handle', async () => {
      await send('gone');
      const [message] = await receive();
      await sqs.handle('DeleteMessage', { QueueUrl: url, ReceiptHandle: message?.ReceiptHandle });
      expect(sqs.depth(url)).toBe(0);
    });

    it('succeeds without deleting when given an older receipt handle', async () => {
      await send('kept');
      const [first] = await receive({ VisibilityTimeout: 0 });
      await receive();
      await sqs.handle('DeleteMessage', { QueueUrl: url, ReceiptHandle: first?.ReceiptHandle });
      expect(sqs.depth(url)).toBe(1);
    });

    it('refuses a receipt handle it never issued', async () => {
      await expect(
        errorOf(sqs.handle('DeleteMessage', { QueueUrl: url, ReceiptHandle: 'garbage' })),
      ).resolves.toEqual({
        name: 'ReceiptHandleIsInvalid',
        message: 'The input receipt handle is invalid.',
      });
    });
  });

  describe('ChangeMessageVisibility', () => {
    it('makes an in-flight message visible at once with a timeout of 0', async () => {
      await send('back');
      const [message] = await receive({ VisibilityTimeout: 300 });
      await sqs.handle('ChangeMessageVisibility', {
        QueueUrl: url,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: 0,
      });
      expect((await receive()).map((m) => m.MessageId)).toEqual([message?.MessageId]);
    });

    it('refuses a message that is not in flight', async () => {
      await send('visible');
      const [message] = await receive({ VisibilityTimeout: 10 });
      await ctx.fakeClock.tickAsync(10_000);
      const error = await errorOf(
        sqs.handle('ChangeMessageVisibility', {
          QueueUrl: url,
          ReceiptHandle: message?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      expect(error.name).toBe('MessageNotInflight');
    });
  });

  describe('GetQueueAttributes', () => {
    it('counts visible and in-flight messages and reports the queue settings asked for', async () => {
      await send('a');
      await send('b');
      await receive({ MaxNumberOfMessages: 1 });
      const output = await sqs.handle('GetQueueAttributes', {
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'QueueArn',
          'SqsManagedSseEnabled',
        ],
      });
      expect(output).toEqual({
        Attributes: {
          ApproximateNumberOfMessages: '1',
          ApproximateNumberOfMessagesNotVisible: '1',
          QueueArn: ARN,
          SqsManagedSseEnabled: 'true',
        },
      });
    });

    it('refuses an unknown attribute name', async () => {
      await expect(
        errorOf(sqs.handle('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['Nope'] })),
      ).resolves.toEqual({
        name: 'InvalidAttributeName',
        message: 'Unknown Attribute Nope.',
      });
    });
  });

  describe('messages from AWS services', () => {
    it('puts a message with string attributes on the queue an ARN names', async () => {
      expect(sqs.sendFromService(ARN, '{"id":"e1"}', { ERROR_CODE: 'NO_RESOURCE' })).toBe(true);
      const [message] = await receive({ MessageAttributeNames: ['All'] });
      expect(message).toMatchObject({
        Body: '{"id":"e1"}',
        MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'NO_RESOURCE' } },
      });
    });

    it('reports a queue that does not exist instead of storing the message', () => {
      expect(sqs.sendFromService(`${ARN}-missing`, '{}')).toBe(false);
    });
  });
});
