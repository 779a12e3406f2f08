/**
 * Differential tests for the SNS calls Kiln's notifications make (CreateTopic, Publish): the same
 * calls against moto (a real SNSClient pointed at moto_server) and against SnsSim, comparing error
 * names and output structure; then the SnsTopics adapter itself against moto.
 *
 * Where moto 5.2.1 departs from AWS's documentation the sim follows AWS, and the test says so:
 * - Publish to a missing topic: both answer NotFound (404), but moto's text is "Endpoint does not
 *   exist"; AWS's is "Topic does not exist" (the sim's).
 * - moto accepts an empty Message and any Subject (empty, 100+ characters, line breaks), which the
 *   Publish reference refuses (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html:
 *   Message "Required: Yes"; Subject "must be ASCII text that begins with a letter, number, or
 *   punctuation mark; must not include line breaks or control characters; and must be less than
 *   100 characters long"). Those refusals are held to the reference against the sim alone.
 * - A FIFO publish without MessageGroupId is MissingParameter in moto, InvalidParameter in the sim
 *   (the Publish reference lists no MissingParameter error); only "both refuse it" is compared.
 * - Error texts for bad topic names differ (moto spells out the naming rule); names are compared.
 */
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createTestContext } from '../../sandbox/core/testing';
import { SnsSim } from '../../sandbox/services/sns';
import { SnsTopics } from '../../shared/aws/sns';
import { AwsRequestRefusedError } from '../../shared/domain/step-errors';
import { motoClientConfig, resetMoto } from './moto';

type Outcome =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; name: string; message: string; status: number | undefined };

async function outcome(call: () => Promise<object>): Promise<Outcome> {
  try {
    const value = { ...(await call()) } as Record<string, unknown>;
    delete value.$metadata;
    return { ok: true, value };
  } catch (error) {
    if (error instanceof Error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      return { ok: false, name: error.name, message: error.message, status };
    }
    throw error;
  }
}

const TOPIC = 'kiln-ci-notices';
const TOPIC_ARN = `arn:aws:sns:us-east-1:123456789012:${TOPIC}`;

let moto: SNSClient;
let sim: SnsSim;

beforeAll(() => {
  moto = new SNSClient(motoClientConfig());
});
afterAll(() => moto.destroy());
beforeEach(async () => {
  await resetMoto();
  sim = new SnsSim(createTestContext(1));
});

async function both(
  operation: 'CreateTopic' | 'Publish',
  input: Record<string, unknown>,
): Promise<[Outcome, Outcome]> {
  const command =
    operation === 'CreateTopic' ? new CreateTopicCommand(input as never) : new PublishCommand(input as never);
  return [
    await outcome(() => moto.send(command as never)),
    await outcome(() => sim.handle(operation, input)),
  ];
}

async function createBoth(name: string, attributes?: Record<string, string>): Promise<void> {
  const [m, s] = await both('CreateTopic', { Name: name, ...(attributes ? { Attributes: attributes } : {}) });
  if (!m.ok || !s.ok) throw new Error(JSON.stringify({ m, s }));
}

function expectSameRefusal(m: Outcome, s: Outcome): void {
  if (m.ok || s.ok) throw new Error(`expected both to refuse: ${JSON.stringify({ m, s })}`);
  expect(s.name).toBe(m.name);
  expect(s.status).toBe(m.status);
}

