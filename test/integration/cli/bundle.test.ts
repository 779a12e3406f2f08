import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtCli } from '../../support/built-cli';
import { seededCheckout, STATE_MACHINE_ARN } from '../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

/**
 * The bundled `kiln` as `npx kiln` runs it: bin/kiln.cjs loading dist/kiln.cjs, which holds the
 * command list, and one bundle per command beside it, loaded only when that command runs.
 */

const ROOT = join(__dirname, '..', '..', '..');
let home: string;

let built: string;

beforeAll(async () => {
  built = join(await builtCli(), 'dist');
  home = mkdtempSync(join(tmpdir(), 'kiln-cli-bundle-'));
}, 180_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A CLI install of bin/kiln.cjs and the given files of the build's dist/. */
function install(name: string, keep: (file: string) => boolean): string {
  const dir = join(home, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'dist'), { recursive: true });
  for (const file of ['kiln.cjs', 'compile-cache.cjs'])
    copyFileSync(join(ROOT, 'bin', file), join(dir, 'bin', file));
  for (const file of readdirSync(built).filter(keep))
    copyFileSync(join(built, file), join(dir, 'dist', file));
  return dir;
}

function kiln(dir: string, args: string[]) {
  const result = spawnSync(process.execPath, [join(dir, 'bin', 'kiln.cjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: home },
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe('the bundled kiln command', () => {
  it('bundles each command on its own beside the command list', () => {
    expect(
      readdirSync(built)
        .filter((f) => f.endsWith('.cjs'))
        .sort(),
    ).toEqual([
      'kiln-abort.cjs',
      'kiln-approve.cjs',
      'kiln-dead-letters.cjs',
      'kiln-deploy.cjs',
      'kiln-events.cjs',
      'kiln-history.cjs',
      'kiln-preview.cjs',
      'kiln-rollback.cjs',
      'kiln-sandbox.cjs',
      'kiln-services.cjs',
      'kiln-status.cjs',
      'kiln-validate.cjs',
      'kiln.cjs',
    ]);
  });

  it('lists every command with none of their bundles present: --help reads no command code', () => {
    const dir = install('list-only', (file) => file.startsWith('kiln.cjs'));

    const result = kiln(dir, ['--help']);

    expect(result.status).toBe(0);
    for (const command of [
      'validate',
      'services',
      'history',
      'status',
      'deploy',
      'rollback',
      'approve',
      'abort',
      'dead-letters',
      'events',
      'sandbox',
    ])
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('runs a command from its own bundle, with only that bundle present', () => {
    const dir = install(
      'validate-only',
      (file) => file.startsWith('kiln.cjs') || file.startsWith('kiln-validate.'),
    );

    const result = kiln(dir, ['validate', 'examples/checkout.yml']);

    expect(result).toEqual({ stdout: 'examples/checkout.yml: ok\n', stderr: '', status: 0 });
  });

  it('checks events from its own bundle, with only that bundle present', () => {
    const dir = install(
      'events-only',
      (file) => file.startsWith('kiln.cjs') || file.startsWith('kiln-events.'),
    );

    const result = kiln(dir, ['events', 'check', 'test/fixtures/events/ec2/ami-state-change-available.json']);

    expect(result).toEqual({
      stdout: 'test/fixtures/events/ec2/ami-state-change-available.json: onProgress parses it\n',
      stderr: '',
      status: 0,
    });
  });

  it('bakes in kiln sandbox from the bundle: the bake steps’ error names survive minifying', () => {
    // The deploy state machine retries InstanceNotReadyError while the builder boots; with class
    // names minified away (`$0`) the Retry never matched and the bake failed on its first poll.
    const dir = install('sandbox-only', (file) => file === 'kiln.cjs' || file.startsWith('kiln-sandbox.'));
    // The sandbox keeps dynalite and the Step Functions runner outside its bundle (they load data
    // files of their own): found through the project's node_modules, as from an installed package.
    const run = spawnSync(
      process.execPath,
      [join(dir, 'bin', 'kiln.cjs'), 'sandbox', '--scenario', 'bake', '--quiet'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          NODE_PATH: join(ROOT, 'node_modules'),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/ok {3}one RunInstances, builder terminated: 1 RunInstances/);
    expect(run.status).toBe(0);
  }, 120_000);
});

describe('kiln deploy from its own bundle', () => {
  let dynamo: LocalDynamo;
  let sfn: Server;
  const started: unknown[] = [];
  beforeAll(async () => {
    dynamo = await startDynalite();
    // Step Functions as the SDK speaks to it (JSON 1.0 over HTTP POST, the operation in
    // X-Amz-Target): StartExecution answers with the execution's ARN.
    sfn = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const input = JSON.parse(body) as { name: string; stateMachineArn: string };
        started.push({ target: request.headers['x-amz-target'], ...input });
        response.setHeader('content-type', 'application/x-amz-json-1.0');
        response.end(
          JSON.stringify({
            executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
            startDate: 1_780_000_000,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => sfn.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await dynamo.stop();
    await new Promise<void>((resolve) => sfn.close(() => resolve()));
  });

  it('checks, records and starts a deployment with only its bundle present', async () => {
    const dir = install(
      'deploy-only',
      (file) => file.startsWith('kiln.cjs') || file.startsWith('kiln-deploy.'),
    );
    const { store, tableName } = await seededCheckout(dynamo);
    const address = sfn.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP port');
    const run = (...args: string[]) =>
      new Promise<{ stdout: string; stderr: string; status: number | null }>((resolve) => {
        const child = execFile(
          process.execPath,
          [join(dir, 'bin', 'kiln.cjs'), 'deploy', ...args],
          {
            cwd: ROOT,
            env: {
              PATH: process.env.PATH ?? '',
              HOME: home,
              USER: 'dana',
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
              AWS_ACCESS_KEY_ID: 'test',
              AWS_SECRET_ACCESS_KEY: 'test',
              AWS_REGION: 'us-east-1',
              AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
              AWS_ENDPOINT_URL_SFN: `http://127.0.0.1:${address.port}`,
              KILN_TABLE: tableName,
              KILN_DEPLOY_STATE_MACHINE_ARN: STATE_MACHINE_ARN,
            },
          },
          (_error, stdout, stderr) => resolve({ stdout, stderr, status: child.exitCode }),
        );
      });

    const refused = await run('checkout', '1.1.0', '--env', 'qa');
    const ok = await run('checkout', '1.1.0', '--env', 'staging');

    expect(refused).toEqual({
      stdout: '',
      stderr: 'error: --env: checkout has no environment "qa" (its environments: staging, production)\n',
      status: 1,
    });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const [deployment] = (await store.listDeployments('checkout')).items;
    expect(ok.stdout).toMatch(
      new RegExp(`^deployment ${deployment?.id ?? '-'} started: checkout 1.1.0 → staging\n`),
    );
    expect(deployment).toMatchObject({ actor: 'cli:dana', mode: 'deploy', status: 'queued' });
    expect(started).toEqual([
      expect.objectContaining({
        target: 'AWSStepFunctions.StartExecution',
        stateMachineArn: STATE_MACHINE_ARN,
        name: deployment?.id,
      }),
    ]);
  }, 60_000);
});
