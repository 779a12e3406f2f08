import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import * as z from '../domain/zod';
import tableJson from './table.json';

/**
 * Kiln's one DynamoDB table. table.json is the single source of truth: serverless.yml reads it
 * as the `AWS::DynamoDB::Table` Properties (`${file(./shared/store/table.json)}`), the tests
 * create the same table on dynalite from it, and this module checks its shape once at load so a
 * bad edit fails every test rather than a deploy.
 *
 * Properties: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html
 */

const Name = z.string().check(z.minLength(1));
const KeyElement = z.object({
  AttributeName: Name,
  KeyType: z.enum(['HASH', 'RANGE']),
});

// PITR, SSE and the like are CloudFormation-only settings that the store never reads.
const TableProperties = z.looseObject({
  BillingMode: z.literal('PAY_PER_REQUEST'),
  AttributeDefinitions: z.array(z.object({ AttributeName: Name, AttributeType: z.enum(['S', 'N', 'B']) })),
  KeySchema: z.array(KeyElement),
  GlobalSecondaryIndexes: z.array(
    z.object({
      IndexName: Name,
      KeySchema: z.array(KeyElement),
      Projection: z.object({ ProjectionType: z.literal('ALL') }),
    }),
  ),
  TimeToLiveSpecification: z.object({ AttributeName: Name, Enabled: z.literal(true) }),
});
export type KilnTableProperties = z.infer<typeof TableProperties>;

const properties: KilnTableProperties = TableProperties.parse(tableJson);

/** Names the store's code relies on; checked against table.json below so the two cannot drift. */
export const TABLE_KEYS = {
  partitionKey: 'PK',
  sortKey: 'SK',
  gsi1: { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
  ttlAttribute: 'ttl',
} as const;

function assertMatchesJson(): void {
  const key = (schema: ReadonlyArray<{ AttributeName: string; KeyType: string }>, type: string) =>
    schema.find((element) => element.KeyType === type)?.AttributeName;
  const gsi = properties.GlobalSecondaryIndexes.find(
    (index) => index.IndexName === TABLE_KEYS.gsi1.indexName,
  );
  const problems: string[] = [];
  if (key(properties.KeySchema, 'HASH') !== TABLE_KEYS.partitionKey) problems.push('KeySchema HASH');
  if (key(properties.KeySchema, 'RANGE') !== TABLE_KEYS.sortKey) problems.push('KeySchema RANGE');
  if (!gsi) problems.push(`GlobalSecondaryIndexes[${TABLE_KEYS.gsi1.indexName}]`);
  else {
    if (key(gsi.KeySchema, 'HASH') !== TABLE_KEYS.gsi1.partitionKey) problems.push('GSI1 KeySchema HASH');
    if (key(gsi.KeySchema, 'RANGE') !== TABLE_KEYS.gsi1.sortKey) problems.push('GSI1 KeySchema RANGE');
  }
  if (properties.TimeToLiveSpecification.AttributeName !== TABLE_KEYS.ttlAttribute) {
    problems.push('TimeToLiveSpecification.AttributeName');
  }
  if (problems.length > 0) {
    throw new Error(`shared/store/table.json disagrees with the store's key names: ${problems.join(', ')}`);
  }
}
assertMatchesJson();

/** The CloudFormation `AWS::DynamoDB::Table` Properties (a fresh copy: callers may add a TableName). */
export function kilnTableProperties(): KilnTableProperties {
  return structuredClone(properties);
}

/**
 * The CreateTable request for the same table (tests, sandbox). CreateTable takes no TTL setting —
 * that is a separate UpdateTimeToLive call, which dynalite lacks (it never expires items either).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
 */
export function createTableInput(tableName: string): CreateTableCommandInput & { TableName: string } {
  return {
    TableName: tableName,
    BillingMode: properties.BillingMode,
    AttributeDefinitions: properties.AttributeDefinitions.map((definition) => ({ ...definition })),
    KeySchema: properties.KeySchema.map((element) => ({ ...element })),
    GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes.map((index) => ({
      IndexName: index.IndexName,
      KeySchema: index.KeySchema.map((element) => ({ ...element })),
      Projection: { ...index.Projection },
    })),
  };
}
