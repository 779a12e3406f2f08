import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients are made once per container and reused across invocations (connection reuse is
 * most of a warm invocation's speed). Handlers take them through a dependencies object so tests
 * and the sandbox hand in their own.
 *
 * A deployed function's clients (this document client, and any Step Functions, EC2, SSM, …
 * client a function makes with `new XClient({})`) take no credentials option: in the bundle,
 * the SDK's default credential chain is the environment's role credentials alone
 * (serverless.yml `custom.esbuild.alias`, shared/runtime/lambda-credentials.ts), which is what
 * the chain resolves to on Lambda, without bundling the rest of it. So the rule holds for every
 * client of every function, whoever builds it; test/unit/runtime/lambda-credentials.test.ts
 * checks each deployed bundle.
 */
let documentClient: DynamoDBDocumentClient | undefined;

/**
 * How Kiln's values become DynamoDB attributes, the same for every document client Kiln builds
 * (functions, CLI, sandbox, tests): an optional field left `undefined` is not written, rather than
 * refused. lib-dynamodb skips a top-level `undefined` by itself but throws on one inside a map or
 * list unless told to remove it
 * (https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-aws-sdk-lib-dynamodb/).
 * A fresh object per client: lib-dynamodb writes its own defaults into the options it is given.
 */
export function kilnTranslateConfig(): TranslateConfig {
  return { marshallOptions: { removeUndefinedValues: true } };
}

/**
 * The one way Kiln wraps a DynamoDB client in a document client. The document client shares the
 * low-level client's middleware stack, so whatever is attached to `client` (the sandbox's hook,
 * a test's fault) applies to it too.
 */
export function documentClientFor(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, kilnTranslateConfig());
}

export function defaultDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= documentClientFor(new DynamoDBClient({}));
  return documentClient;
}
