import { clientToken } from '../../../../shared/domain/ids';
import type { RolloutCursor, RolloutState } from '../../../../shared/usecases/rollout/deps';
import {
  checkGate,
  environmentDone,
  passGate,
  waitForApproval,
} from '../../../../shared/usecases/rollout/gate';
import { prepareEnvironment } from '../../../../shared/usecases/rollout/prepare';
import { ROLLOUT_LEASE_MS } from '../../../../shared/usecases/rollout/progress';
import { checkRefresh, startRefresh, waitForRefresh } from '../../../../shared/usecases/rollout/rolling';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';
import { AMI_EAST, LT, T0, world, type World } from './harness';
import { EnvironmentSetupError } from '../../../../shared/domain/step-errors';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const cursor = (index = 0): RolloutCursor => ({
  mode: 'deploy',
  environments: ['staging', 'production'],
  index,
  done: false,
});

/** A deployment holding staging's lock, rolling out, its environment prepared. */
async function prepared(w: World, options: { version?: string } = {}): Promise<RolloutState> {
  w.regions['us-east-1']?.addGroup('checkout-staging', { version: options.version ?? '$Latest' });
  const state: RolloutState = { ...(await w.deployment()), rollout: cursor() };
  await w.store.acquireLock('checkout', 'staging', {
    holder: 'd-1',
    deploymentId: 'd-1',
    leaseMs: ROLLOUT_LEASE_MS,
  });
  await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
  return { ...state, env: await prepareEnvironment(state, w.deps) };
}

describe('prepare-environment', () => {
  it("records what runs now (the version resolved to a number) and makes a version from it with the release's AMI", async () => {
    const w = await world(dynamo);
    const state = await prepared(w);
    expect(state.env).toMatchObject({
      name: 'staging',
      region: 'us-east-1',
      strategy: 'rolling',
      before: {
        release: 'unrecorded',
        group: 'checkout-staging',
        launchTemplate: { id: LT, version: 1 },
        capacity: { min: 2, max: 6, desired: 4 },
      },
      target: {
        release: '1.4.2',
        imageId: AMI_EAST,
        launchTemplate: { id: LT, version: 2 },
        group: 'checkout-staging',
      },
    });
    expect(w.regions['us-east-1']?.calls).toContainEqual({
      operation: 'createVersion',
      input: {
        launchTemplateId: LT,
        sourceVersion: 1,
        imageId: AMI_EAST,
        description: 'kiln checkout@1.4.2 (deployment d-1)',
        clientToken: clientToken(['d-1', 'lt-version', 'staging']),
      },
    });
  });

  it('refuses a group that does not exist with EnvironmentSetupError, naming it and the Region', async () => {
    const w = await world(dynamo);
    const state: RolloutState = { ...(await w.deployment()), rollout: cursor() };
    const refusal = prepareEnvironment(state, w.deps);
    await expect(refusal).rejects.toThrow(EnvironmentSetupError);
    await expect(refusal).rejects.toThrow(
      'environment staging: Auto Scaling group checkout-staging does not exist in us-east-1',
    );
  });

  it("waits for a refresh that is not this deployment's (a killed holder's) instead of taking a half-moved group as the before", async () => {
    const w = await world(dynamo);
    const east = w.regions['us-east-1'];
    east?.addGroup('checkout-staging');
    await east?.autoScaling.startRefresh({
      group: 'checkout-staging',
      launchTemplate: { id: LT, version: 1 },
      preferences: {
        minHealthyPercentage: 90,
        maxHealthyPercentage: 100,
        bakeTimeSeconds: 0,
        skipMatching: true,
        autoRollback: true,
        alarms: [],
        scaleInProtectedInstances: 'Wait',
        standbyInstances: 'Wait',
      },
    });
    const state: RolloutState = { ...(await w.deployment()), rollout: cursor() };
    await expect(prepareEnvironment(state, w.deps)).rejects.toMatchObject({
      name: 'RefreshInProgressError',
      message:
        'environment staging: group checkout-staging has instance refresh refresh-1 Pending, not started by this deployment; waiting for it to end',
    });
  });

  describe('in rollback mode', () => {
    it("restores the history's record of the release exactly, with no new version", async () => {
      const w = await world(dynamo);
      const east = w.regions['us-east-1'];
      east?.addGroup('checkout-staging', { version: '3', capacity: { min: 1, max: 9, desired: 6 } });
      east?.versions.get(LT)?.set(2, 'ami-0ddddddddddddddd4').set(3, AMI_EAST);
      const record = (release: string, version: number, desired: number) => ({
        release,
        group: 'checkout-staging',
        launchTemplate: { id: LT, version },
        capacity: { min: 1, max: 9, desired },
        since: new Date(T0).toISOString(),
      });
      await w.store.updateEnvironmentState(
        'checkout',
        'staging',
        { currentRelease: '1.4.2', history: [record('1.4.2', 3, 6), record('1.4.1', 2, 3)] },
        0,
        {},
      );
      const state: RolloutState = {
        ...(await w.deployment({ version: '1.4.1', mode: 'rollback', environments: ['staging'] })),
        rollout: { ...cursor(), mode: 'rollback', environments: ['staging'] },
      };
      const run = await prepareEnvironment(state, w.deps);
      expect(run.target).toEqual({
        release: '1.4.1',
        imageId: 'ami-0ddddddddddddddd4',
        launchTemplate: { id: LT, version: 2 },
        group: 'checkout-staging',
        capacity: { min: 1, max: 9, desired: 3 },
      });
      expect(run.before).toMatchObject({ release: '1.4.2', launchTemplate: { id: LT, version: 3 } });
      expect(east?.calls.filter((call) => call.operation === 'createVersion')).toEqual([]);
    });

    it('refuses a release the history does not hold, naming what it holds', async () => {
      const w = await world(dynamo);
      w.regions['us-east-1']?.addGroup('checkout-staging');
      const state: RolloutState = {
        ...(await w.deployment({ version: '0.9.0', mode: 'rollback', environments: ['staging'] })),
        rollout: { ...cursor(), mode: 'rollback', environments: ['staging'] },
      };
      await expect(prepareEnvironment(state, w.deps)).rejects.toThrow(
        'environment checkout/staging has no record of release 0.9.0 to roll back to (its history is empty)',
      );
    });
  });
});

