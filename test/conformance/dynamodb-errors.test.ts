import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { documentClientFor } from '../../shared/runtime/clients';
import { KilnStore, LockHeldError, StaleVersionError } from '../../shared/store';
import { createTableInput } from '../../shared/store/table';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { motoClientConfig } from './moto';

/**
 * Differential test: the DynamoDB errors the store relies on come out with the same names from
 * dynalite (what unit, integration and sandbox runs use) and from moto (closer to AWS's request
 * validation). If dynalite ever drifted, the store's error mapping would be tested against fiction.
 * Error names: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */

interface Backend {
  name: string;
  client: DynamoDBClient;
  tableName: string;
  stop: () => Promise<void>;
}

let dynalite: LocalDynamo;
const backends: Backend[] = [];
let tableCounter = 0;

async function motoBackend(): Promise<Backend> {
  const client = new DynamoDBClient(motoClientConfig());
  const tableName = `kiln-conformance-${process.pid}-${++tableCounter}`;
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  return {
    name: 'moto',
    client,
    tableName,
    stop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}

beforeAll(async () => {
  dynalite = await startDynalite();
  backends.push({
    name: 'dynalite',
    client: dynalite.rawClient,
    tableName: dynalite.tableName,
    stop: () => dynalite.stop(),
  });
  backends.push(await motoBackend());
});
afterAll(async () => {
  for (const backend of backends) await backend.stop();
});

/** The error name each backend answers `call` with ('ok' when it succeeds). */
async function outcome(call: (backend: Backend) => Promise<unknown>): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const backend of backends) {
    try {
      await call(backend);
      names[backend.name] = 'ok';
    } catch (error) {
      names[backend.name] = error instanceof Error ? error.name : String(error);
    }
  }
  return names;
}

function both(name: string): Record<string, string> {
  return { dynalite: name, moto: name };
}

let keyCounter = 0;
function freshKey(): { PK: { S: string }; SK: { S: string } } {
  keyCounter += 1;
  return { PK: { S: `conformance#${keyCounter}` }, SK: { S: 'item' } };
}

