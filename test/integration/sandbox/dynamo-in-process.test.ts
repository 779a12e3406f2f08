import net from 'node:net';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { createEngine, type SandboxEngine } from '../../../sandbox/core/engine';

/**
 * The sandbox's own clients reach dynalite in this process, without the loopback socket
 * (sandbox/core/dynamo.ts): they must get exactly what a client talking HTTP to the same dynalite
 * gets, answers and errors alike, while no socket is opened.
 */
const TABLE: CreateTableCommandInput = {
  TableName: 'kiln',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

describe('the sandbox’s DynamoDB without a socket', () => {
  let engine: SandboxEngine;
  let overHttp: DynamoDBClient;

  beforeEach(async () => {
    engine = await createEngine({ seed: 5 });
    await engine.createTable(structuredClone(TABLE));
    overHttp = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: engine.dynamo!.endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      // dynalite's Date header is real time while the engine's clock is virtual: the SDK would take
      // an error for clock skew and retry on a timer that never fires outside a run.
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    overHttp.destroy();
    await engine.dispose();
  });

  const item = { pk: { S: 'SERVICE#checkout' }, sk: { S: 'v1' }, n: { N: '3' } };
  const strip = <T extends { $metadata?: unknown }>({ $metadata: _ignored, ...rest }: T) => rest;

  /** One request through the sandbox's client (in process), outside the scheduler's gate. */
  const inProcess = <T>(send: (client: DynamoDBClient) => Promise<T>): Promise<T> =>
    engine.run(() => send(engine.clientsFor('test').dynamodb));

  it('answers reads and writes as dynalite answers them over HTTP', async () => {
    await inProcess((c) => c.send(new PutItemCommand({ TableName: 'kiln', Item: item })));
    const viaHttp = await overHttp.send(
      new GetItemCommand({ TableName: 'kiln', Key: { pk: item.pk, sk: item.sk } }),
    );
    const viaProcess = await inProcess((c) =>
      c.send(new GetItemCommand({ TableName: 'kiln', Key: { pk: item.pk, sk: item.sk } })),
    );
    expect(strip(viaProcess)).toEqual(strip(viaHttp));
    expect(viaProcess.Item).toEqual(item);

    const query = new QueryCommand({
      TableName: 'kiln',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': item.pk },
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(strip(await inProcess((c) => c.send(query)))).toEqual(strip(await overHttp.send(query)));
  });

  it('fails as it fails over HTTP: the same modeled exceptions, names and messages', async () => {
    await inProcess((c) => c.send(new PutItemCommand({ TableName: 'kiln', Item: item })));
    const conditional = new PutItemCommand({
      TableName: 'kiln',
      Item: item,
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const viaHttp = await overHttp.send(conditional).catch((e: unknown) => e);
    const viaProcess = await inProcess((c) => c.send(conditional)).catch((e: unknown) => e);
    expect(viaProcess).toBeInstanceOf(ConditionalCheckFailedException);
    expect(viaHttp).toBeInstanceOf(ConditionalCheckFailedException);
    expect((viaProcess as Error).message).toBe((viaHttp as Error).message);

    const noTable = new GetItemCommand({ TableName: 'nope', Key: { pk: item.pk, sk: item.sk } });
    await expect(inProcess((c) => c.send(noTable))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(overHttp.send(noTable)).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('opens no socket', async () => {
    const connect = jest.spyOn(net.Socket.prototype, 'connect');
    try {
      await inProcess((c) => c.send(new PutItemCommand({ TableName: 'kiln', Item: item })));
      await inProcess((c) =>
        c.send(new GetItemCommand({ TableName: 'kiln', Key: { pk: item.pk, sk: item.sk } })),
      );
      expect(connect).not.toHaveBeenCalled();
      // The spy sees sockets: the same read over HTTP opens one.
      await overHttp.send(new GetItemCommand({ TableName: 'kiln', Key: { pk: item.pk, sk: item.sk } }));
      expect(connect).toHaveBeenCalled();
    } finally {
      connect.mockRestore();
    }
  });
});