describe('the rolling strategy', () => {
  it("starts a refresh to the target version with the manifest's preferences", async () => {
    const w = await world(dynamo);
    const state = await prepared(w);
    const run = await startRefresh(state, w.deps);
    expect(run.refreshId).toBe('refresh-1');
    expect(w.regions['us-east-1']?.calls).toContainEqual({
      operation: 'startRefresh',
      input: {
        group: 'checkout-staging',
        launchTemplate: { id: LT, version: 2 },
        preferences: expect.objectContaining({
          minHealthyPercentage: 50,
          maxHealthyPercentage: 150,
          instanceWarmupSeconds: 120,
          skipMatching: true,
          autoRollback: true,
          alarms: ['checkout-staging-5xx-rate'],
        }),
      },
    });
    expect((await w.store.getDeployment('d-1'))?.rollout).toMatchObject({
      phase: 'refreshing',
      refreshId: 'refresh-1',
    });
  });

  it('starts a rollback’s refresh without the rollout alarms: they measure the release being removed', async () => {
    const w = await world(dynamo);
    const state = await prepared(w);
    const rollback: RolloutState = {
      ...state,
      mode: 'rollback',
      ...(state.rollout === undefined ? {} : { rollout: { ...state.rollout, mode: 'rollback' } }),
    };
    await startRefresh(rollback, w.deps);
    const started = w.regions['us-east-1']?.calls.find((call) => call.operation === 'startRefresh');
    expect(started?.input).toMatchObject({ preferences: expect.objectContaining({ alarms: [] }) });
  });

  describe('check-refresh', () => {
    async function refreshing(w: World): Promise<RolloutState> {
      const state = await prepared(w);
      return { ...state, env: await startRefresh(state, w.deps) };
    }

    it('waits while the refresh moves, renewing the lease and recording the percentage', async () => {
      const w = await world(dynamo);
      const state = await refreshing(w);
      w.regions['us-east-1']?.setRefresh('refresh-1', {
        status: 'InProgress',
        percentageComplete: 40,
        statusReason: 'Waiting for instances to warm up',
      });
      w.advance(60_000);
      expect(await checkRefresh(state, w.deps)).toEqual({
        outcome: 'waiting',
        reason: 'InProgress: Waiting for instances to warm up',
        percentage: 40,
      });
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.expiresAt).toBe(
        T0 + 60_000 + ROLLOUT_LEASE_MS,
      );
      expect((await w.store.getDeployment('d-1'))?.rollout?.detail).toBe(
        'instance refresh refresh-1 InProgress: Waiting for instances to warm up (40%)',
      );
    });

    it('succeeds on Successful', async () => {
      const w = await world(dynamo);
      const state = await refreshing(w);
      w.regions['us-east-1']?.setRefresh('refresh-1', { status: 'Successful', percentageComplete: 100 });
      expect((await checkRefresh(state, w.deps)).outcome).toBe('succeeded');
    });

    it("says rolled-back with AWS's StatusReason when AutoRollback put the group back", async () => {
      const w = await world(dynamo);
      const state = await refreshing(w);
      w.regions['us-east-1']?.setRefresh('refresh-1', {
        status: 'RollbackSuccessful',
        statusReason: 'Alarm checkout-staging-5xx-rate is in ALARM state',
      });
      expect(await checkRefresh(state, w.deps)).toMatchObject({
        outcome: 'rolled-back',
        reason:
          'instance refresh refresh-1 of checkout-staging ended RollbackSuccessful: Alarm checkout-staging-5xx-rate is in ALARM state',
      });
    });

    it('says why AWS rolled back (its RollbackReason), not only that the rollback completed', async () => {
      const w = await world(dynamo);
      const state = await refreshing(w);
      w.regions['us-east-1']?.setRefresh('refresh-1', {
        status: 'RollbackSuccessful',
        statusReason: 'The rollback completed successfully.',
        rollbackReason: 'CloudWatch alarm checkout-staging-5xx-rate went into ALARM',
      });
      expect((await checkRefresh(state, w.deps)).reason).toBe(
        'instance refresh refresh-1 of checkout-staging ended RollbackSuccessful: The rollback completed successfully. rolled back because: CloudWatch alarm checkout-staging-5xx-rate went into ALARM',
      );
    });

    it("fails with AWS's StatusReason on Failed", async () => {
      const w = await world(dynamo);
      const state = await refreshing(w);
      w.regions['us-east-1']?.setRefresh('refresh-1', {
        status: 'Failed',
        statusReason: 'Instances failed to launch',
      });
      expect(await checkRefresh(state, w.deps)).toMatchObject({
        outcome: 'failed',
        reason: expect.stringMatching(/ended Failed: Instances failed to launch$/),
      });
    });

    it('answers abort to an abort request while the refresh still moves', async () => {
      const w = await world(dynamo);
      const state = await refreshing(w);
      const deployment = await w.store.getDeployment('d-1');
      await w.store.updateDeployment(
        'd-1',
        { abort: { actor: 'cli:alice', at: new Date(T0).toISOString(), reason: 'wrong build' } },
        deployment?.version ?? 0,
      );
      expect(await checkRefresh(state, w.deps)).toMatchObject({
        outcome: 'abort',
        reason: 'aborted by cli:alice: wrong build',
      });
    });
  });

  describe('wait-refresh', () => {
    it('stores its token under the refresh id while the refresh moves', async () => {
      const w = await world(dynamo);
      const state = await prepared(w);
      const running = { ...state, env: await startRefresh(state, w.deps) };
      await waitForRefresh(running, 'token-r', w.deps);
      expect((await w.store.listTaskTokens({ waitKind: 'refresh' })).items).toEqual([
        expect.objectContaining({ key: 'refresh-1', token: 'token-r', expiresAt: T0 + 300_000 }),
      ]);
      expect(w.woken).toEqual([]);
    });

    it('wakes itself when the refresh settled before the token was stored', async () => {
      const w = await world(dynamo);
      const state = await prepared(w);
      const running = { ...state, env: await startRefresh(state, w.deps) };
      w.regions['us-east-1']?.setRefresh('refresh-1', { status: 'Successful' });
      await waitForRefresh(running, 'token-r', w.deps);
      expect(w.woken).toEqual([{ token: 'token-r', output: { woken: 'poll' } }]);
    });
  });
});

