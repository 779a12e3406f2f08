import { SendTaskSuccessCommand, SFNClient, SFNServiceException, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { registerAbort } from '../../../cli/commands/abort';
import { registerApprove } from '../../../cli/commands/approve';
import type { DeploymentStatus } from '../../../shared/domain/deployment';
import type { KilnStore } from '../../../shared/store';
import { fakeClock, runningDeployment, seededCheckout, T0 } from '../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { runDeployCli, type DeployRunOptions } from './deploy-harness';

const sfn = mockClient(SFNClient);

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
});

const ID = '01JZ0000000000000000000001';
const EXECUTION = `arn:aws:states:us-west-2:123456789012:execution:kiln-test-deploy:${ID}`;

/** checkout's deployment ID, moved through `moves`, its execution in us-west-2. */
async function setup(moves: DeploymentStatus[]) {
  const clock = fakeClock();
  const { store, tableName } = await seededCheckout(dynamo, clock);
  await store.createDeployment(runningDeployment(ID, { executionArn: EXECUTION }));
  let from: DeploymentStatus = 'queued';
  for (const to of moves) {
    await store.moveDeployment(ID, { from, to });
    from = to;
  }
  const options: DeployRunOptions = { dynamo, env: { KILN_TABLE: tableName, USER: 'bob' }, clock };
  return {
    store,
    approve: (args: string[], more: Partial<DeployRunOptions> = {}) =>
      runDeployCli(registerApprove, ['approve', ...args], { ...options, ...more }),
    abort: (args: string[], more: Partial<DeployRunOptions> = {}) =>
      runDeployCli(registerAbort, ['abort', ...args], { ...options, ...more }),
  };
}

const sent = () =>
  sfn.commandCalls(SendTaskSuccessCommand).map((call) => ({
    token: call.args[0].input.taskToken,
    output: JSON.parse(call.args[0].input.output ?? 'null') as unknown,
  }));

async function storeApprovalToken(store: KilnStore) {
  await store.putTaskToken({
    waitKind: 'approval',
    key: ID,
    token: 'approval-token',
    deploymentId: ID,
    expiresAt: T0 + 60_000,
  });
}

