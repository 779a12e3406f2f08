import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  EnvironmentError,
  explainEnvironmentError,
  type AwsSettingsInUse,
} from '../../../cli/environment-errors';

/**
 * The mapping from an SDK failure to the one line the CLI prints, for the failures a test cannot
 * provoke through the SDK without reaching AWS (rejected credentials, DNS, timeouts) and for a
 * real refused socket. Settings carry their own env, so nothing here reads process.env or ~/.aws.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-explain-'));
  writeFileSync(join(dir, 'config'), '[profile dev]\nregion = eu-west-1\n');
  writeFileSync(join(dir, 'credentials'), '');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function settings(env: NodeJS.ProcessEnv = {}, region: string | undefined = 'eu-west-1'): AwsSettingsInUse {
  return {
    env: {
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      ...env,
    },
    table: 'kiln-prod',
    resolvedRegion: async () => region,
  };
}

function awsError(name: string, message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({
    name,
    message,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

/** The error Node raises when nothing listens on a loopback port. */
async function refusedConnectionError(): Promise<Error> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return new Promise((resolve) => connect(address.port, '127.0.0.1').on('error', resolve));
}

async function explain(error: unknown, using: AwsSettingsInUse): Promise<string | undefined> {
  return (await explainEnvironmentError(error, using))?.message;
}

describe('explainEnvironmentError', () => {
  describe('unreachable endpoints', () => {
    it('names the endpoint variable and the URL for a refused connection', async () => {
      const error = await refusedConnectionError();

      expect(await explain(error, settings({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' }))).toBe(
        'cannot reach DynamoDB at http://127.0.0.1:8000 (connection refused): check AWS_ENDPOINT_URL_DYNAMODB',
      );
    });

    it('names AWS_REGION and the region in use when AWS itself cannot be resolved', async () => {
      const error = Object.assign(new Error('getaddrinfo ENOTFOUND dynamodb.eu-wset-1.amazonaws.com'), {
        code: 'ENOTFOUND',
        hostname: 'dynamodb.eu-wset-1.amazonaws.com',
      });

      expect(await explain(error, settings({}, 'eu-wset-1'))).toBe(
        'cannot reach DynamoDB at dynamodb.eu-wset-1.amazonaws.com (host not found): check AWS_REGION ("eu-wset-1"), ' +
          'your network and proxy, or set AWS_ENDPOINT_URL_DYNAMODB for a local endpoint',
      );
    });

    it('reports a connect timeout from the HTTP handler as unreachable', async () => {
      // The shape @smithy/node-http-handler rejects with when connectionTimeout elapses.
      const error = Object.assign(
        new Error(
          '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 5000 ms.',
        ),
        { name: 'TimeoutError' },
      );

      expect(await explain(error, settings({ AWS_ENDPOINT_URL: 'http://10.0.0.9:8000' }))).toBe(
        'cannot reach DynamoDB at http://10.0.0.9:8000 (no connection within the timeout): check AWS_ENDPOINT_URL',
      );
    });
  });

  describe('credentials AWS rejects', () => {
    it('names the access key settings for an unrecognised key', async () => {
      const error = awsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );

      expect(await explain(error, settings())).toBe(
        'AWS does not recognise the access key (UnrecognizedClientException): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or AWS_PROFILE',
      );
    });

    it('names the profile whose session expired and how to refresh it', async () => {
      const error = awsError(
        'ExpiredTokenException',
        'The security token included in the request is expired',
      );

      expect(await explain(error, settings({ AWS_PROFILE: 'dev' }))).toBe(
        'the AWS session token has expired (ExpiredTokenException): refresh the credentials of profile "dev" (AWS_PROFILE), e.g. `aws sso login --profile dev`',
      );
    });

    it('names the table when the identity may not use it', async () => {
      const error = awsError(
        'AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/kiln-prod',
      );

      expect(await explain(error, settings())).toMatch(
        /^access to DynamoDB table "kiln-prod" denied \(User: .* dynamodb:Query .*\): use a profile or role allowed to read and write it$/,
      );
    });
  });

  describe('what is not an environment problem', () => {
    it.each([
      ['a failed condition', awsError('ConditionalCheckFailedException', 'The conditional request failed')],
      ['a validation error', awsError('ValidationException', 'One or more parameter values were invalid')],
      ['a programming error', new TypeError('store.listServices is not a function')],
      ['a thrown string', 'boom'],
    ])('leaves %s to propagate', async (_what, error) => {
      expect(await explainEnvironmentError(error, settings())).toBeUndefined();
    });

    it('keeps the original error as the cause', async () => {
      const error = awsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );

      const explained = await explainEnvironmentError(error, settings());

      expect(explained).toBeInstanceOf(EnvironmentError);
      expect(explained?.cause).toBe(error);
    });
  });
});
