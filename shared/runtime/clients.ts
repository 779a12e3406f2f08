import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients are made once per container and reused across invocations (connection reuse is
 * most of a warm invocation's speed). Handlers take them through a dependencies object so tests
 * and the sandbox hand in their own.
 */
let documentClient: DynamoDBDocumentClient | undefined;

export function defaultDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}