describe('kiln approve', () => {
  it('answers the approval wait as the local user, in the execution’s region', async () => {
    const { store, approve } = await setup(['rolling-out', 'waiting-approval']);
    await storeApprovalToken(store);

    const result = await approve([ID, '--reason', 'checked the dashboards']);

    expect(result.stdout).toBe(`approved deployment ${ID}: the rollout goes on\n`);
    expect(result.exitCode).toBeUndefined();
    expect(sent()).toEqual([
      {
        token: 'approval-token',
        output: { approved: true, actor: 'cli:bob', reason: 'checked the dashboards' },
      },
    ]);
    expect(await sfn.commandCalls(SendTaskSuccessCommand)[0]?.thisValue.config.region()).toBe('us-west-2');
  });

  it('refuses with --refuse', async () => {
    const { store, approve } = await setup(['rolling-out', 'waiting-approval']);
    await storeApprovalToken(store);

    const result = await approve([ID, '--refuse', '--actor', 'carol']);

    expect(result.stdout).toBe(`refused deployment ${ID}: it ends aborted\n`);
    expect(sent()[0]?.output).toEqual({ approved: false, actor: 'carol' });
  });

  it.each([
    [
      ['rolling-out'] as DeploymentStatus[],
      `error: DEPLOYMENT: deployment ${ID} is rolling-out, not waiting for approval\n`,
    ],
    [[] as DeploymentStatus[], `error: DEPLOYMENT: deployment ${ID} is queued, not waiting for approval\n`],
  ])('refuses a deployment that is not waiting (%j), exit 1, sending nothing', async (moves, message) => {
    const { approve } = await setup(moves);

    const result = await approve([ID]);

    expect(result.stderr).toBe(message);
    expect(result.exitCode).toBe(1);
    expect(sent()).toEqual([]);
  });

  it('refuses an unknown deployment naming the argument', async () => {
    const { approve } = await setup([]);

    const result = await approve(['01JZ0000000000000000000009']);

    expect(result.stderr).toBe('error: DEPLOYMENT: no deployment 01JZ0000000000000000000009\n');
    expect(result.exitCode).toBe(1);
  });

  it('says which permission is missing when Step Functions denies the answer, exit 2, and keeps the wait answerable', async () => {
    const { store, approve } = await setup(['rolling-out', 'waiting-approval']);
    await storeApprovalToken(store);
    sfn.on(SendTaskSuccessCommand).rejects(
      new SFNServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message:
          'User: arn:aws:iam::123456789012:user/bob is not authorized to perform: states:SendTaskSuccess',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const result = await approve([ID]);

    expect(result.stderr).toBe(
      `kiln: access to Step Functions execution of deployment "${ID}" denied (User: arn:aws:iam::123456789012:user/bob is not authorized to perform: states:SendTaskSuccess): use a profile or role allowed to answer its waiting tasks (states:SendTaskSuccess)\n`,
    );
    expect(result.exitCode).toBe(2);
    expect(await store.takeTaskToken('approval', ID)).toMatchObject({ token: 'approval-token' });
  });

  it('says the wait has ended when its task timed out, exit 1', async () => {
    const { store, approve } = await setup(['rolling-out', 'waiting-approval']);
    await storeApprovalToken(store);
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    const result = await approve([ID]);

    expect(result.stderr).toBe(
      `error: DEPLOYMENT: the approval wait of deployment ${ID} has ended (TaskTimedOut): it timed out or its execution stopped\n`,
    );
    expect(result.exitCode).toBe(1);
  });
});

describe('kiln abort', () => {
  it('requests the abort as the local user and wakes the deployment’s waits', async () => {
    const { store, abort } = await setup(['rolling-out']);
    await store.putTaskToken({
      waitKind: 'refresh',
      key: 'refresh-1',
      token: 'refresh-token',
      deploymentId: ID,
      expiresAt: T0 + 1,
    });

    const result = await abort([ID, '--reason', 'wrong build']);

    expect(result.stdout).toBe(`abort requested: deployment ${ID} stops at its next step\n`);
    expect((await store.getDeployment(ID))?.abort).toEqual({
      actor: 'cli:bob',
      at: new Date(T0).toISOString(),
      reason: 'wrong build',
    });
    expect(sent()).toEqual([{ token: 'refresh-token', output: { woken: 'abort' } }]);
  });

  it('says a final deployment has nothing to abort', async () => {
    const { abort } = await setup(['rolling-out', 'succeeded']);

    const result = await abort([ID]);

    expect(result.stdout).toBe(`deployment ${ID} is succeeded already: nothing to abort\n`);
    expect(result.exitCode).toBeUndefined();
  });

  it('refuses a deployment rolling back, exit 1', async () => {
    const { abort } = await setup(['rolling-out', 'rolling-back']);

    const result = await abort([ID]);

    expect(result.stderr).toMatch(/^error: DEPLOYMENT: deployment \S+ is rolling back already: /);
    expect(result.exitCode).toBe(1);
  });

  describe('--wait', () => {
    it('exits 0 once the deployment has stopped with the previous release restored', async () => {
      const { store, abort } = await setup(['rolling-out']);
      const onSleep = async () => {
        await store.moveDeployment(ID, {
          from: 'rolling-out',
          to: 'rolling-back',
          reason: 'aborted by cli:bob',
        });
        await store.moveDeployment(ID, {
          from: 'rolling-back',
          to: 'rolled-back',
          reason: 'aborted by cli:bob: staging back on 1.0.0',
        });
      };

      const result = await abort([ID, '--wait'], { onSleep });

      expect(result.stdout.split('\n').filter(Boolean).at(-1)).toBe(
        `deployment ${ID} (checkout 1.1.0) rolled-back: aborted by cli:bob: staging back on 1.0.0`,
      );
      expect(result.exitCode).toBeUndefined();
    });

    it('exits 1 when the abort came too late and the deployment succeeded', async () => {
      const { store, abort } = await setup(['rolling-out']);
      const onSleep = async () => {
        await store.moveDeployment(ID, { from: 'rolling-out', to: 'succeeded' });
      };

      const result = await abort([ID, '--wait'], { onSleep });

      expect(result.exitCode).toBe(1);
    });
  });
});
