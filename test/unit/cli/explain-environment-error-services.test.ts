import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaServiceException } from '@aws-sdk/client-lambda';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { SQSServiceException } from '@aws-sdk/client-sqs';
import {
  EnvironmentError,
  explainEnvironmentError,
  explainingFailures,
  kilnTable,
  LAMBDA,
  SQS,
  STEP_FUNCTIONS,
  type AwsResource,
  type AwsSettingsInUse,
} from '../../../cli/environment-errors';
import { FunctionNotFoundError } from '../../../shared/aws/lambda';
import { QueueNotFoundError } from '../../../shared/aws/sqs';
import { AwsRequestRefusedError } from '../../../shared/domain/step-errors';
import { KilnError } from '../../../shared/runtime/errors';

/**
 * The same mapping for the other services the CLI uses (SQS and Lambda, for `kiln dead-letters`):
 * each message names that service, its own endpoint variable and its resource. Settings carry
 * their own env, so nothing here reads process.env or ~/.aws.
 */

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/kiln-prod-dead-letters';
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:kiln-prod-on-artifact';
const MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:kiln-prod-deploy';

const queue: AwsResource = {
  service: SQS,
  kind: 'queue',
  name: QUEUE_URL,
  namedBy: '--queue or KILN_DEAD_LETTER_QUEUE',
  access: 'receive its messages',
};
const fn: AwsResource = {
  service: LAMBDA,
  kind: 'function',
  name: FUNCTION_ARN,
  namedBy: 'the recorded function ARN',
  access: 'invoke it',
};

