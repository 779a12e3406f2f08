import { InvalidToken, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnTasks } from '../../../../shared/aws/sfn';
import type { DeploymentStatus } from '../../../../shared/domain/deployment';
import { abortDeployment } from '../../../../shared/usecases/deployments/abort';
import { runningDeployment, seededCheckout, T0 } from '../../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';

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
const OTHER = '01JZ0000000000000000000002';

/** checkout's deployment rolling out staging, with a refresh wait of its own and a lock wait of another deployment. */
async function rollingOut(moves: DeploymentStatus[] = ['rolling-out']) {
  const { store, clock } = await seededCheckout(dynamo);
  await store.createDeployment(runningDeployment(ID));
  let from: DeploymentStatus = 'queued';
  for (const to of moves) {
    await store.moveDeployment(ID, { from, to });
    from = to;
  }
  await store.createDeployment(runningDeployment(OTHER, { releaseVersion: '1.2.0' }));
  const wait = { expiresAt: T0 + 300_000 };
  await store.putTaskToken({
    waitKind: 'refresh',
    key: 'refresh-1',
    token: 'refresh-token',
    deploymentId: ID,
    ...wait,
  });
  await store.putTaskToken({
    waitKind: 'lock',
    key: `checkout/staging/${OTHER}`,
    token: 'other-lock-token',
    deploymentId: OTHER,
    ...wait,
  });
  const tasks = new SfnTasks(new SFNClient({ region: 'us-east-1', maxAttempts: 1 }));
  return { store, deps: { store, tasks, now: clock.now } };
}

const woken = () =>
  sfn.commandCalls(SendTaskSuccessCommand).map((call) => ({
    token: call.args[0].input.taskToken,
    output: JSON.parse(call.args[0].input.output ?? 'null') as unknown,
  }));

describe('abortDeployment', () => {
  it('records the abort request on the deployment and wakes its waits, and only its own', async () => {
    const { store, deps } = await rollingOut();

    const result = await abortDeployment(
      { deploymentId: ID, actor: 'cli:alice', reason: 'wrong build' },
      deps,
    );

    expect(result).toEqual({ outcome: 'requested' });
    expect((await store.getDeployment(ID))?.abort).toEqual({
      actor: 'cli:alice',
      at: new Date(T0).toISOString(),
      reason: 'wrong build',
    });
    expect(woken()).toEqual([{ token: 'refresh-token', output: { woken: 'abort' } }]);
    expect(await store.takeTaskToken('refresh', 'refresh-1')).toBeUndefined();
    expect(await store.takeTaskToken('lock', `checkout/staging/${OTHER}`)).toBeDefined();
  });

  it('audits the request with the actor and the reason', async () => {
    const { store, deps } = await rollingOut();

    await abortDeployment({ deploymentId: ID, actor: 'cli:alice', reason: 'wrong build' }, deps);

    const audit = await store.listAudit({ target: `deployment:${ID}` });
    expect(audit.items[0]).toMatchObject({
      action: 'deployment.abort',
      actor: 'cli:alice',
      reason: 'wrong build',
      before: { status: 'rolling-out' },
    });
  });

  it('keeps the first request when asked twice, and wakes what waits again', async () => {
    const { store, deps } = await rollingOut();
    await abortDeployment({ deploymentId: ID, actor: 'cli:alice' }, deps);
    await store.putTaskToken({
      waitKind: 'lock',
      key: `checkout/production/${ID}`,
      token: 'lock-token',
      deploymentId: ID,
      expiresAt: T0 + 1,
    });

    const again = await abortDeployment({ deploymentId: ID, actor: 'cli:bob' }, deps);

    expect(again).toEqual({ outcome: 'already-requested' });
    expect((await store.getDeployment(ID))?.abort?.actor).toBe('cli:alice');
    expect(woken().map((w) => w.token)).toEqual(['refresh-token', 'lock-token']);
  });

  it('leaves a final deployment alone', async () => {
    const { store, deps } = await rollingOut(['rolling-out', 'succeeded']);

    expect(await abortDeployment({ deploymentId: ID, actor: 'cli:alice' }, deps)).toEqual({
      outcome: 'already-final',
    });
    expect((await store.getDeployment(ID))?.abort).toBeUndefined();
    expect(woken()).toEqual([]);
  });

  it('refuses a deployment that is rolling back, and changes nothing', async () => {
    const { store, deps } = await rollingOut(['rolling-out', 'rolling-back']);

    await expect(abortDeployment({ deploymentId: ID, actor: 'cli:alice' }, deps)).rejects.toThrow(
      `deployment ${ID} is rolling back already: it cannot be stopped half-way, and it is restoring the previous release`,
    );
    expect((await store.getDeployment(ID))?.abort).toBeUndefined();
    expect(woken()).toEqual([]);
  });

  it('takes a waiting approval too: the approval wait ends without approved: true', async () => {
    const { store, deps } = await rollingOut(['rolling-out', 'waiting-approval']);
    await store.putTaskToken({
      waitKind: 'approval',
      key: ID,
      token: 'approval-token',
      deploymentId: ID,
      expiresAt: T0 + 9,
    });

    await abortDeployment({ deploymentId: ID, actor: 'cli:alice' }, deps);

    expect(woken()).toContainEqual({ token: 'approval-token', output: { woken: 'abort' } });
  });

  it('counts a task Step Functions no longer knows as woken', async () => {
    const { deps } = await rollingOut();
    sfn.on(SendTaskSuccessCommand).rejects(new InvalidToken({ message: 'Invalid Token', $metadata: {} }));

    expect(await abortDeployment({ deploymentId: ID, actor: 'cli:alice' }, deps)).toEqual({
      outcome: 'requested',
    });
  });

  it('decides again when a rollout step wrote the deployment between its read and its write', async () => {
    const { store, deps } = await rollingOut();
    const racing = { ...deps, store: Object.create(store) as typeof store };
    let raced = false;
    racing.store.updateDeployment = async (...args) => {
      if (!raced) {
        raced = true;
        const current = await store.getDeployment(ID);
        await store.updateDeployment(
          ID,
          {
            rollout: {
              environment: 'staging',
              index: 0,
              strategy: 'rolling',
              phase: 'refreshing',
              at: new Date(T0).toISOString(),
            },
          },
          current?.version ?? 0,
        );
      }
      return store.updateDeployment(...args);
    };

    expect(await abortDeployment({ deploymentId: ID, actor: 'cli:alice' }, racing)).toEqual({
      outcome: 'requested',
    });
    expect(await store.getDeployment(ID)).toMatchObject({
      abort: { actor: 'cli:alice' },
      rollout: { phase: 'refreshing' },
    });
  });
});
