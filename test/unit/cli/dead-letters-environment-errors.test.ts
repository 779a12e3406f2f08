import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Command, CommanderError } from 'commander';
import {
  createDeadLetterClients,
  processDeadLetterIo,
  registerDeadLetters,
  type DeadLetterCommandIo,
} from '../../../cli/commands/dead-letters';
import { createRegion, type Region } from '../../../sandbox/region';
import { sandboxFunctions } from '../../../sandbox/functions';
import { lines } from './services-history-harness';

/**
 * `kiln dead-letters list|replay` with the real SDK clients and a broken AWS environment. As in
 * the store commands' tests, each test replaces every AWS_* variable with its own (restored
 * after) and points the shared config files at fresh temp files: no test reads ~/.aws or
 * reaches AWS. A missing queue or function is answered by the sandbox's SQS and Lambda (the
 * production clients with the sandbox attached beneath them).
 */

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/kiln-test-dead-letters';

let savedEnv: NodeJS.ProcessEnv;
let savedExitCode: typeof process.exitCode;
let dir: string;
let region: Region | undefined;

beforeEach(() => {
  savedEnv = { ...process.env };
  savedExitCode = process.exitCode;
  process.exitCode = undefined;
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_') || name.startsWith('KILN_')) delete process.env[name];
  }
  dir = mkdtempSync(join(tmpdir(), 'kiln-dl-env-'));
  writeFileSync(join(dir, 'config'), '');
  writeFileSync(join(dir, 'credentials'), '');
  Object.assign(process.env, {
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    KILN_DEAD_LETTER_QUEUE: QUEUE,
  });
});

afterEach(async () => {
  await region?.dispose();
  region = undefined;
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  process.exitCode = savedExitCode;
  rmSync(dir, { recursive: true, force: true });
});

function workingCredentials(): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
  });
}

/**
 * Runs `kiln ARGS` in-process with the production client factory, optionally with the sandbox
 * beneath the clients it makes.
 */
async function kiln(
  ...args: string[]
): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  const out: string[] = [];
  const err: string[] = [];
  const sandbox = region;
  const io: DeadLetterCommandIo = {
    ...processDeadLetterIo,
    env: process.env,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    createClients: async (settings) => {
      const clients = await createDeadLetterClients(settings);
      sandbox?.engine.attach(clients.sqs, 'cli:kiln');
      sandbox?.engine.attach(clients.lambda, 'cli:kiln');
      return clients;
    },
  };
  const program = new Command('kiln')
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.push(text), writeErr: (text) => err.push(text) });
  registerDeadLetters(program, io);
  const parse = () => program.parseAsync(args, { from: 'user' });
  let exitCode: number | undefined;
  try {
    await (sandbox === undefined ? parse() : sandbox.engine.run(parse));
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  } finally {
    process.exitCode = undefined;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}

/** A sandbox region (with a function that accepts every event) whose dead-letter queue the commands use. */
async function sandboxRegion(): Promise<{ region: Region; queueUrl: string; queueArn: string }> {
  region = await createRegion({
    seed: 3,
    functions: { ...sandboxFunctions, onArtifact: async () => async () => ({ recorded: 1 }) },
  });
  const queueUrl = region.queueUrls.get('KilnDeadLetterQueue') ?? '';
  const [, , , account, name] = queueUrl.split('/');
  process.env.KILN_DEAD_LETTER_QUEUE = queueUrl;
  return { region, queueUrl, queueArn: `arn:aws:sqs:us-east-1:${account}:${name}` };
}

/** An event EventBridge could not deliver to FUNCTION, as it lands on the queue. */
function deliveryFailure(functionName: string, eventId: string) {
  return {
    body: JSON.stringify({
      id: eventId,
      source: 'ci.github',
      'detail-type': 'Artifact Published',
      detail: {},
    }),
    attributes: {
      RULE_ARN: 'arn:aws:events:us-east-1:123456789012:rule/kiln-sandbox-on-artifact-rule-1',
      TARGET_ARN: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
      ERROR_CODE: 'NO_RESOURCE',
      ERROR_MESSAGE: 'Function not found',
    },
  };
}

