import { beginRollout } from '../../../../shared/usecases/rollout/course';
import { takeLock, waitForLock } from '../../../../shared/usecases/rollout/lock';
import { ROLLOUT_LEASE_MS } from '../../../../shared/usecases/rollout/progress';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';
import { checkoutManifest, T0, world } from './harness';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

describe('rollout-begin', () => {
  it('lists every environment in promotion order from the pinned manifest, with the release from $.release', async () => {
    const w = await world(dynamo);
    const state = await w.deployment();
    expect(await beginRollout(state, w.deps)).toEqual({
      mode: 'deploy',
      environments: ['staging', 'production'],
      index: 0,
      done: false,
    });
  });

  it('reads the release from the store when the bake was skipped (kiln deploy of a baked version)', async () => {
    const w = await world(dynamo);
    const { release: _release, ...state } = await w.deployment({ environments: ['production'] });
    await expect(beginRollout(state, w.deps)).rejects.toThrow('release checkout@1.4.2 is not recorded');
  });

  it("refuses a release without an AMI in an environment's Region, naming both", async () => {
    const w = await world(dynamo);
    const state = await w.deployment();
    await expect(
      beginRollout(
        { ...state, release: { version: '1.4.2', amis: { 'us-east-1': 'ami-0aaaaaaaaaaaaaaa1' } } },
        w.deps,
      ),
    ).rejects.toThrow(
      'release checkout@1.4.2 has no AMI in us-west-2 (environment production); it has us-east-1',
    );
  });

  it('links a recorded release on a deployment that skipped the bake (kiln deploy), for kiln status and the sweep', async () => {
    const w = await world(dynamo);
    const state = await w.deployment({ status: 'queued' });
    await beginRollout(state, w.deps);
    expect((await w.store.getDeployment('d-1'))?.release).toEqual(state.release);
  });

  it('is done at once when asked to roll no environment', async () => {
    const w = await world(dynamo);
    const state = await w.deployment({ environments: [] });
    expect(await beginRollout(state, w.deps)).toMatchObject({ environments: [], done: true });
  });
});

describe('take-lock', () => {
  const cursor = { mode: 'deploy' as const, environments: ['staging', 'production'], index: 0, done: false };

  it('acquires the free lock for a lease and moves the baked deployment to rolling-out', async () => {
    const w = await world(dynamo);
    const state = { ...(await w.deployment()), rollout: cursor };
    expect(await takeLock(state, w.deps)).toEqual({
      outcome: 'acquired',
      holder: 'd-1',
      until: T0 + ROLLOUT_LEASE_MS,
    });
    expect((await w.store.getDeployment('d-1'))?.status).toBe('rolling-out');
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.holder).toBe('d-1');
  });

  it('waits while another deployment holds the lock, and records why', async () => {
    const w = await world(dynamo);
    await w.store.acquireLock('checkout', 'staging', { holder: 'd-0', deploymentId: 'd-0', leaseMs: 60_000 });
    const state = { ...(await w.deployment()), rollout: cursor };
    expect(await takeLock(state, w.deps)).toEqual({ outcome: 'wait', holder: 'd-0', until: T0 + 60_000 });
    const deployment = await w.store.getDeployment('d-1');
    expect(deployment?.status).toBe('baking');
    expect(deployment?.rollout).toMatchObject({
      environment: 'staging',
      phase: 'waiting-lock',
      detail: expect.stringContaining('held by d-0'),
    });
  });

  it('takes over a lock whose lease ran out (a crashed holder)', async () => {
    const w = await world(dynamo);
    await w.store.acquireLock('checkout', 'staging', { holder: 'd-0', deploymentId: 'd-0', leaseMs: 60_000 });
    const state = { ...(await w.deployment()), rollout: cursor };
    w.advance(60_001);
    expect((await takeLock(state, w.deps)).outcome).toBe('acquired');
  });

  it('supersedes a waiting deployment when a newer one of the service waits for the same environment', async () => {
    const w = await world(dynamo);
    const older = { ...(await w.deployment({ id: 'd-1', version: '1.4.2' })), rollout: cursor };
    w.advance(20_000);
    await w.deployment({ id: 'd-2', version: '1.4.3' });
    expect(await takeLock(older, w.deps)).toEqual({ outcome: 'superseded', holder: 'd-2' });
    const deployment = await w.store.getDeployment('d-1');
    expect(deployment?.status).toBe('superseded');
    expect(deployment?.reason).toBe(
      'superseded by deployment d-2 (checkout@1.4.3), newer and waiting for staging',
    );
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
  });

  it('never supersedes a deployment that already rolls out (its next environment)', async () => {
    const w = await world(dynamo);
    const older = await w.deployment({ id: 'd-1' });
    await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
    w.advance(20_000);
    await w.deployment({ id: 'd-2', version: '1.4.3' });
    const outcome = await takeLock({ ...older, rollout: { ...cursor, index: 1 } }, w.deps);
    expect(outcome.outcome).toBe('acquired');
  });

  it('ends an aborted deployment before it touches the environment', async () => {
    const w = await world(dynamo);
    const state = { ...(await w.deployment()), rollout: cursor };
    const deployment = await w.store.getDeployment('d-1');
    await w.store.updateDeployment(
      'd-1',
      { abort: { actor: 'cli:alice', at: new Date(T0).toISOString() } },
      deployment?.version ?? 0,
    );
    expect(await takeLock(state, w.deps)).toEqual({ outcome: 'aborted' });
    expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
  });
});

describe('wait-lock', () => {
  const cursor = { mode: 'deploy' as const, environments: ['staging'], index: 0, done: false };

  it('stores its token under service/environment/deployment while the lock is held', async () => {
    const w = await world(dynamo, checkoutManifest());
    await w.store.acquireLock('checkout', 'staging', { holder: 'd-0', deploymentId: 'd-0', leaseMs: 60_000 });
    const state = { ...(await w.deployment()), rollout: cursor };
    await waitForLock(state, 'token-1', w.deps);
    const { items } = await w.store.listTaskTokens({ waitKind: 'lock' });
    expect(items).toEqual([
      expect.objectContaining({
        key: 'checkout/staging/d-1',
        token: 'token-1',
        deploymentId: 'd-1',
        expiresAt: T0 + 300_000,
      }),
    ]);
    expect(w.woken).toEqual([]);
  });

  it('wakes itself at once when the lock is already free', async () => {
    const w = await world(dynamo);
    const state = { ...(await w.deployment()), rollout: cursor };
    await waitForLock(state, 'token-1', w.deps);
    expect(w.woken).toEqual([{ token: 'token-1', output: { woken: 'poll' } }]);
    expect((await w.store.listTaskTokens({ waitKind: 'lock' })).items).toEqual([]);
  });
});
