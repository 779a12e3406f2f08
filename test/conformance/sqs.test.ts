/**
 * Differential tests for the SQS calls Kiln's dead-letter adapter makes (SendMessage as AWS
 * services do, ReceiveMessage, ChangeMessageVisibility, DeleteMessage, GetQueueAttributes): the
 * same calls against moto (a real SQSClient pointed at moto_server) and against SqsSim, comparing
 * error names and messages and the structure of outputs; then the adapter itself against moto.
 *
 * Where moto departs from AWS's documentation the sim follows AWS, and the test says so.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createTestContext } from '../../sandbox/core/testing';
import { SqsSim } from '../../sandbox/services/sqs';
import { DeadLetterQueue } from '../../shared/aws/sqs';
import { readDeadLetter } from '../../shared/domain/dead-letter';
import { motoClientConfig, resetMoto } from './moto';
import { outcome, type Outcome } from './support/differential';

/** Key paths of a value, arrays as `[]`. */
function paths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((item) => paths(item, `${prefix}[]`)))].sort();
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .flatMap(([key, item]) => [`${prefix}.${key}`, ...paths(item, `${prefix}.${key}`)])
      .sort();
  }
  return [];
}

const ATTRIBUTES = {
  RULE_ARN: {
    DataType: 'String',
    StringValue: 'arn:aws:events:us-east-1:123456789012:rule/kiln-ci-on-artifact-rule-1',
  },
  TARGET_ARN: {
    DataType: 'String',
    StringValue: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-ci-on-artifact',
  },
  ERROR_CODE: { DataType: 'String', StringValue: 'NO_RESOURCE' },
};
const BODY = JSON.stringify({ id: 'e-1', source: 'aws.s3', 'detail-type': 'Object Created', detail: {} });

let moto: SQSClient;
let motoUrl: string;
let sim: SqsSim;
let simUrl: string;

beforeAll(() => {
  moto = new SQSClient(motoClientConfig());
});
afterAll(() => moto.destroy());
beforeEach(async () => {
  await resetMoto();
  ({ QueueUrl: motoUrl = '' } = await moto.send(
    new CreateQueueCommand({
      QueueName: 'kiln-ci-dead-letters',
      Attributes: { MessageRetentionPeriod: '1209600', SqsManagedSseEnabled: 'true' },
    }),
  ));
  sim = new SqsSim(createTestContext(1));
  simUrl = sim.createQueue('kiln-ci-dead-letters', {
    messageRetentionSeconds: 1_209_600,
    sqsManagedSse: true,
  });
});

/** Runs the same operation on both; `input` gets the right QueueUrl. */
async function both(
  command: new (input: never) => unknown,
  operation: string,
  input: Record<string, unknown>,
): Promise<[Outcome, Outcome]> {
  const Command = command as new (input: Record<string, unknown>) => Parameters<SQSClient['send']>[0];
  return [
    await outcome(() => moto.send(new Command({ ...input, QueueUrl: motoUrl })) as Promise<object>),
    await outcome(() => sim.handle(operation, { ...input, QueueUrl: simUrl })),
  ];
}

