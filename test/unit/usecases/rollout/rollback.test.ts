import type { RolloutState } from '../../../../shared/usecases/rollout/deps';
import { finish } from '../../../../shared/usecases/rollout/finish';
import { prepareEnvironment } from '../../../../shared/usecases/rollout/prepare';
import { ROLLOUT_LEASE_MS } from '../../../../shared/usecases/rollout/progress';
import {
  checkRollback,
  recordRollback,
  rollbackEnvironment,
} from '../../../../shared/usecases/rollout/rollback';
import { startRefresh } from '../../../../shared/usecases/rollout/rolling';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';
import { LT, world, type World } from './harness';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const cursor = { mode: 'deploy' as const, environments: ['staging', 'production'], index: 0, done: false };

/** A deployment rolling out to staging, refresh started, holding the lock. */
async function refreshing(w: World): Promise<RolloutState> {
  w.regions['us-east-1']?.addGroup('checkout-staging');
  const state: RolloutState = { ...(await w.deployment()), rollout: cursor };
  await w.store.acquireLock('checkout', 'staging', {
    holder: 'd-1',
    deploymentId: 'd-1',
    leaseMs: ROLLOUT_LEASE_MS,
  });
  await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
  const prepared = { ...state, env: await prepareEnvironment(state, w.deps) };
  return { ...prepared, env: await startRefresh(prepared, w.deps) };
}

/** What the ASL hands the next step: the state as JSON, `$.env` replaced by the step's result. */
function throughAsl(state: RolloutState, env: unknown): RolloutState {
  const next: RolloutState = JSON.parse(JSON.stringify({ ...state, env }));
  return next;
}

const operations = (w: World) => w.regions['us-east-1']?.calls.map((call) => call.operation) ?? [];

describe('rollback-environment (rolling)', () => {
  it('asks AWS to roll back a refresh still in progress (an abort, an alarm mid-refresh)', async () => {
    const w = await world(dynamo);
    const state = await refreshing(w);
    w.regions['us-east-1']?.setRefresh('refresh-1', { status: 'InProgress' });
    const run = await rollbackEnvironment(
      { ...state, check: { outcome: 'abort', reason: 'aborted by cli:alice' } },
      w.deps,
    );
    expect(run.rollback).toEqual({
      kind: 'refresh-rollback',
      refreshId: 'refresh-1',
      reason: 'aborted by cli:alice',
    });
    expect(operations(w)).toContain('rollbackRefresh');
    expect((await w.store.getDeployment('d-1'))?.status).toBe('rolling-back');
  });

  it('refreshes back to the before version, capacity first, when the refresh ended with instances on the release', async () => {
    const w = await world(dynamo);
    const state = await refreshing(w);
    const east = w.regions['us-east-1'];
    east?.setRefresh('refresh-1', { status: 'Failed', statusReason: 'Instances failed to launch' });
    east?.runInstancesOn('checkout-staging', 2, 2);
    const group = east?.groups.get('checkout-staging');
    if (group) group.capacity = { min: 2, max: 6, desired: 5 };
    const run = await rollbackEnvironment(
      {
        ...state,
        check: {
          outcome: 'failed',
          reason: 'instance refresh refresh-1 of checkout-staging ended Failed: Instances failed to launch',
        },
      },
      w.deps,
    );
    expect(run.rollback).toMatchObject({ kind: 'refresh-to-previous', refreshId: 'refresh-2' });
    expect(east?.calls.slice(-2)).toEqual([
      {
        operation: 'updateGroup',
        input: { name: 'checkout-staging', capacity: { min: 2, max: 6, desired: 4 } },
      },
      {
        operation: 'startRefresh',
        input: expect.objectContaining({
          launchTemplate: { id: LT, version: 1 },
          preferences: expect.objectContaining({ autoRollback: false, alarms: [] }),
        }),
      },
    ]);
  });

  it('undoes nothing when nothing moved (the refresh never started)', async () => {
    const w = await world(dynamo);
    w.regions['us-east-1']?.addGroup('checkout-staging');
    const state: RolloutState = { ...(await w.deployment()), rollout: cursor };
    await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
    const prepared = { ...state, env: await prepareEnvironment(state, w.deps) };
    const run = await rollbackEnvironment(
      { ...prepared, error: { Error: 'Error', Cause: 'starting the instance refresh: refused' } },
      w.deps,
    );
    expect(run.rollback).toEqual({
      kind: 'nothing',
      reason: 'starting the instance refresh: refused (Error)',
    });
    expect(await checkRollback(throughAsl(prepared, run), w.deps)).toMatchObject({ outcome: 'done' });
  });

  it('undoes nothing when the environment was never prepared', async () => {
    const w = await world(dynamo);
    const state: RolloutState = { ...(await w.deployment()), rollout: cursor };
    await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
    const run = await rollbackEnvironment({ ...state, error: { Error: 'Error', Cause: 'no group' } }, w.deps);
    expect(run).toMatchObject({ name: 'staging', rollback: { kind: 'nothing', reason: 'no group (Error)' } });
  });

  it("follows the rollback's refresh to its end", async () => {
    const w = await world(dynamo);
    const state = await refreshing(w);
    w.regions['us-east-1']?.setRefresh('refresh-1', { status: 'InProgress' });
    const rolling = throughAsl(
      state,
      await rollbackEnvironment({ ...state, check: { outcome: 'abort', reason: 'aborted' } }, w.deps),
    );
    expect((await checkRollback(rolling, w.deps)).outcome).toBe('waiting');
    w.regions['us-east-1']?.setRefresh('refresh-1', { status: 'RollbackSuccessful' });
    expect((await checkRollback(rolling, w.deps)).outcome).toBe('done');
  });
});