const machine: AwsResource = {
  service: STEP_FUNCTIONS,
  kind: 'state machine',
  name: MACHINE_ARN,
  namedBy: '--state-machine-arn or KILN_DEPLOY_STATE_MACHINE_ARN',
  access: 'start executions of it',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-explain-services-'));
  writeFileSync(join(dir, 'config'), '');
  writeFileSync(join(dir, 'credentials'), '');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function using(resource: AwsResource, env: NodeJS.ProcessEnv = {}): AwsSettingsInUse {
  return {
    env: {
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      ...env,
    },
    resource,
    resolvedRegion: async () => 'eu-west-1',
  };
}

function sqsError(name: string, message: string): SQSServiceException {
  return new SQSServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function lambdaError(name: string, message: string, status: number): LambdaServiceException {
  return new LambdaServiceException({
    name,
    message,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
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

async function explain(error: unknown, settings: AwsSettingsInUse): Promise<string | undefined> {
  return (await explainEnvironmentError(error, settings))?.message;
}

describe('explainEnvironmentError for SQS and Lambda', () => {
  describe('unreachable endpoints', () => {
    it("names the service's own endpoint variable for a refused connection", async () => {
      const error = await refusedConnectionError();

      expect(await explain(error, using(fn, { AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9001' }))).toBe(
        'cannot reach Lambda at http://127.0.0.1:9001 (connection refused): check AWS_ENDPOINT_URL_LAMBDA',
      );
    });

    it("ignores another service's endpoint variable and names the global one the SDK used", async () => {
      const error = await refusedConnectionError();

      expect(
        await explain(
          error,
          using(queue, {
            AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
            AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
          }),
        ),
      ).toBe('cannot reach SQS at http://127.0.0.1:4566 (connection refused): check AWS_ENDPOINT_URL');
    });

    it("suggests the service's endpoint variable when AWS itself cannot be resolved", async () => {
      const error = Object.assign(new Error('getaddrinfo ENOTFOUND sqs.eu-west-1.amazonaws.com'), {
        code: 'ENOTFOUND',
        hostname: 'sqs.eu-west-1.amazonaws.com',
      });

      expect(await explain(error, using(queue))).toBe(
        'cannot reach SQS at sqs.eu-west-1.amazonaws.com (host not found): check AWS_REGION ("eu-west-1"), ' +
          'your network and proxy, or set AWS_ENDPOINT_URL_SQS for a local endpoint',
      );
    });
  });

  describe('resources that are not there', () => {
    it.each([['QueueDoesNotExist'], ['AWS.SimpleQueueService.NonExistentQueue']])(
      'names the queue and the setting naming it for %s',
      async (name) => {
        const error = sqsError(name, 'The specified queue does not exist.');

        expect(await explain(error, using(queue))).toBe(
          `SQS queue "${QUEUE_URL}" not found in eu-west-1: check --queue or KILN_DEAD_LETTER_QUEUE, and the region`,
        );
      },
    );

    it("reads what AWS said beneath the adapter's own error, and names the endpoint in use", async () => {
      const error = new QueueNotFoundError('the dead-letter queue does not exist', {
        cause: sqsError('QueueDoesNotExist', 'The specified queue does not exist.'),
      });

      expect(await explain(error, using(queue, { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324' }))).toBe(
        `SQS queue "${QUEUE_URL}" not found at http://127.0.0.1:9324: check --queue or KILN_DEAD_LETTER_QUEUE, and AWS_ENDPOINT_URL_SQS`,
      );
    });

    it('names the function and where its ARN came from', async () => {
      const error = new FunctionNotFoundError(`function ${FUNCTION_ARN} does not exist`, {
        cause: lambdaError('ResourceNotFoundException', `Function not found: ${FUNCTION_ARN}`, 404),
      });

      expect(await explain(error, using(fn))).toBe(
        `Lambda function "${FUNCTION_ARN}" not found in eu-west-1: check the recorded function ARN, and the region`,
      );
    });
  });

  describe('Step Functions (kiln deploy, rollback, approve, abort)', () => {
    it("names the state machine when StartExecution finds none, beneath the adapter's refusal", async () => {
      const error = new AwsRequestRefusedError('StartExecution refused', 'StateMachineDoesNotExist', {
        cause: new SFNServiceException({
          name: 'StateMachineDoesNotExist',
          message: 'State Machine Does Not Exist',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      });

      expect(await explain(error, using(machine))).toBe(
        `Step Functions state machine "${MACHINE_ARN}" not found in eu-west-1: check --state-machine-arn or KILN_DEPLOY_STATE_MACHINE_ARN, and the region`,
      );
    });

    it('names AWS_ENDPOINT_URL_SFN for a refused connection', async () => {
      const error = await refusedConnectionError();

      expect(await explain(error, using(machine, { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:8083' }))).toBe(
        'cannot reach Step Functions at http://127.0.0.1:8083 (connection refused): check AWS_ENDPOINT_URL_SFN',
      );
    });

    it('keeps the explanation of a call made inside another one: a Step Functions failure is not blamed on the table', async () => {
      const error = await refusedConnectionError();
      const onTable = { ...using(machine), resource: kilnTable('kiln-prod') };

      const thrown = await explainingFailures(onTable, () =>
        explainingFailures(using(machine, { AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:8083' }), () =>
          Promise.reject(error),
        ),
      ).catch((e: unknown) => e);

      expect(thrown).toBeInstanceOf(EnvironmentError);
      expect((thrown as EnvironmentError).message).toBe(
        'cannot reach Step Functions at http://127.0.0.1:8083 (connection refused): check AWS_ENDPOINT_URL_SFN',
      );
    });
  });

  describe('access denied', () => {
    it('names the function and what the identity must be allowed to do', async () => {
      const error = lambdaError(
        'AccessDeniedException',
        `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:InvokeFunction on resource: ${FUNCTION_ARN}`,
        403,
      );

      expect(await explain(error, using(fn))).toMatch(
        /^access to Lambda function "arn:.*:function:kiln-prod-on-artifact" denied \(User: .* lambda:InvokeFunction .*\): use a profile or role allowed to invoke it$/,
      );
    });
  });

  describe('what is not an environment problem', () => {
    it.each([
      [
        'an invalid request',
        lambdaError('InvalidRequestContentException', 'Could not parse request body into json', 400),
      ],
      [
        'a missing table, asked of SQS',
        sqsError('ResourceNotFoundException', 'Requested resource not found'),
      ],
      ["Kiln's own error without an AWS cause", new KilnError('no dead letter with id ffff')],
    ])('leaves %s to propagate', async (_what, error) => {
      expect(await explainEnvironmentError(error, using(queue))).toBeUndefined();
    });
  });
});
