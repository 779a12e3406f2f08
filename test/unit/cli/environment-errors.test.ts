import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerHistory } from '../../../cli/commands/history';
import { registerServices } from '../../../cli/commands/services';
import { processIo, type StoreCommandIo } from '../../../cli/store-options';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { lines } from './services-history-harness';

/**
 * `kiln services` / `kiln history` with the real SDK client and a broken AWS environment. The
 * SDK reads process.env, so each test replaces every AWS_* variable with its own (restored
 * after), and points the shared config files at fresh temp files: the developer's ~/.aws is
 * never read, and no test reaches AWS (instance metadata off, endpoints on closed loopback ports).
 */

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

let savedEnv: NodeJS.ProcessEnv;
let savedExitCode: typeof process.exitCode;
let dir: string;

beforeEach(() => {
  savedEnv = { ...process.env };
  savedExitCode = process.exitCode;
  process.exitCode = undefined;
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_') || name === 'KILN_TABLE' || name === 'KILN_DEBUG') delete process.env[name];
  }
  dir = mkdtempSync(join(tmpdir(), 'kiln-env-'));
  Object.assign(process.env, {
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    KILN_TABLE: 'kiln-test',
  });
});

afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  process.exitCode = savedExitCode;
  rmSync(dir, { recursive: true, force: true });
});

/** Writes the shared config / credentials files of this test. */
function awsFiles(files: { config?: string; credentials?: string }): void {
  writeFileSync(join(dir, 'config'), files.config ?? '');
  writeFileSync(join(dir, 'credentials'), files.credentials ?? '');
}

/** Static keys and a region, so the only thing wrong is what the test breaks. */
function workingCredentials(): void {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
  });
}

/** Runs `kiln ARGS` in-process with the production client factory and captured output. */
async function kiln(
  ...args: string[]
): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: StoreCommandIo = {
    ...processIo,
    env: process.env,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  };
  const program = new Command('kiln')
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.push(text), writeErr: (text) => err.push(text) });
  registerServices(program, io);
  registerHistory(program, io);
  let exitCode: number | undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}