describe('finish', () => {
  it('records a rollback: the environment names the previous release as current, the lock released', async () => {
    const w = await world(dynamo);
    const state = await refreshing(w);
    w.regions['us-east-1']?.setRefresh('refresh-1', { status: 'RollbackSuccessful', statusReason: 'alarm' });
    const check = {
      outcome: 'rolled-back' as const,
      reason: 'instance refresh refresh-1 of checkout-staging ended RollbackSuccessful: alarm',
    };
    const env = await recordRollback({ ...state, check }, w.deps);
    const ended = await finish({ ...state, check, env }, 'rolled-back', w.deps);
    expect(ended.status).toBe('rolled-back');
    const deployment = await w.store.getDeployment('d-1');
    expect(deployment?.reason).toBe(
      'AWS rolled the instance refresh back: instance refresh refresh-1 of checkout-staging ended RollbackSuccessful: alarm; launch template version 1 restored (stopped at staging, environment 1 of 2)',
    );
    const recorded = await w.store.getEnvironmentState('checkout', 'staging');
    expect(recorded).toMatchObject({ currentRelease: 'unrecorded', launchTemplate: { id: LT, version: 1 } });
    // One record of what runs: the before record is not listed again as its own predecessor.
    expect(recorded.history).toHaveLength(1);
    expect(recorded.previousRelease).toBeUndefined();
    expect(recorded.lock).toBeUndefined();
  });

  it('keeps the lock after a failed rollback, until its lease ends', async () => {
    const w = await world(dynamo);
    const state = await refreshing(w);
    await w.store.moveDeployment('d-1', { from: 'rolling-out', to: 'rolling-back' });
    const ended = await finish(
      { ...state, error: { Error: 'Error', Cause: 'checking the rollback: boom' } },
      'rollback-failed',
      w.deps,
    );
    expect(ended.status).toBe('failed');
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.holder).toBe('d-1');
  });

  it('names the first cause, then how the rollback failed, when the rollback itself fails', async () => {
    const w = await world(dynamo);
    const state = await refreshing(w);
    await w.store.moveDeployment('d-1', { from: 'rolling-out', to: 'rolling-back' });
    if (!state.env) throw new Error('refreshing() leaves $.env set');
    const env = {
      ...state.env,
      rollback: { kind: 'refresh-rollback' as const, refreshId: 'refresh-1', reason: 'alarm checkout-5xx' },
    };
    const check = {
      outcome: 'failed' as const,
      reason: "the rollback's instance refresh refresh-1 ended RollbackFailed",
    };

    const ended = await finish({ ...state, env, check }, 'rollback-failed', w.deps);

    expect(ended).toEqual({
      status: 'failed',
      reason:
        "alarm checkout-5xx; then the rollback failed: the rollback's instance refresh refresh-1 ended RollbackFailed (stopped at staging, environment 1 of 2); the lock is kept until its lease ends",
    });
  });

  it('ends a rollback that undid nothing as failed, with the step that failed', async () => {
    const w = await world(dynamo);
    const state: RolloutState = { ...(await w.deployment()), rollout: cursor };
    await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
    const env = await rollbackEnvironment(
      { ...state, error: { Error: 'Error', Cause: 'preparing the environment: no group' } },
      w.deps,
    );
    const ended = await finish(throughAsl(state, env), 'rolled-back', w.deps);
    expect(ended).toEqual({
      status: 'failed',
      reason:
        'preparing the environment: no group (Error); nothing had changed (stopped at staging, environment 1 of 2)',
    });
  });

  it('succeeds a deployment that had no environment to roll, straight from baking', async () => {
    const w = await world(dynamo);
    const state: RolloutState = {
      ...(await w.deployment({ environments: [] })),
      rollout: { ...cursor, environments: [], done: true },
    };
    expect(await finish(state, 'succeeded', w.deps)).toEqual({
      status: 'succeeded',
      reason: '1.4.2 recorded; no environment to roll',
    });
  });

  it('ends a refused approval aborted, naming who refused, and releases the lock', async () => {
    const w = await world(dynamo);
    const state = await refreshing(w);
    await w.store.moveDeployment('d-1', { from: 'rolling-out', to: 'waiting-approval' });
    const gated: RolloutState = {
      ...state,
      rollout: {
        ...cursor,
        gate: { bakeSeconds: 0, approval: true, approvalTimeoutSeconds: 3600, next: 'production', since: 0 },
      },
      approval: { approved: false, actor: 'cli:bob', reason: 'not today' },
    };
    expect(await finish(gated, 'approval-refused', w.deps)).toEqual({
      status: 'aborted',
      reason:
        'the promotion to production was refused by cli:bob: not today (stopped at staging, environment 1 of 2)',
    });
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
  });
});
