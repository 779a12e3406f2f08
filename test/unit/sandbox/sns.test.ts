import { createTestContext, type TestSimContext } from '../../../sandbox/core/testing';
import { SnsSim } from '../../../sandbox/services/sns';

const errorOf = async (
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) {
      const status = (error as Error & { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      return { name: error.name, message: error.message, ...(status === undefined ? {} : { status }) };
    }
  }
  throw new Error('expected an error');
};

describe('SnsSim', () => {
  let ctx: TestSimContext;
  let sns: SnsSim;

  beforeEach(() => {
    ctx = createTestContext(1);
    sns = new SnsSim(ctx);
  });

  describe('CreateTopic', () => {
    it('names the topic by ARN in the region and account, and answers the same ARN again (it is idempotent)', async () => {
      const first = await sns.handle('CreateTopic', { Name: 'deploys' });
      expect(first).toEqual({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:deploys' });
      expect(await sns.handle('CreateTopic', { Name: 'deploys' })).toEqual(first);
    });

    it.each([[''], ['has space'], ['x'.repeat(257)], ['plain.fifo']])(
      'refuses the name %j with InvalidParameter',
      async (name) => {
        expect(await errorOf(sns.handle('CreateTopic', { Name: name }))).toMatchObject({
          name: 'InvalidParameterException',
          status: 400,
        });
      },
    );

    it('makes a FIFO topic only with a .fifo name and the FifoTopic attribute', async () => {
      expect(
        await sns.handle('CreateTopic', { Name: 'deploys.fifo', Attributes: { FifoTopic: 'true' } }),
      ).toEqual({
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:deploys.fifo',
      });
    });
  });

  describe('Publish', () => {
    const TOPIC = 'arn:aws:sns:us-east-1:123456789012:deploys';

    it('keeps the message on its topic with a message id, and notes it on the timeline', async () => {
      await sns.handle('CreateTopic', { Name: 'deploys' });
      const out = (await sns.handle('Publish', {
        TopicArn: TOPIC,
        Subject: 'Kiln: shop started',
        Message: 'hello',
      })) as {
        MessageId: string;
      };
      expect(sns.messages(TOPIC)).toEqual([
        { messageId: out.MessageId, subject: 'Kiln: shop started', message: 'hello', at: ctx.clock.now() },
      ]);
      expect(ctx.entries).toContainEqual(
        expect.objectContaining({ kind: 'log', message: 'sns deploys: Kiln: shop started' }),
      );
    });

    it('answers NotFound (HTTP 404) for a topic that does not exist', async () => {
      expect(await errorOf(sns.handle('Publish', { TopicArn: TOPIC, Message: 'hello' }))).toEqual({
        name: 'NotFoundException',
        message: 'Topic does not exist',
        status: 404,
      });
    });

    it.each([
      ['no message', { Message: '' }],
      ['a message over 256 KB', { Message: 'x'.repeat(262_145) }],
      ['a subject of 100 characters', { Message: 'm', Subject: 's'.repeat(100) }],
      ['a subject with a line break', { Message: 'm', Subject: 'a\nb' }],
      ['a subject that is not ASCII', { Message: 'm', Subject: 'café' }],
    ])('refuses %s with InvalidParameter', async (_what, input) => {
      await sns.handle('CreateTopic', { Name: 'deploys' });
      expect(await errorOf(sns.handle('Publish', { TopicArn: TOPIC, ...input }))).toMatchObject({
        name: 'InvalidParameterException',
        status: 400,
      });
      expect(sns.messages(TOPIC)).toEqual([]);
    });

    it('refuses a message to a FIFO topic without MessageGroupId', async () => {
      await sns.handle('CreateTopic', { Name: 'deploys.fifo', Attributes: { FifoTopic: 'true' } });
      const error = await errorOf(sns.handle('Publish', { TopicArn: `${TOPIC}.fifo`, Message: 'm' }));
      expect(error.message).toContain('MessageGroupId');
    });

    it('refuses an operation it does not simulate', async () => {
      expect((await errorOf(sns.handle('Subscribe', {}))).name).toBe('InvalidAction');
    });
  });
});