describe('SNS conformance (moto vs SnsSim)', () => {
  describe('CreateTopic', () => {
    it('answers the same ARN, and the same ARN again for a repeat (idempotent)', async () => {
      const [m1, s1] = await both('CreateTopic', { Name: TOPIC });
      const [m2, s2] = await both('CreateTopic', { Name: TOPIC });
      expect(s1).toEqual(m1);
      expect(s2).toEqual(m2);
      expect(s1).toEqual({ ok: true, value: { TopicArn: TOPIC_ARN } });
    });

    it('creates a FIFO topic whose name ends in .fifo', async () => {
      const [m, s] = await both('CreateTopic', { Name: 'kiln.fifo', Attributes: { FifoTopic: 'true' } });
      expect(s).toEqual(m);
    });

    it.each([
      ['a name with a space and !', { Name: 'bad name!' }],
      ['a name longer than 256 characters', { Name: 'a'.repeat(257) }],
      ['.fifo on a standard topic', { Name: 'kiln.fifo' }],
      ['a FIFO topic whose name lacks .fifo', { Name: 'kiln', Attributes: { FifoTopic: 'true' } }],
    ])('refuses %s with InvalidParameter', async (_case, input) => {
      const [m, s] = await both('CreateTopic', input);
      expectSameRefusal(m, s);
      if (!s.ok) expect(s.name).toBe('InvalidParameterException');
    });
  });

  describe('Publish', () => {
    it('answers a MessageId, and nothing else, for a standard topic', async () => {
      await createBoth(TOPIC);
      const [m, s] = await both('Publish', { TopicArn: TOPIC_ARN, Subject: 'Deployed', Message: 'web v42' });
      if (!m.ok || !s.ok) throw new Error(JSON.stringify({ m, s }));
      expect(Object.keys(s.value)).toEqual(Object.keys(m.value));
      expect(s.value.MessageId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
      expect(sim.messages(TOPIC_ARN)).toEqual([
        expect.objectContaining({ subject: 'Deployed', message: 'web v42' }),
      ]);
    });

    it("refuses a topic that does not exist with NotFound (404); the text is AWS's, not moto's", async () => {
      const [m, s] = await both('Publish', { TopicArn: `${TOPIC_ARN}-missing`, Message: 'web v42' });
      expectSameRefusal(m, s);
      if (m.ok || s.ok) return;
      expect(s.name).toBe('NotFoundException');
      expect(m.message).toBe('Endpoint does not exist'); // moto's
      expect(s.message).toBe('Topic does not exist'); // AWS's
    });

    it('refuses a message over 256 KB with InvalidParameter, as moto does', async () => {
      await createBoth(TOPIC);
      const [m, s] = await both('Publish', { TopicArn: TOPIC_ARN, Message: 'x'.repeat(262_145) });
      expectSameRefusal(m, s);
      if (m.ok || s.ok) return;
      expect(m.message).toContain('Invalid parameter: Message too long');
      // AWS documents the code only; the sim's text says which parameter, as moto's does.
      expect(s.message).toMatch(/^Invalid parameter: Message\b.*Message too long$/);
    });

    it('refuses a FIFO publish without MessageGroupId (moto: MissingParameter; AWS and sim: InvalidParameter)', async () => {
      await createBoth('kiln.fifo', { FifoTopic: 'true' });
      const [m, s] = await both('Publish', {
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:kiln.fifo',
        Message: 'web v42',
      });
      if (m.ok || s.ok) throw new Error(`expected both to refuse: ${JSON.stringify({ m, s })}`);
      expect(m.name).toBe('MissingParameter');
      expect(s.name).toBe('InvalidParameterException');
      expect(s.status).toBe(m.status);
    });

    describe('where moto accepts what the Publish reference refuses (sim only)', () => {
      beforeEach(() => {
        sim.createTopic({ Name: TOPIC });
      });

      it.each([
        ['an empty Message', { Message: '' }],
        ['an empty Subject', { Message: 'm', Subject: '' }],
        ['a Subject of 100 characters', { Message: 'm', Subject: 'a'.repeat(100) }],
        ['a Subject with a line break', { Message: 'm', Subject: 'a\nb' }],
      ])('refuses %s with InvalidParameter', async (_case, input) => {
        const s = await outcome(() => sim.handle('Publish', { TopicArn: TOPIC_ARN, ...input }));
        expect(s).toMatchObject({ ok: false, name: 'InvalidParameterException', status: 400 });
      });
    });
  });
});

describe('SnsTopics (the adapter) against moto', () => {
  const adapter = () => new SnsTopics(() => moto);

  it("publishes to a topic and returns moto's MessageId", async () => {
    await moto.send(new CreateTopicCommand({ Name: TOPIC }));
    const result = await adapter().publish(
      TOPIC_ARN,
      { subject: 'Deployed', message: 'web v42' },
      new AbortController().signal,
    );
    expect(result.messageId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });

  it('turns NotFound for a missing topic into a refusal naming the topic', async () => {
    const refusal = adapter().publish(
      `${TOPIC_ARN}-missing`,
      { subject: 'Deployed', message: 'web v42' },
      new AbortController().signal,
    );
    await expect(refusal).rejects.toBeInstanceOf(AwsRequestRefusedError);
    await expect(refusal).rejects.toMatchObject({
      code: 'NotFoundException',
      message: expect.stringContaining(`publish to ${TOPIC_ARN}-missing: SNS refused it (NotFoundException`),
    });
  });

  it('asks the client for the Region the topic ARN names', async () => {
    const regions: string[] = [];
    await moto.send(new CreateTopicCommand({ Name: TOPIC }));
    await new SnsTopics((region) => {
      regions.push(region);
      return moto;
    }).publish(TOPIC_ARN, { subject: 's', message: 'm' }, new AbortController().signal);
    expect(regions).toEqual(['us-east-1']);
  });
});