describe('between environments', () => {
  async function done(w: World): Promise<RolloutState> {
    const state = await prepared(w);
    w.regions['us-east-1']?.runInstancesOn('checkout-staging', 2);
    return { ...state, rollout: await environmentDone(state, w.deps) };
  }

  it('records the environment on the release, the run before kept beneath it in the history', async () => {
    const w = await world(dynamo);
    await done(w);
    const env = await w.store.getEnvironmentState('checkout', 'staging');
    expect(env).toMatchObject({
      currentRelease: '1.4.2',
      previousRelease: 'unrecorded',
      launchTemplate: { id: LT, version: 2 },
      capacity: { min: 2, max: 6, desired: 4 },
      activeGroup: 'checkout-staging',
    });
    expect(env.history?.map((record) => [record.release, record.launchTemplate.version])).toEqual([
      ['1.4.2', 2],
      ['unrecorded', 1],
    ]);
  });

  it('sets the gate before the next environment and extends the lease over its bake and approval', async () => {
    const w = await world(dynamo);
    const state = await done(w);
    expect(state.rollout).toEqual({
      ...cursor(),
      gate: {
        bakeSeconds: 7200,
        approval: true,
        approvalTimeoutSeconds: 86400,
        next: 'production',
        since: T0,
      },
    });
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.expiresAt).toBe(
      T0 + ROLLOUT_LEASE_MS + 7200_000 + 86400_000,
    );
  });

  it('is done after the last environment', async () => {
    const w = await world(dynamo);
    const state = await prepared(w);
    const last = await environmentDone(
      { ...state, rollout: { ...cursor(), environments: ['staging'] } },
      w.deps,
    );
    expect(last).toEqual({ mode: 'deploy', environments: ['staging'], index: 0, done: true });
  });

  describe('check-gate', () => {
    it('is clear when no watched alarm went into ALARM during the bake', async () => {
      const w = await world(dynamo);
      const state = await done(w);
      w.advance(7200_000);
      expect(await checkGate(state, w.deps)).toEqual({ outcome: 'clear' });
      expect(w.regions['us-east-1']?.calls).toContainEqual({
        operation: 'wentIntoAlarm',
        input: { names: ['checkout-staging-5xx-rate', 'checkout-staging-p99-latency'], since: T0 },
      });
    });

    it('stops the promotion when a watched alarm went into ALARM since the bake began', async () => {
      const w = await world(dynamo);
      const state = await done(w);
      w.regions['us-east-1']?.alarmHistory.push({
        name: 'checkout-staging-p99-latency',
        at: T0 + 60_000,
        reason: 'Threshold Crossed',
      });
      w.advance(7200_000);
      expect(await checkGate(state, w.deps)).toEqual({
        outcome: 'alarm',
        reason:
          'alarm checkout-staging-p99-latency went into ALARM at 2026-03-01T12:01:00.000Z while 1.4.2 baked in staging: Threshold Crossed',
      });
    });
  });

  describe('approval', () => {
    it('stores the token under the deployment id until the deadline and moves the deployment to waiting-approval', async () => {
      const w = await world(dynamo);
      const state = await done(w);
      await waitForApproval(state, 'token-a', w.deps);
      expect((await w.store.listTaskTokens({ waitKind: 'approval' })).items).toEqual([
        expect.objectContaining({ key: 'd-1', token: 'token-a', expiresAt: T0 + 86400_000 }),
      ]);
      expect((await w.store.getDeployment('d-1'))?.status).toBe('waiting-approval');
    });

    it('passes the gate: releases the done environment, wakes its waiters, back to rolling-out, on to the next', async () => {
      const w = await world(dynamo);
      const state = await done(w);
      await waitForApproval(state, 'token-a', w.deps);
      await w.store.putTaskToken({
        waitKind: 'lock',
        key: 'checkout/staging/d-9',
        token: 'token-waiter',
        deploymentId: 'd-9',
        expiresAt: T0 + 300_000,
      });
      const next = await passGate({ ...state, approval: { approved: true, actor: 'cli:bob' } }, w.deps);
      expect(next).toEqual({ ...cursor(1) });
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
      expect(w.woken).toEqual([{ token: 'token-waiter', output: { woken: 'lock-released' } }]);
      const deployment = await w.store.getDeployment('d-1');
      expect(deployment?.status).toBe('rolling-out');
      expect(deployment?.reason).toBe('approved by cli:bob');
    });
  });
});