describe('SQS conformance (moto vs SqsSim)', () => {
  it('SendMessage with attributes: same MD5s and output keys', async () => {
    const [m, s] = await both(SendMessageCommand, 'SendMessage', {
      MessageBody: BODY,
      MessageAttributes: ATTRIBUTES,
    });
    if (!m.ok || !s.ok) throw new Error(JSON.stringify({ m, s }));
    expect(paths(s.value)).toEqual(paths(m.value));
    expect(s.value.MD5OfMessageBody).toBe(m.value.MD5OfMessageBody);
    expect(s.value.MD5OfMessageAttributes).toBe(m.value.MD5OfMessageAttributes);
  });

  it('ReceiveMessage returns the same message shape with attributes asked for', async () => {
    await both(SendMessageCommand, 'SendMessage', { MessageBody: BODY, MessageAttributes: ATTRIBUTES });
    const [m, s] = await both(ReceiveMessageCommand, 'ReceiveMessage', {
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 30,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp'],
    });
    if (!m.ok || !s.ok) throw new Error(JSON.stringify({ m, s }));
    expect(paths(s.value)).toEqual(paths(m.value));
    const body = (o: Record<string, unknown>) => (o.Messages as Array<Record<string, unknown>>)[0];
    expect(body(s.value)?.MessageAttributes).toEqual(body(m.value)?.MessageAttributes);
    expect(body(s.value)?.MD5OfMessageAttributes).toBe(body(m.value)?.MD5OfMessageAttributes);
    // Received messages are hidden: a second receive finds nothing on either.
    const [m2, s2] = await both(ReceiveMessageCommand, 'ReceiveMessage', { MaxNumberOfMessages: 10 });
    expect([m2, s2]).toEqual([
      { ok: true, value: {} },
      { ok: true, value: {} },
    ]);
  });

  it.each([
    ['MaxNumberOfMessages', 11],
    ['WaitTimeSeconds', 21],
  ])('ReceiveMessage refuses %s = %d with InvalidParameterValue on both', async (name, value) => {
    const [m, s] = await both(ReceiveMessageCommand, 'ReceiveMessage', { [name]: value });
    expect(m).toMatchObject({ ok: false, name: 'InvalidParameterValue' });
    expect(s).toMatchObject({ ok: false, name: 'InvalidParameterValue' });
  });

  it('DeleteMessage and ChangeMessageVisibility refuse a handle never issued alike', async () => {
    for (const [command, operation, extra] of [
      [DeleteMessageCommand, 'DeleteMessage', {}],
      [ChangeMessageVisibilityCommand, 'ChangeMessageVisibility', { VisibilityTimeout: 0 }],
    ] as const) {
      const [m, s] = await both(command, operation, { ReceiptHandle: 'garbage', ...extra });
      expect(s).toEqual(m);
    }
  });

  it('GetQueueAttributes answers the same attribute names, and refuses an unknown one alike', async () => {
    const [m, s] = await both(GetQueueAttributesCommand, 'GetQueueAttributes', { AttributeNames: ['All'] });
    if (!m.ok || !s.ok) throw new Error(JSON.stringify({ m, s }));
    expect(Object.keys(s.value.Attributes as object).sort()).toEqual(
      Object.keys(m.value.Attributes as object).sort(),
    );
    const [mBad, sBad] = await both(GetQueueAttributesCommand, 'GetQueueAttributes', {
      AttributeNames: ['Nope'],
    });
    expect(sBad).toEqual(mBad);
  });

  it('an unknown queue is QueueDoesNotExist on both', async () => {
    const m = await outcome(() =>
      moto.send(new SendMessageCommand({ QueueUrl: `${motoUrl}-x`, MessageBody: 'x' })),
    );
    const s = await outcome(() => sim.handle('SendMessage', { QueueUrl: `${simUrl}-x`, MessageBody: 'x' }));
    expect(s).toEqual(m);
  });

  it('an empty body: AWS documents a minimum of one character and the sim refuses it; moto accepts it', async () => {
    const [m, s] = await both(SendMessageCommand, 'SendMessage', { MessageBody: '' });
    expect(m.ok).toBe(true);
    expect(s).toMatchObject({ ok: false, name: 'InvalidParameterValue' });
  });
});

describe('the dead-letter adapter against moto', () => {
  it('reads every message with its attributes, releases them, and deletes one', async () => {
    for (let i = 0; i < 12; i++) {
      await moto.send(
        new SendMessageCommand({ QueueUrl: motoUrl, MessageBody: BODY, MessageAttributes: ATTRIBUTES }),
      );
    }
    const queue = new DeadLetterQueue({ client: moto, queueUrl: motoUrl });

    const messages = await queue.receiveAll({ limit: 100 });
    expect(messages).toHaveLength(12);
    expect(readDeadLetter(messages[0] as (typeof messages)[number])).toMatchObject({
      kind: 'delivery',
      error: 'NO_RESOURCE',
      event: { source: 'aws.s3', detailType: 'Object Created' },
    });

    await queue.release(messages);
    await queue.delete(messages[0] as (typeof messages)[number]);
    const { Attributes } = await moto.send(
      new GetQueueAttributesCommand({ QueueUrl: motoUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe('11');
  });

  it('names a queue that does not exist', async () => {
    const queue = new DeadLetterQueue({ client: moto, queueUrl: `${motoUrl}-missing` });
    await expect(queue.receiveAll({ limit: 1 })).rejects.toMatchObject({ name: 'QueueNotFoundError' });
  });
});
