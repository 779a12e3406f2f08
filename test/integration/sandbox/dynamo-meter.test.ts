import { ConditionalCheckFailedException, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SandboxEngine } from '../../../sandbox/core/engine';
import { createEngine } from '../../../sandbox/core/engine';
import { meterInvocation } from '../../../sandbox/core/metering';

const TABLE: CreateTableCommandInput = {
  TableName: 'kiln',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'gpk', AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'GSI',
      KeySchema: [{ AttributeName: 'gpk', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

async function engineWithTable(meterDynamo: boolean): Promise<SandboxEngine> {
  const engine = await createEngine({ seed: 3, meterDynamo });
  try {
    await engine.createTable(structuredClone(TABLE));
  } catch (error) {
    await engine.dispose();
    throw error;
  }
  return engine;
}

/** An item of about `kb` KB (its attribute values; names and key add a few bytes). */
const itemOf = (pk: string, kb: number) => ({ pk, body: 'x'.repeat(Math.round(kb * 1024)) });

describe('DynamoDB request units (EngineOptions.meterDynamo)', () => {
  it('records a write by item size, rounded up to 1 KB, and answers the caller without ConsumedCapacity', async () => {
    const engine = await engineWithTable(true);
    try {
      const { doc } = engine.clientsFor('kiln-cli');
      const out = await engine.run(() =>
        doc.send(new PutCommand({ TableName: 'kiln', Item: itemOf('a', 2.5) })),
      );
      expect(out.ConsumedCapacity).toBeUndefined();
      expect(engine.dynamoMeter?.requests).toEqual([
        expect.objectContaining({
          caller: 'kiln-cli',
          invoked: false,
          operation: 'PutItem',
          kind: 'write',
          units: 3,
          // The table key as sent (marshalled): an identity, not for reading.
          item: JSON.stringify([{ S: 'a' }]),
          setsIndexKey: false,
        }),
      ]);
    } finally {
      await engine.dispose();
    }
  });

  it('hands ConsumedCapacity to a caller that asked for it', async () => {
    const engine = await engineWithTable(true);
    try {
      const { doc } = engine.clientsFor('kiln-cli');
      const out = await engine.run(() =>
        doc.send(
          new PutCommand({ TableName: 'kiln', Item: itemOf('a', 0.1), ReturnConsumedCapacity: 'TOTAL' }),
        ),
      );
      expect(out.ConsumedCapacity).toMatchObject({ CapacityUnits: 1 });
    } finally {
      await engine.dispose();
    }
  });

  it('records reads by item size per 4 KB, halved when eventually consistent', async () => {
    const engine = await engineWithTable(true);
    try {
      const { doc } = engine.clientsFor('kiln-cli');
      await engine.run(async () => {
        await doc.send(new PutCommand({ TableName: 'kiln', Item: itemOf('a', 5) }));
        await doc.send(new GetCommand({ TableName: 'kiln', Key: { pk: 'a' } }));
        await doc.send(new GetCommand({ TableName: 'kiln', Key: { pk: 'a' }, ConsistentRead: true }));
      });
      expect(engine.dynamoMeter?.requests.filter((r) => r.kind === 'read').map((r) => r.units)).toEqual([
        1, 2,
      ]);
    } finally {
      await engine.dispose();
    }
  });

  it('marks the writes that set an index key, literally or through an attribute name', async () => {
    const engine = await engineWithTable(true);
    try {
      const { doc } = engine.clientsFor('kiln-cli');
      await engine.run(async () => {
        await doc.send(new PutCommand({ TableName: 'kiln', Item: { pk: 'a', gpk: 'G#1' } }));
        await doc.send(
          new UpdateCommand({
            TableName: 'kiln',
            Key: { pk: 'a' },
            UpdateExpression: 'SET #g = :g',
            ExpressionAttributeNames: { '#g': 'gpk' },
            ExpressionAttributeValues: { ':g': 'G#2' },
          }),
        );
        await doc.send(
          new UpdateCommand({
            TableName: 'kiln',
            Key: { pk: 'a' },
            UpdateExpression: 'SET body = :b',
            ExpressionAttributeValues: { ':b': 'x' },
          }),
        );
      });
      expect(engine.dynamoMeter?.requests.map((r) => r.setsIndexKey)).toEqual([true, true, false]);
    } finally {
      await engine.dispose();
    }
  });

  it('records a failed condition at one write unit', async () => {
    const engine = await engineWithTable(true);
    try {
      const { doc } = engine.clientsFor('kiln-cli');
      const put = () =>
        doc.send(
          new PutCommand({
            TableName: 'kiln',
            Item: { pk: 'lock' },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      await engine.run(put);
      await expect(engine.run(put)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      expect(engine.dynamoMeter?.requests[1]).toMatchObject({
        units: 1,
        conditionFailed: true,
        setsIndexKey: false,
      });
    } finally {
      await engine.dispose();
    }
  });

  it('tells the requests a Lambda invocation made from the others, and counts them for the invocation', async () => {
    const engine = await engineWithTable(true);
    try {
      const { doc } = engine.clientsFor('fn:rolloutSteps');
      const calls = { open: true, calls: {} };
      await engine.run(async () => {
        await meterInvocation(calls, () => doc.send(new GetCommand({ TableName: 'kiln', Key: { pk: 'a' } })));
        calls.open = false;
        await doc.send(new GetCommand({ TableName: 'kiln', Key: { pk: 'a' } }));
      });
      expect(engine.dynamoMeter?.requests.map((r) => r.invoked)).toEqual([true, false]);
      expect(calls.calls).toEqual({ DynamoDB: 1 });
    } finally {
      await engine.dispose();
    }
  });

  it('leaves the timeline exactly as it is without the meter', async () => {
    const timeline = async (meterDynamo: boolean) => {
      const engine = await engineWithTable(meterDynamo);
      try {
        const { doc } = engine.clientsFor('kiln-cli');
        await engine.run(async () => {
          await doc.send(new PutCommand({ TableName: 'kiln', Item: itemOf('a', 1.5) }));
          await doc.send(new GetCommand({ TableName: 'kiln', Key: { pk: 'a' } }));
        });
        return engine.timeline.toJsonLines();
      } finally {
        await engine.dispose();
      }
    };
    expect(await timeline(true)).toBe(await timeline(false));
  });

  it('meters nothing unless asked', async () => {
    const engine = await engineWithTable(false);
    try {
      expect(engine.dynamoMeter).toBeUndefined();
    } finally {
      await engine.dispose();
    }
  });
});