describe('kiln dead-letters in a broken AWS environment', () => {
  describe('without a region', () => {
    it('names AWS_REGION, --region and the profile region in one line, and exits 2', async () => {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' });

      const result = await kiln('dead-letters', 'list');

      expect(result).toEqual({
        stdout: '',
        stderr: `kiln: no AWS region: set AWS_REGION or pass --region, or add region to the [default] profile in ${join(dir, 'config')}\n`,
        exitCode: 2,
      });
    });

    it('takes the region from --region', async () => {
      // With a region, the next thing missing is the credentials: the region was found.
      const result = await kiln('dead-letters', 'list', '--region', 'eu-west-1');

      expect(result.stderr).toMatch(/^kiln: no AWS credentials: /);
      expect(result.exitCode).toBe(2);
    });
  });

  describe('without credentials', () => {
    it('names AWS_PROFILE and the access key pair instead of the SDK message, and exits 2', async () => {
      process.env.AWS_REGION = 'eu-west-1';

      const result = await kiln('dead-letters', 'replay', '--all');

      expect(lines(result.stderr)).toEqual([
        'kiln: no AWS credentials: set AWS_PROFILE to a profile with credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (`aws configure` creates the default profile)',
      ]);
      expect(result.exitCode).toBe(2);
    });
  });

  describe('with an unknown profile', () => {
    it('names the profile, the files searched and the profiles they hold, and exits 2', async () => {
      writeFileSync(join(dir, 'config'), '[profile dev]\nregion = eu-west-1\n');
      Object.assign(process.env, { AWS_PROFILE: 'nope', AWS_REGION: 'eu-west-1' });

      const result = await kiln('dead-letters', 'list');

      expect(result.stderr).toBe(
        `kiln: AWS profile "nope" not found in ${join(dir, 'config')} or ${join(dir, 'credentials')}: set AWS_PROFILE to one of: dev\n`,
      );
      expect(result.exitCode).toBe(2);
    });

    it('names --profile when the profile came from the option', async () => {
      writeFileSync(join(dir, 'config'), '[profile dev]\nregion = eu-west-1\n');

      const result = await kiln('dead-letters', 'list', '--profile', 'prod');

      expect(result.stderr).toMatch(
        /^kiln: AWS profile "prod" not found in .*: set --profile to one of: dev\n$/,
      );
      expect(result.exitCode).toBe(2);
    });
  });

  describe('with an endpoint setting', () => {
    it('names AWS_ENDPOINT_URL_SQS when its value is not a URL, and exits 2', async () => {
      workingCredentials();
      process.env.AWS_ENDPOINT_URL_SQS = 'localhost-9324';

      const result = await kiln('dead-letters', 'list');

      expect(result.stderr).toBe(
        'kiln: AWS_ENDPOINT_URL_SQS is not a URL ("localhost-9324"): set it to e.g. http://127.0.0.1:8000, or unset it to reach AWS\n',
      );
      expect(result.exitCode).toBe(2);
    });

    // A refused connection runs end to end through the bundled CLI in
    // test/integration/cli/dead-letters-environment-errors.test.ts (Jest's VM context wraps
    // Node's socket errors).
  });

  describe('where the SQS client sends its requests', () => {
    /** The host and port of the first request the client would send (none is sent). */
    async function destination(queueUrl: string): Promise<string> {
      const { sqs, lambda } = await createDeadLetterClients({});
      let target = '';
      sqs.middlewareStack.add(
        () => async (args) => {
          const request = args.request as { hostname?: string; port?: number };
          target = `${request.hostname}${request.port === undefined ? '' : `:${request.port}`}`;
          throw new Error('not sent');
        },
        { step: 'finalizeRequest', priority: 'low' },
      );
      await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).rejects.toThrow('not sent');
      sqs.destroy();
      lambda.destroy();
      return target;
    }

    it('sends them to AWS_ENDPOINT_URL_SQS, not to the host in the queue URL, and prints nothing', async () => {
      workingCredentials();
      process.env.AWS_ENDPOINT_URL_SQS = 'http://127.0.0.1:9324';
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);

      try {
        expect(await destination(QUEUE)).toBe('127.0.0.1:9324');
        expect(warn).not.toHaveBeenCalled();
      } finally {
        warn.mockRestore();
      }
    });

    it("sends them to the region's endpoint otherwise, as for every other command", async () => {
      workingCredentials();

      expect(await destination(QUEUE)).toBe('sqs.us-east-1.amazonaws.com');
    });
  });

  describe('with a queue that does not exist', () => {
    it('names the queue, --queue and KILN_DEAD_LETTER_QUEUE in one line, and exits 2', async () => {
      workingCredentials();
      await sandboxRegion();
      const missing = 'https://sqs.us-east-1.amazonaws.com/123456789012/kiln-sandbox-gone';

      const result = await kiln('dead-letters', 'list', '--queue', missing);

      expect(result).toEqual({
        stdout: '',
        stderr: `kiln: SQS queue "${missing}" not found in us-east-1: check --queue or KILN_DEAD_LETTER_QUEUE (the stack output KilnDeadLetterQueueUrl), and the region\n`,
        exitCode: 2,
      });
    });
  });

  describe('with a function that does not exist on replay', () => {
    it('names the function the dead letter records in one line, exits 2, and keeps the message', async () => {
      workingCredentials();
      const sandbox = await sandboxRegion();
      const gone = deliveryFailure('kiln-sandbox-removed', 'e-1');
      sandbox.region.sqs.sendFromService(sandbox.queueArn, gone.body, gone.attributes);

      const result = await kiln('dead-letters', 'replay', '--all');

      expect(result).toEqual({
        stdout: '',
        stderr:
          'kiln: Lambda function "arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-removed" not found in us-east-1: ' +
          'check the function ARN the dead letter records (was the function removed or renamed?), and the region\n',
        exitCode: 2,
      });
      const listed = await kiln('dead-letters', 'list', '--json');
      expect(JSON.parse(listed.stdout)).toMatchObject([{ function: 'kiln-sandbox-removed' }]);
    });

    it('reports the events replayed before it, and stops there', async () => {
      workingCredentials();
      const sandbox = await sandboxRegion();
      const first = deliveryFailure('kiln-sandbox-on-artifact', 'e-1');
      const second = deliveryFailure('kiln-sandbox-removed', 'e-2');
      sandbox.region.sqs.sendFromService(sandbox.queueArn, first.body, first.attributes);
      await sandbox.region.engine.advance(60_000);
      sandbox.region.sqs.sendFromService(sandbox.queueArn, second.body, second.attributes);

      const result = await kiln('dead-letters', 'replay', '--all');

      expect(result.stdout).toMatch(
        /^replayed [0-9a-f]{8} Artifact Published \(ci\.github\) → kiln-sandbox-on-artifact \(message deleted\)\n$/,
      );
      expect(result.stderr).toMatch(/^kiln: Lambda function ".*:function:kiln-sandbox-removed" not found /);
      expect(result.exitCode).toBe(2);
      expect(sandbox.region.sqs.depth(sandbox.queueUrl)).toBe(1);
    });
  });

  describe('with KILN_DEBUG', () => {
    it('prints the SDK error beneath the one line', async () => {
      Object.assign(process.env, { AWS_REGION: 'eu-west-1', KILN_DEBUG: '1' });

      const result = await kiln('dead-letters', 'list');

      expect(lines(result.stderr)[0]).toMatch(/^kiln: no AWS credentials: /);
      expect(result.stderr).toContain(
        'kiln: KILN_DEBUG: the AWS SDK reported: CredentialsProviderError: Could not load credentials from any providers',
      );
      expect(result.exitCode).toBe(2);
    });
  });
});
