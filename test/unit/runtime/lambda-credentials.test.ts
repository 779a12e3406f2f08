import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { readDeployedSettings } from '../../../bench/deployed-functions';
import { defaultProvider } from '../../../shared/runtime/lambda-credentials';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'bundles', 'every-client.ts');

/** The AWS SDK's default credential chain and what only it loads (SSO, ini files, STS, IMDS, …). */
const DEFAULT_CHAIN = [
  '@aws-sdk/credential-provider-node/',
  '@aws-sdk/credential-provider-ini/',
  '@aws-sdk/credential-provider-sso/',
  '@aws-sdk/credential-provider-process/',
  '@aws-sdk/credential-provider-web-identity/',
  '@aws-sdk/nested-clients/',
  '@smithy/credential-provider-imds/',
];

const chainIn = (metafile: Metafile): string[] =>
  Object.keys(metafile.inputs).filter((input) => DEFAULT_CHAIN.some((pkg) => input.includes(pkg)));

/** Bundles `entry` as `npm run package` bundles every function: serverless.yml's custom.esbuild. */
async function bundle(entry: string, outfile: string): Promise<Metafile> {
  const result = await build({
    ...readDeployedSettings(ROOT).esbuild,
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    metafile: true,
    logLevel: 'error',
  });
  return result.metafile;
}

describe('credentials of the deployed functions', () => {
  let dir: string;
  let fixture: { file: string; metafile: Metafile };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-credentials-'));
    const file = join(dir, 'every-client.js');
    fixture = { file, metafile: await bundle(FIXTURE, file) };
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the bundled fixture's handler in a plain Node process with only `env` (and PATH, HOME). */
  function credentialsSeen(env: NodeJS.ProcessEnv, home = dir): Record<string, unknown> {
    const script = `require(${JSON.stringify(fixture.file)}).handler().then((r) => console.log(JSON.stringify(r)))`;
    const result = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: home, AWS_REGION: 'eu-west-1', ...env },
    });
    if (result.status !== 0) throw new Error(`the bundle failed: ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  }

  describe('every function serverless.yml deploys', () => {
    it.each(readDeployedSettings(ROOT).functions.map((fn) => [fn.key, fn.entry] as const))(
      'bundles %s without the default credential chain',
      async (key, entry) => {
        const metafile = await bundle(join(ROOT, entry), join(dir, key, 'index.js'));

        expect(chainIn(metafile)).toEqual([]);
        expect(
          Object.keys(metafile.inputs).some((i) => i.includes('@aws-sdk/credential-provider-env/')),
        ).toBe(true);
      },
      60_000,
    );
  });

  describe('a bundle holding the DynamoDB, Step Functions, EC2 and SSM clients', () => {
    it('bundles none of the default credential chain', () => {
      expect(chainIn(fixture.metafile)).toEqual([]);
    });

    it("signs every client's requests with the role credentials Lambda puts in the environment", () => {
      const answers = credentialsSeen({
        AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
      });

      expect(Object.keys(answers).sort()).toEqual(['documents', 'dynamodb', 'ec2', 'ssm', 'stepFunctions']);
      for (const answer of Object.values(answers)) {
        expect(answer).toMatchObject({
          accessKeyId: 'ASIAEXAMPLE',
          secretAccessKey: 'secret',
          sessionToken: 'token',
        });
      }
    });

    it('refuses with the SDK’s own error, reading no credentials file, when the environment has none', () => {
      const home = join(dir, 'home');
      mkdirSync(join(home, '.aws'), { recursive: true });
      writeFileSync(
        join(home, '.aws', 'credentials'),
        '[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = x\n',
      );

      const answers = credentialsSeen({}, home);

      expect(answers.ec2).toEqual({ error: 'Unable to find environment variable credentials.' });
      expect(answers.dynamodb).toEqual({ error: 'Unable to find environment variable credentials.' });
    });
  });

  describe('defaultProvider', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('reads the key, secret and session token of the execution role from the environment', async () => {
      process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
      process.env.AWS_SECRET_ACCESS_KEY = 'secret';
      process.env.AWS_SESSION_TOKEN = 'token';

      await expect(defaultProvider()()).resolves.toMatchObject({
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'token',
      });
    });
  });
});
