/**
 * The cold-start bench's reference: a function holding nothing but the AWS SDK's DynamoDB client,
 * making the same calls as on-artifact's first invocation (one query on GSI1, two puts) with no
 * validation, logging or middleware. What it costs is what any function that reads and writes
 * Kiln's table pays for the SDK alone; the rest of a Kiln function's figure is Kiln's own.
 * Bundled with the functions' own settings (serverless.yml `custom.esbuild`, its credentials alias
 * included), so the floor drops whenever the functions' bundling gets lighter.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: { id?: string }) => {
  const TableName = process.env.KILN_TABLE;
  const services = await client.send(
    new QueryCommand({
      TableName,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :services',
      ExpressionAttributeValues: { ':services': 'SERVICES' },
    }),
  );
  const id = String(event.id);
  await client.send(
    new PutCommand({ TableName, Item: { PK: `BENCH#${id}`, SK: 'ARTIFACT', n: services.Count } }),
  );
  await client.send(
    new PutCommand({ TableName, Item: { PK: `BENCH#${id}`, SK: 'AUDIT', n: services.Count } }),
  );
  return { recorded: 1 };
};