describe('kiln store commands in a broken AWS environment', () => {
  describe('without a region', () => {
    it('names AWS_REGION, --region and the profile region in one line, and exits 2', async () => {
      awsFiles({});
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' });

      const result = await kiln('services', 'list');

      expect(result.stderr).toBe(
        `kiln: no AWS region: set AWS_REGION or pass --region, or add region to the [default] profile in ${join(dir, 'config')}\n`,
      );
      expect(result.exitCode).toBe(2);
    });

    it('names the profile in use when AWS_PROFILE has no region', async () => {
      awsFiles({ credentials: '[dev]\naws_access_key_id = AKIDTEST\naws_secret_access_key = secret\n' });
      process.env.AWS_PROFILE = 'dev';

      const result = await kiln('history', 'checkout');

      expect(result.stderr).toMatch(/^kiln: no AWS region: .*add region to profile "dev" in /);
      expect(result.exitCode).toBe(2);
    });

    it('says that AWS_DEFAULT_REGION is not read when it is the only region set', async () => {
      awsFiles({});
      Object.assign(process.env, {
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'secret',
      });

      const result = await kiln('services', 'list');

      expect(result.stderr).toMatch(/\(AWS_DEFAULT_REGION is not read by the AWS SDK\)\n$/);
      expect(result.exitCode).toBe(2);
    });
  });

  describe('without credentials', () => {
    it('names AWS_PROFILE and the access key pair instead of the SDK message, and exits 2', async () => {
      awsFiles({});
      process.env.AWS_REGION = 'eu-west-1';

      const result = await kiln('services', 'list');

      expect(lines(result.stderr)).toEqual([
        'kiln: no AWS credentials: set AWS_PROFILE to a profile with credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (`aws configure` creates the default profile)',
      ]);
      expect(result.stderr).not.toMatch(/Could not load credentials/);
      expect(result.exitCode).toBe(2);
    });

    it('names the missing half when only AWS_ACCESS_KEY_ID is set', async () => {
      awsFiles({});
      Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST' });

      const result = await kiln('services', 'list');

      expect(result.stderr).toBe(
        'kiln: AWS_SECRET_ACCESS_KEY is not set but AWS_ACCESS_KEY_ID is: set both, or unset both and set AWS_PROFILE\n',
      );
      expect(result.exitCode).toBe(2);
    });

    it('names the profile that exists but holds no credentials', async () => {
      awsFiles({ config: '[profile ops]\nregion = eu-west-1\n' });
      process.env.AWS_PROFILE = 'ops';

      const result = await kiln('services', 'list');

      expect(result.stderr).toMatch(
        /^kiln: no usable AWS credentials in profile "ops": add keys, a role or SSO settings/,
      );
      expect(result.exitCode).toBe(2);
    });
  });

  describe('with an unknown profile', () => {
    it('names the profile, the files searched and the profiles they hold, and exits 2', async () => {
      awsFiles({
        config: '[profile dev]\nregion = eu-west-1\n[sso-session corp]\nsso_region = eu-west-1\n',
        credentials: '[ops]\naws_access_key_id = AKIDTEST\naws_secret_access_key = secret\n',
      });
      Object.assign(process.env, { AWS_PROFILE: 'nope', AWS_REGION: 'eu-west-1' });

      const result = await kiln('services', 'list');

      expect(result.stderr).toBe(
        `kiln: AWS profile "nope" not found in ${join(dir, 'config')} or ${join(dir, 'credentials')}: set AWS_PROFILE to one of: dev, ops\n`,
      );
      expect(result.exitCode).toBe(2);
    });

    it('reports the profile, not the region it would have supplied, when no region is set either', async () => {
      awsFiles({});
      process.env.AWS_PROFILE = 'nope';

      const result = await kiln('services', 'list');

      expect(result.stderr).toMatch(
        /^kiln: AWS profile "nope" not found in .*: no profiles are defined there: /,
      );
      expect(result.exitCode).toBe(2);
    });

    it('names --profile when the profile came from the option', async () => {
      awsFiles({ config: '[profile dev]\nregion = eu-west-1\n' });

      const result = await kiln('services', 'list', '--profile', 'prod');

      expect(result.stderr).toMatch(
        /^kiln: AWS profile "prod" not found in .*: set --profile to one of: dev\n$/,
      );
      expect(result.exitCode).toBe(2);
    });
  });

  describe('with an endpoint setting', () => {
    it('names the variable when its value is not a URL, and exits 2', async () => {
      awsFiles({});
      workingCredentials();
      process.env.AWS_ENDPOINT_URL_DYNAMODB = 'localhost-8000';

      const result = await kiln('services', 'list');

      expect(result.stderr).toBe(
        'kiln: AWS_ENDPOINT_URL_DYNAMODB is not a URL ("localhost-8000"): set it to e.g. http://127.0.0.1:8000, or unset it to reach AWS\n',
      );
      expect(result.exitCode).toBe(2);
    });

    // A refused connection is mapped in the unit tests below and run end to end through the
    // bundled CLI in test/integration/cli-environment-errors.test.ts: inside Jest's VM context the
    // SDK's retry middleware does not recognise Node's socket error as an Error and wraps it.
  });

  describe('with --region', () => {
    it('takes the region from --region when AWS_REGION and the profile have none', async () => {
      awsFiles({});
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        KILN_TABLE: dynamo.tableName,
      });

      const result = await kiln('services', 'list', '--region', 'eu-west-1');

      expect(result).toEqual({
        stdout: 'no services: add one with `kiln services apply -f FILE`\n',
        stderr: '',
        exitCode: undefined,
      });
    });
  });

  describe('with KILN_DEBUG', () => {
    it('prints the SDK error beneath the one line only when KILN_DEBUG=1', async () => {
      awsFiles({});
      process.env.AWS_REGION = 'eu-west-1';

      const quiet = await kiln('services', 'list');
      process.env.KILN_DEBUG = '1';
      const debug = await kiln('services', 'list');

      expect(lines(quiet.stderr)).toHaveLength(1);
      expect(lines(debug.stderr)[0]).toBe(lines(quiet.stderr)[0]);
      expect(debug.stderr).toContain(
        'kiln: KILN_DEBUG: the AWS SDK reported: CredentialsProviderError: Could not load credentials from any providers',
      );
      expect(debug.exitCode).toBe(2);
    });
  });

  describe('with a table that does not exist', () => {
    it('names the table, --table and KILN_TABLE in one line, and exits 2', async () => {
      awsFiles({});
      workingCredentials();
      process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
      process.env.KILN_TABLE = 'kiln-missing';

      const result = await kiln('services', 'list');

      expect(result.stderr).toBe(
        `kiln: DynamoDB table "kiln-missing" not found at ${dynamo.endpoint}: check --table or KILN_TABLE (the stack output KilnTableName), and AWS_ENDPOINT_URL_DYNAMODB\n`,
      );
      expect(result.exitCode).toBe(2);
    });
  });
});
