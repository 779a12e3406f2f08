import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createBakeStepsHandler } from '../../../functions/steps/bake';
import { TransientAwsError } from '../../../shared/domain/step-errors';

const context = {
  functionName: 'kiln-test-bake-steps',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 120000,
} as Context;

const beginEvent = () => ({
  step: 'begin',
  state: {
    deploymentId: 'checkout-1_4_2-0123456789abcdef',
    service: 'checkout',
    version: '1.4.2',
    manifestVersion: 1,
    artifact: { kind: 's3', uri: 's3://acme-artifacts/checkout-1.4.2.tar.gz', digest: 'etag:b1946ac9' },
  },
});

/** DynamoDB still throttling after the SDK's own retries, as the store sees it. */
const throttled = () =>
  new DynamoDBServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });

describe('bake-steps handler', () => {
  const documentClient = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', maxAttempts: 1 }),
  );
  const dynamo = mockClient(documentClient);

  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });
  beforeEach(() => dynamo.reset());

  const handler = () =>
    createBakeStepsHandler(() => ({
      documentClient,
      tableName: 'kiln-test',
      ec2For: (region) => new EC2Client({ region }),
      ssmFor: (region) => new SSMClient({ region }),
      sfn: new SFNClient({ region: 'us-east-1' }),
    }));

  describe('errors the state machine retries', () => {
    it('reports a store call still throttled after the SDK’s retries as TransientAwsError, naming the step', async () => {
      dynamo.on(GetCommand).rejects(throttled());
      dynamo.on(QueryCommand).rejects(throttled());

      const failure = await handler()(beginEvent(), context).then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(failure).toBeInstanceOf(TransientAwsError);
      expect(failure).toMatchObject({ name: 'TransientAwsError', code: 'ThrottlingException' });
      expect((failure as Error).message).toMatch(/^planning the bake: /);
    });
  });
});
