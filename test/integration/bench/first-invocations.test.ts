import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { seedFreshTable } from '../../../bench/cold-start';
import { readDeployedSettings } from '../../../bench/deployed-functions';
import { firstInvocations } from '../../../bench/first-invocations';
import {
  BENCH_DEPLOY_STATE_MACHINE_ARN,
  BENCH_LIFECYCLE_STATE_MACHINE_ARN,
  BENCH_SLACK_SECRET_PARAMETER,
  startStubSfn,
  type StubSfn,
} from '../../../bench/stub-sfn';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * The cold-start bench times each function's first invocation; a figure is only worth reading if
 * that invocation does what bench/first-invocations.ts says it does. Here each deployed handler
 * (unbundled, in this process) gets its first invocation exactly as the bench prepares it, one
 * after the other in serverless.yml's order, as the bench runs them. EC2 points at a port nobody
 * listens on: a first invocation that reaches for it fails at once instead of waiting on the
 * network (the bench has no stand-in for it). SSM and Lambda reach the bench's stand-in, which
 * answers GetParameter (chatops' signing secret) and Invoke (its worker) and nothing else.
 */
describe("the cold-start bench's first invocations", () => {
  let dynamo: LocalDynamo;
  let sfn: StubSfn;
  const saved = { ...process.env };

  beforeAll(async () => {
    dynamo = await startDynalite();
    sfn = await startStubSfn();
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SFN: sfn.endpoint,
      AWS_ENDPOINT_URL_AUTO_SCALING: sfn.endpoint,
      AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_SSM: sfn.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: sfn.endpoint,
      KILN_SLACK_SECRET_PARAMETER: BENCH_SLACK_SECRET_PARAMETER,
      KILN_DEPLOY_STATE_MACHINE_ARN: BENCH_DEPLOY_STATE_MACHINE_ARN,
      KILN_LIFECYCLE_STATE_MACHINE_ARN: BENCH_LIFECYCLE_STATE_MACHINE_ARN,
      KILN_STAGE: 'bench',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
  });

  afterAll(async () => {
    process.env = saved;
    await sfn.stop();
    await dynamo.stop();
  });

  it('each answers as its check expects, whatever the functions measured before it wrote', async () => {
    const problems: string[] = [];
    for (const fn of readDeployedSettings(ROOT).functions) {
      const invocation = firstInvocations[fn.key];
      if (invocation === undefined) {
        problems.push(`${fn.key}: no first invocation`);
        continue;
      }
      process.env.KILN_TABLE = await seedFreshTable(dynamo, invocation, ROOT);
      process.env.AWS_LAMBDA_FUNCTION_NAME = fn.deployedName;
      const module = (await import(join(ROOT, fn.entry))) as Record<string, unknown>;
      const handler = module[fn.exportName] as (event: unknown, context: Context) => Promise<unknown>;
      const context = {
        functionName: fn.deployedName,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${fn.deployedName}`,
        memoryLimitInMB: '512',
        awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
        logGroupName: `/aws/lambda/${fn.deployedName}`,
        logStreamName: '2026/01/01/[$LATEST]bench',
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => 30_000,
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
      } satisfies Context;
      try {
        const problem = invocation.check(await handler(invocation.event(0), context));
        if (problem !== undefined) problems.push(`${fn.key}: ${problem}`);
      } catch (error) {
        problems.push(
          `${fn.key}: threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        );
      }
    }

    expect(problems).toEqual([]);
  });
});
