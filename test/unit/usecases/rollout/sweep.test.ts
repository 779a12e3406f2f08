import type { Ec2Bake } from '../../../../shared/aws/ec2';
import { sweepDeployment, type ExecutionReport } from '../../../../shared/usecases/bake/sweep';
import { ROLLOUT_LEASE_MS } from '../../../../shared/usecases/rollout/progress';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';
import { world, type World } from './harness';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

/** EC2 is never asked: a deployment with a recorded release has no bake left to clean up. */
const noEc2 = (): Ec2Bake => {
  throw new Error('the sweep of a rollout must not clean up the bake');
};

/** A deployment whose release is recorded, rolling out in staging and holding its lock. */
async function rollingOut(w: World): Promise<void> {
  await w.deployment();
  const deployment = await w.store.getDeployment('d-1');
  await w.store.updateDeployment(
    'd-1',
    { release: { version: '1.4.2', amis: { 'us-east-1': 'ami-0aaaaaaaaaaaaaaa1' } } },
    deployment?.version ?? 0,
  );
  await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
  await w.store.acquireLock('checkout', 'staging', {
    holder: 'd-1',
    deploymentId: 'd-1',
    leaseMs: ROLLOUT_LEASE_MS,
  });
}

function sweep(w: World, execution: ExecutionReport | undefined) {
  return sweepDeployment('d-1', {
    store: w.store,
    ec2: noEc2,
    actor: 'sweep-bakes',
    describeExecution: async () => execution,
    wake: w.deps.wake,
    autoScaling: w.deps.autoScaling,
  });
}

describe('the sweep of an execution that died in the rollout', () => {
  it.each(['ABORTED', 'TIMED_OUT', 'FAILED'] as const)(
    'releases the lock a %s execution held, wakes its waiters and records the deployment failed',
    async (status) => {
      const w = await world(dynamo);
      await rollingOut(w);
      await w.store.putTaskToken({
        waitKind: 'lock',
        key: 'checkout/staging/d-2',
        token: 'token-d2',
        deploymentId: 'd-2',
        expiresAt: w.clock.now + 300_000,
      });
      const swept = await sweep(w, { status });
      expect(swept).toMatchObject({ outcome: 'rollout-swept', releasedLocks: ['staging'], status: 'failed' });
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
      expect(w.woken).toEqual([{ token: 'token-d2', output: { woken: 'lock-released' } }]);
      expect((await w.store.getDeployment('d-1'))?.reason).toBe(
        `the deploy execution ended ${status} during the rollout; the lock of staging released`,
      );
    },
  );

  it('leaves a running execution alone', async () => {
    const w = await world(dynamo);
    await rollingOut(w);
    expect((await sweep(w, { status: 'RUNNING' })).outcome).toBe('still-running');
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.holder).toBe('d-1');
  });

  it('keeps the lock of a deployment its own finish ended (a failed rollback keeps it until its lease ends)', async () => {
    const w = await world(dynamo);
    await rollingOut(w);
    await w.store.moveDeployment('d-1', { from: 'rolling-out', to: 'rolling-back' });
    await w.store.moveDeployment('d-1', { from: 'rolling-back', to: 'failed' });
    expect((await sweep(w, { status: 'FAILED' })).outcome).toBe('released');
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.holder).toBe('d-1');
  });

  it('does nothing the second time', async () => {
    const w = await world(dynamo);
    await rollingOut(w);
    await sweep(w, { status: 'ABORTED' });
    expect((await sweep(w, { status: 'ABORTED' })).outcome).toBe('released');
  });
});

describe('the sweep of an execution that died while its instance refresh was at work', () => {
  /** Staging's refresh to the release in progress, as the rolling steps record it. */
  async function refreshing(w: World, status: 'InProgress' | 'Successful' | 'Cancelled'): Promise<void> {
    await rollingOut(w);
    w.regions['us-east-1']?.addGroup('checkout-staging');
    w.regions['us-east-1']?.refreshes.push({
      group: 'checkout-staging',
      refreshId: 'refresh-1',
      status,
      percentageComplete: 50,
    });
    const deployment = await w.store.getDeployment('d-1');
    await w.store.updateDeployment(
      'd-1',
      {
        rollout: {
          environment: 'staging',
          index: 0,
          strategy: 'rolling',
          phase: 'refreshing',
          refreshId: 'refresh-1',
          fromGroup: 'checkout-staging',
          toGroup: 'checkout-staging',
          at: new Date(w.clock.now).toISOString(),
        },
      },
      deployment?.version ?? 0,
    );
  }

  it('rolls the refresh back, so the environment returns to its previous release, and says so', async () => {
    const w = await world(dynamo);
    await refreshing(w, 'InProgress');
    const swept = await sweep(w, { status: 'ABORTED' });
    expect(swept).toMatchObject({ outcome: 'rollout-swept', status: 'failed' });
    expect(w.regions['us-east-1']?.calls).toContainEqual({
      operation: 'rollbackRefresh',
      input: { group: 'checkout-staging' },
    });
    expect(w.regions['us-east-1']?.refreshes[0]?.status).toBe('RollbackInProgress');
    expect((await w.store.getDeployment('d-1'))?.reason).toBe(
      'the deploy execution ended ABORTED during the rollout at staging (refreshing); ' +
        'its instance refresh refresh-1 of checkout-staging rolled back; the lock of staging released',
    );
  });

  it('records the environment on the release when the refresh had completed before the run died, as the group now runs it', async () => {
    const w = await world(dynamo);
    await refreshing(w, 'Successful');
    w.regions['us-east-1']?.addGroup('checkout-staging', { version: '2' });
    const swept = await sweep(w, { status: 'ABORTED' });
    expect(swept).toMatchObject({ outcome: 'rollout-swept', status: 'failed' });
    expect(w.regions['us-east-1']?.calls).not.toContainEqual(
      expect.objectContaining({ operation: 'rollbackRefresh' }),
    );
    const state = await w.store.getEnvironmentState('checkout', 'staging');
    expect(state).toMatchObject({
      currentRelease: '1.4.2',
      activeGroup: 'checkout-staging',
      launchTemplate: { version: 2 },
    });
    expect(state.lock).toBeUndefined();
    expect((await w.store.getDeployment('d-1'))?.reason).toBe(
      'the deploy execution ended ABORTED during the rollout at staging (refreshing); ' +
        'its instance refresh refresh-1 of checkout-staging had completed: staging recorded on 1.4.2 (launch template v2); ' +
        'the lock of staging released',
    );
  });

  it('neither rolls back nor records when the refresh had ended without completing', async () => {
    const w = await world(dynamo);
    await refreshing(w, 'Cancelled');
    await sweep(w, { status: 'ABORTED' });
    expect((await w.store.getEnvironmentState('checkout', 'staging')).currentRelease).toBeUndefined();
    expect((await w.store.getDeployment('d-1'))?.reason).toBe(
      'the deploy execution ended ABORTED during the rollout at staging (refreshing); ' +
        'no instance refresh of checkout-staging was at work to roll back; the lock of staging released',
    );
  });
});