describe('DynamoDB errors: dynalite and moto agree', () => {
  describe('conditional writes', () => {
    it('fails a create-only put of an existing item with ConditionalCheckFailedException', async () => {
      const key = freshKey();
      const put = (b: Backend) =>
        b.client.send(
          new PutItemCommand({
            TableName: b.tableName,
            Item: { ...key, version: { N: '1' } },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      await outcome(put);

      expect(await outcome(put)).toEqual(both('ConditionalCheckFailedException'));
    });

    it('fails a version-guarded update at the wrong version with ConditionalCheckFailedException', async () => {
      const key = freshKey();
      await outcome((b) =>
        b.client.send(new PutItemCommand({ TableName: b.tableName, Item: { ...key, version: { N: '2' } } })),
      );

      const result = await outcome((b) =>
        b.client.send(
          new UpdateItemCommand({
            TableName: b.tableName,
            Key: key,
            UpdateExpression: 'SET #v = :next',
            ConditionExpression: '#v = :expected',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':next': { N: '2' }, ':expected': { N: '1' } },
          }),
        ),
      );

      expect(result).toEqual(both('ConditionalCheckFailedException'));
    });

    it('fails a condition on a nested map attribute of a missing item with ConditionalCheckFailedException', async () => {
      const result = await outcome((b) =>
        b.client.send(
          new UpdateItemCommand({
            TableName: b.tableName,
            Key: freshKey(),
            UpdateExpression: 'REMOVE #lock',
            ConditionExpression: '#lock.#holder = :holder',
            ExpressionAttributeNames: { '#lock': 'lock', '#holder': 'holder' },
            ExpressionAttributeValues: { ':holder': { S: 'me' } },
          }),
        ),
      );

      expect(result).toEqual(both('ConditionalCheckFailedException'));
    });
  });

  describe('missing table', () => {
    it('answers a GetItem on a table that does not exist with ResourceNotFoundException', async () => {
      const result = await outcome((b) =>
        b.client.send(new GetItemCommand({ TableName: 'kiln-no-such-table', Key: freshKey() })),
      );

      expect(result).toEqual(both('ResourceNotFoundException'));
    });
  });

  describe('request validation', () => {
    it('rejects a strongly consistent read of a GSI with ValidationException', async () => {
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html (ConsistentRead)
      const result = await outcome((b) =>
        b.client.send(
          new QueryCommand({
            TableName: b.tableName,
            IndexName: 'GSI1',
            ConsistentRead: true,
            KeyConditionExpression: 'GSI1PK = :p',
            ExpressionAttributeValues: { ':p': { S: 'SERVICES' } },
          }),
        ),
      );

      expect(result).toEqual(both('ValidationException'));
    });

    it('rejects a put without the sort key with ValidationException', async () => {
      const result = await outcome((b) =>
        b.client.send(new PutItemCommand({ TableName: b.tableName, Item: { PK: { S: 'only-pk' } } })),
      );

      expect(result).toEqual(both('ValidationException'));
    });

    it('rejects an expression attribute value that no expression uses with ValidationException', async () => {
      const result = await outcome((b) =>
        b.client.send(
          new UpdateItemCommand({
            TableName: b.tableName,
            Key: freshKey(),
            UpdateExpression: 'SET a = :a',
            ExpressionAttributeValues: { ':a': { S: 'x' }, ':unused': { S: 'y' } },
          }),
        ),
      );

      expect(result).toEqual(both('ValidationException'));
    });
  });
});

describe('KilnStore maps those errors the same on dynalite and moto', () => {
  function storeOn(backend: Backend): KilnStore<{ name: string }> {
    return new KilnStore<{ name: string }>({
      client: documentClientFor(backend.client),
      tableName: backend.tableName,
      now: () => Date.parse('2026-03-01T12:00:00.000Z'),
    });
  }

  it('turns a held lock into LockHeldError on both', async () => {
    const service = `conf-lock-${++keyCounter}`;
    const errors: string[] = [];
    for (const backend of backends) {
      const store = storeOn(backend);
      await store.acquireLock(service, 'prod', { holder: 'a', leaseMs: 60_000 });
      const failure = await store
        .acquireLock(service, 'prod', { holder: 'b', leaseMs: 60_000 })
        .catch((e: unknown) => e);
      errors.push(failure instanceof LockHeldError ? `${failure.name}:${failure.holder}` : String(failure));
    }

    expect(errors).toEqual(['LockHeldError:a', 'LockHeldError:a']);
  });

  it('appends steps under write tokens (ADD to a string set, NOT contains) the same on both', async () => {
    const id = `conf-steps-${++keyCounter}`;
    const steps: string[] = [];
    for (const backend of backends) {
      const store = storeOn(backend);
      await store.createDeployment({
        id,
        service: 'conf',
        releaseVersion: '1.0.0',
        environments: ['prod'],
        trigger: 'cli',
        actor: 'test',
      });
      await store.appendStep(id, { name: 'bake', status: 'running' });
      const after = await store.appendStep(id, { name: 'gate', status: 'running' });
      steps.push(`${backend.name}:${after.steps.map((step) => step.name).join(',')}@${after.version}`);
    }

    expect(steps).toEqual(['dynalite:bake,gate@3', 'moto:bake,gate@3']);
  });

  it('turns a stale deployment update into StaleVersionError on both', async () => {
    const id = `conf-deploy-${++keyCounter}`;
    const errors: string[] = [];
    for (const backend of backends) {
      const store = storeOn(backend);
      await store.createDeployment({
        id,
        service: 'conf',
        releaseVersion: '1.0.0',
        environments: ['prod'],
        trigger: 'cli',
        actor: 'test',
      });
      await store.appendStep(id, { name: 'bake', status: 'running' });
      const failure = await store.updateDeployment(id, { status: 'baking' }, 1).catch((e: unknown) => e);
      errors.push(
        failure instanceof StaleVersionError
          ? `${failure.name}:${String(failure.actualVersion)}`
          : String(failure),
      );
    }

    expect(errors).toEqual(['StaleVersionError:2', 'StaleVersionError:2']);
  });
});
