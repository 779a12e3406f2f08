import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTableInput, kilnTableProperties, TABLE_KEYS } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

describe('Kiln table definition', () => {
  describe('kilnTableProperties', () => {
    it('is exactly shared/store/table.json, which serverless.yml deploys', () => {
      const json: unknown = JSON.parse(
        readFileSync(join(__dirname, '../../../shared/store/table.json'), 'utf8'),
      );

      expect(kilnTableProperties()).toEqual(json);
    });

    it('turns on TTL on the attribute the store writes', () => {
      expect(kilnTableProperties().TimeToLiveSpecification).toEqual({
        AttributeName: TABLE_KEYS.ttlAttribute,
        Enabled: true,
      });
    });

    it('turns on deletion protection for the deployed table', () => {
      expect(kilnTableProperties()).toMatchObject({ DeletionProtectionEnabled: true });
    });

    it('returns a copy that callers can change freely', () => {
      const mine = kilnTableProperties();
      mine.KeySchema.length = 0;

      expect(kilnTableProperties().KeySchema).toHaveLength(2);
    });
  });

  describe('createTableInput', () => {
    it('creates an on-demand table with PK/SK and GSI1 that is ACTIVE at once on dynalite', async () => {
      const name = await dynamo.createTable();

      const { Table } = await dynamo.rawClient.send(new DescribeTableCommand({ TableName: name }));

      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.KeySchema).toEqual(createTableInput(name).KeySchema);
      expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema])).toEqual([
        [
          'GSI1',
          [
            { AttributeName: 'GSI1PK', KeyType: 'HASH' },
            { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
          ],
        ],
      ]);
    });
  });
});
