import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AwsSdkSigV4Signer } from '@aws-sdk/core';
import type { SimService } from '../../../sandbox/core/context';
import type { SandboxEngine } from '../../../sandbox/core/engine';
import { createEngine } from '../../../sandbox/core/engine';
import { SANDBOX_EPOCH } from '../../../sandbox/core/testing';

const TABLE: CreateTableCommandInput = {
  TableName: 'kiln',
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  BillingMode: 'PAY_PER_REQUEST',
};

const quietEc2: SimService = {
  serviceId: 'EC2',
  handle: async () => ({ Reservations: [] }),
};

async function engineWithTable(seed: number): Promise<SandboxEngine> {
  const engine = await createEngine({ seed });
  await engine.createTable(structuredClone(TABLE));
  return engine;
}

/** Two writers race to take one lock item with a conditional put; returns the order they landed in. */
async function raceForLock(seed: number): Promise<{ winner: string; order: string[] }> {
  const engine = await engineWithTable(seed);
  try {
    const take = (holder: string) => async (): Promise<string> => {
      const { doc } = engine.clientsFor(holder);
      await doc.send(
        new PutCommand({
          TableName: 'kiln',
          Item: { pk: 'LOCK#api#prod', holder },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return holder;
    };
    await engine.run(() =>
      Promise.allSettled([engine.spawn('writer-a', take('a')), engine.spawn('writer-b', take('b'))]),
    );
    const { doc } = engine.clientsFor('reader');
    const lock = await engine.run(() =>
      doc.send(new GetCommand({ TableName: 'kiln', Key: { pk: 'LOCK#api#prod' } })),
    );
    const order = engine.timeline.entries
      .filter((entry) => entry.kind === 'api' && entry.operation === 'PutItem')
      .map((entry) =>
        entry.kind === 'api' ? `${entry.caller}:${entry.ok ? 'ok' : (entry.error ?? '')}` : '',
      );
    return { winner: String(lock.Item?.holder), order };
  } finally {
    await engine.dispose();
  }
}

/** A small story: a 300 s wait between two calls, one of them to dynalite. */
async function story(seed: number): Promise<{ jsonl: string; virtualMs: number }> {
  const engine = await engineWithTable(seed);
  try {
    engine.register(quietEc2);
    await engine.run(async () => {
      const { ec2, dynamodb } = engine.clientsFor('fn:on-lifecycle');
      await ec2.send(new DescribeInstancesCommand({}));
      await new Promise((resolve) => setTimeout(resolve, 300_000));
      await dynamodb.send(
        new PutItemCommand({
          TableName: 'kiln',
          Item: { pk: { S: 'RELEASE#api#1' }, at: { S: new Date().toISOString() } },
        }),
      );
    });
    return {
      jsonl: engine.timeline.toJsonLines(),
      virtualMs: Date.now() - SANDBOX_EPOCH,
    };
  } finally {
    await engine.dispose();
  }
}

describe('sandbox engine with dynalite', () => {
  describe('createTable', () => {
    it('leaves the table ACTIVE although dynalite flips it on a faked timer', async () => {
      const engine = await engineWithTable(1);
      try {
        const { dynamodb } = engine.clientsFor('kiln-cli');
        const out = await engine.run(() => dynamodb.send(new DescribeTableCommand({ TableName: 'kiln' })));
        expect(out.Table?.TableStatus).toBe('ACTIVE');
      } finally {
        await engine.dispose();
      }
    });

    it('rejects a table input without a name', async () => {
      const engine = await createEngine({ seed: 1 });
      try {
        await expect(engine.createTable({ ...structuredClone(TABLE), TableName: '' })).rejects.toThrow(
          /TableName/,
        );
      } finally {
        await engine.dispose();
      }
    });
  });

  describe('DynamoDB pass-through', () => {
    it('records DynamoDB calls and hands back a failed condition on the first attempt (no clock-skew retry)', async () => {
      const engine = await engineWithTable(1);
      try {
        const { dynamodb } = engine.clientsFor('kiln-cli');
        const put = (): PutItemCommand =>
          new PutItemCommand({
            TableName: 'kiln',
            Item: { pk: { S: 'LOCK#api#prod' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          });
        await engine.run(() => dynamodb.send(put()));

        const second = engine.run(() => dynamodb.send(put()));

        await expect(second).rejects.toBeInstanceOf(ConditionalCheckFailedException);
        await expect(second).rejects.toMatchObject({ $metadata: { attempts: 1 } });
        expect(
          engine.timeline.entries.map((entry) => (entry.kind === 'api' ? (entry.error ?? 'ok') : '')),
        ).toEqual(['ok', 'ConditionalCheckFailedException']);
        expect(engine.timeline.entries[0]).toMatchObject({
          service: 'DynamoDB',
          operation: 'PutItem',
          caller: 'kiln-cli',
        });
      } finally {
        await engine.dispose();
      }
    });
  });

  describe('the document client', () => {
    it('translates values as the deployed functions’ client does: undefined attributes are left out', async () => {
      const engine = await engineWithTable(1);
      try {
        const { doc } = engine.clientsFor('fn:onArtifact');
        // lib-dynamodb drops a top-level undefined on its own; inside a map or list it refuses one
        // unless the client was built with removeUndefinedValues, as production's is.
        const item: Record<string, unknown> = {
          pk: 'DEPLOYMENT#api#1',
          note: undefined,
          step: { name: 'bake', error: undefined },
          waves: [1, undefined],
        };
        await engine.run(() => doc.send(new PutCommand({ TableName: 'kiln', Item: item })));

        const stored = await engine.run(() =>
          doc.send(new GetCommand({ TableName: 'kiln', Key: { pk: 'DEPLOYMENT#api#1' } })),
        );
        expect(stored.Item).toEqual({ pk: 'DEPLOYMENT#api#1', step: { name: 'bake' }, waves: [1] });
      } finally {
        await engine.dispose();
      }
    });
  });

  describe('racing conditional puts', () => {
    it('lands two writers in the same order for the same seed', async () => {
      const first = await raceForLock(11);
      const second = await raceForLock(11);

      expect(second).toEqual(first);
      expect(first.order.filter((line) => line.endsWith(':ok'))).toEqual([`writer-${first.winner}:ok`]);
    });

    it('lets different seeds land the writers in different orders', async () => {
      const winners = new Set<string>();
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) winners.add((await raceForLock(seed)).winner);

      expect([...winners].sort()).toEqual(['a', 'b']);
    });
  });

  describe('determinism', () => {
    it('gives byte-identical timelines for the same seed, with 300 s of virtual wait', async () => {
      const first = await story(5);
      const second = await story(5);

      expect(second.jsonl).toBe(first.jsonl);
      expect(first.virtualMs).toBe(300_000);
      expect(first.jsonl.split('\n')[1]).toBe(
        '{"t":300,"kind":"api","service":"DynamoDB","operation":"PutItem","caller":"fn:on-lifecycle","ok":true}',
      );
    });
  });

  describe('signing', () => {
    it('answers a simulated service before the SigV4 signer runs, and signs what goes on to dynalite', async () => {
      const engine = await engineWithTable(2);
      const signer = jest.spyOn(AwsSdkSigV4Signer.prototype, 'sign');
      try {
        engine.register(quietEc2);
        const { ec2, dynamodb } = engine.clientsFor('fn:on-lifecycle');
        await engine.run(() => ec2.send(new DescribeInstancesCommand({})));
        // Nothing in the sandbox checks a signature; signing each simulated call was pure cost.
        expect(signer).not.toHaveBeenCalled();
        await engine.run(() =>
          dynamodb.send(new PutItemCommand({ TableName: 'kiln', Item: { pk: { S: 'SIGNED' } } })),
        );
        expect(signer).toHaveBeenCalledTimes(1);
      } finally {
        signer.mockRestore();
        await engine.dispose();
      }
    });
  });
});
