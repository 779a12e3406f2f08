import {
  AuditMissingError,
  LockHeldError,
  LockNotHeldError,
  StaleVersionError,
  type KilnStore,
} from '../../../shared/store';
import { InvalidInputError } from '../../../shared/runtime/errors';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import {
  allAudit,
  faultyClient,
  isAuditWrite,
  newStore,
  scriptedIds,
  testClock,
  uniqueName,
  T0,
  type TestClock,
  type TestManifest,
} from './helpers';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

/**
 * A writer that drew the same writer id as another (`twin`) and has already audited five times on
 * the environment at the clock's instant: the next writer that draws `twin` finds its key taken.
 */
async function rivalTwin(clock: TestClock, service: string): Promise<void> {
  const rival = newStore(dynamo, clock, scriptedIds('twin'));
  for (let i = 0; i < 5; i++) {
    await rival.audit({ actor: 'rival', action: 'note', target: `environment:${service}/prod`, service });
  }
}

/** A store whose audit writes fail for good (after the SDK's own retries): the change still lands. */
function storeWithFailingAudit(clock: TestClock = testClock()): KilnStore<TestManifest> {
  return newStore({ ...dynamo, client: faultyClient(dynamo, { mode: 'fail', when: isAuditWrite }) }, clock);
}

describe('KilnStore environment lock', () => {
  describe('acquireLock', () => {
    it('grants a free lock with an expiry of now + lease', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');

      const lock = await store.acquireLock(service, 'prod', {
        holder: 'deploy-1',
        deploymentId: 'd-1',
        leaseMs: 60_000,
      });

      expect(lock).toEqual({
        holder: 'deploy-1',
        deploymentId: 'd-1',
        acquiredAt: T0,
        expiresAt: T0 + 60_000,
      });
      expect((await store.getEnvironmentState(service, 'prod')).lock).toEqual(lock);
    });

    it('rejects a second holder with LockHeldError naming holder and expiry, and changes nothing', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });
      const before = await store.getEnvironmentState(service, 'prod');

      const attempt = store.acquireLock(service, 'prod', { holder: 'rollback-7', leaseMs: 60_000 });

      await expect(attempt).rejects.toBeInstanceOf(LockHeldError);
      await expect(attempt).rejects.toMatchObject({
        name: 'LockHeldError',
        holder: 'deploy-1',
        expiresAt: T0 + 60_000,
      });
      expect(await store.getEnvironmentState(service, 'prod')).toEqual(before);
    });

    it('lets a new holder take over a lease that has expired', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'crashed', leaseMs: 30_000 });
      clock.advance(30_000);

      const lock = await store.acquireLock(service, 'prod', { holder: 'reconciler', leaseMs: 10_000 });

      expect(lock.holder).toBe('reconciler');
      expect(lock.expiresAt).toBe(T0 + 40_000);
    });

    it('rejects a takeover one millisecond before the lease expires', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'alive', leaseMs: 30_000 });
      clock.advance(29_999);

      await expect(
        store.acquireLock(service, 'prod', { holder: 'eager', leaseMs: 1 }),
      ).rejects.toBeInstanceOf(LockHeldError);
    });

    it('renews the lease when the same holder acquires again', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 30_000 });
      clock.advance(20_000);

      const lock = await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 30_000 });

      expect(lock.expiresAt).toBe(T0 + 50_000);
    });

    it('gives the lock to exactly one of two concurrent acquirers', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');

      const results = await Promise.allSettled([
        store.acquireLock(service, 'prod', { holder: 'a', leaseMs: 60_000 }),
        store.acquireLock(service, 'prod', { holder: 'b', leaseMs: 60_000 }),
      ]);

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.reason).toBeInstanceOf(LockHeldError);
    });

    it('locks each environment of a service separately', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.acquireLock(service, 'staging', { holder: 'a', leaseMs: 60_000 });

      await expect(
        store.acquireLock(service, 'prod', { holder: 'b', leaseMs: 60_000 }),
      ).resolves.toMatchObject({
        holder: 'b',
      });
    });

    it('reports the lock as acquired and audits it under a fresh key when its audit key is taken', async () => {
      const clock = testClock();
      const service = uniqueName('web');
      await rivalTwin(clock, service);
      const store = newStore(dynamo, clock, scriptedIds('twin'));

      const lock = await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });

      expect(lock).toMatchObject({ holder: 'deploy-1', acquiredAt: T0 });
      const acquisitions = (await allAudit(store, { target: `environment:${service}/prod` })).filter(
        (entry) => entry.action === 'lock.acquire',
      );
      expect(acquisitions).toEqual([expect.objectContaining({ actor: 'deploy-1', after: lock })]);
    });

    it('keeps the lock and says so with AuditMissingError when its audit entry cannot be written', async () => {
      const service = uniqueName('web');

      const attempt = storeWithFailingAudit().acquireLock(service, 'prod', {
        holder: 'deploy-1',
        leaseMs: 60_000,
      });

      await expect(attempt).rejects.toBeInstanceOf(AuditMissingError);
      const error = (await attempt.catch((e: unknown) => e)) as AuditMissingError;
      expect(error.result).toMatchObject({ holder: 'deploy-1', expiresAt: T0 + 60_000 });
      expect(error.entry).toMatchObject({ action: 'lock.acquire', actor: 'deploy-1' });
      expect((await newStore(dynamo).getEnvironmentState(service, 'prod')).lock?.holder).toBe('deploy-1');
    });

    it('rejects a non-positive lease naming leaseMs', async () => {
      const store = newStore(dynamo);

      await expect(store.acquireLock(uniqueName('web'), 'prod', { holder: 'a', leaseMs: 0 })).rejects.toThrow(
        /leaseMs/,
      );
    });

    it('rejects a service name containing the key separator', async () => {
      const store = newStore(dynamo);

      const attempt = store.acquireLock('web#prod', 'prod', { holder: 'a', leaseMs: 1000 });

      await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      await expect(attempt).rejects.toThrow(/service: must not contain "#"/);
    });
  });

  describe('renewLock', () => {
    it('extends the holder’s lease from now', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 30_000 });
      clock.advance(10_000);

      const lock = await store.renewLock(service, 'prod', { holder: 'deploy-1', leaseMs: 30_000 });

      expect(lock).toMatchObject({ holder: 'deploy-1', acquiredAt: T0, expiresAt: T0 + 40_000 });
    });

    it('rejects a renewal by someone who does not hold the lock', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 30_000 });

      const attempt = store.renewLock(service, 'prod', { holder: 'intruder', leaseMs: 30_000 });

      await expect(attempt).rejects.toBeInstanceOf(LockNotHeldError);
      await expect(attempt).rejects.toMatchObject({ holder: 'deploy-1' });
    });

    it('rejects renewing a lock that is free', async () => {
      const store = newStore(dynamo);

      await expect(
        store.renewLock(uniqueName('web'), 'prod', { holder: 'a', leaseMs: 1000 }),
      ).rejects.toBeInstanceOf(LockNotHeldError);
    });
  });

  describe('releaseLock', () => {
    it('frees the lock so another holder can take it', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });

      await store.releaseLock(service, 'prod', { holder: 'deploy-1' });

      expect((await store.getEnvironmentState(service, 'prod')).lock).toBeUndefined();
      await expect(
        store.acquireLock(service, 'prod', { holder: 'deploy-2', leaseMs: 1000 }),
      ).resolves.toMatchObject({
        holder: 'deploy-2',
      });
    });

    it('rejects a release by a non-holder and keeps the lock', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });

      const attempt = store.releaseLock(service, 'prod', { holder: 'chatops:alice' });

      await expect(attempt).rejects.toBeInstanceOf(LockNotHeldError);
      await expect(attempt).rejects.toThrow(/held by deploy-1/);
      expect((await store.getEnvironmentState(service, 'prod')).lock?.holder).toBe('deploy-1');
    });

    it('answers already-free and audits nothing when the lock was already released (a repeated release)', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });
      const first = await store.releaseLock(service, 'prod', { holder: 'deploy-1' });

      const again = await store.releaseLock(service, 'prod', { holder: 'deploy-1' });

      expect(first).toEqual({ outcome: 'released', lock: expect.objectContaining({ holder: 'deploy-1' }) });
      expect(again).toEqual({ outcome: 'already-free' });
      const actions = (await allAudit(store, { service })).map((entry) => entry.action);
      expect(actions).toEqual(['lock.release', 'lock.acquire']);
    });

    it('answers already-free when nobody ever held the lock', async () => {
      const store = newStore(dynamo);

      await expect(store.releaseLock(uniqueName('web'), 'prod', { holder: 'a' })).resolves.toEqual({
        outcome: 'already-free',
      });
    });

    it('rejects with LockNotHeldError naming the new holder when its expired lease was taken over', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'slow', leaseMs: 1000 });
      clock.advance(1000);
      await store.acquireLock(service, 'prod', { holder: 'reconciler', leaseMs: 60_000 });

      const attempt = store.releaseLock(service, 'prod', { holder: 'slow' });

      await expect(attempt).rejects.toBeInstanceOf(LockNotHeldError);
      await expect(attempt).rejects.toMatchObject({ holder: 'reconciler' });
      expect((await store.getEnvironmentState(service, 'prod')).lock?.holder).toBe('reconciler');
    });

    it('releases and audits under a fresh key when its audit key is taken, never throwing a raw SDK error', async () => {
      const clock = testClock();
      const service = uniqueName('web');
      await newStore(dynamo, clock).acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });
      clock.advance(1);
      await rivalTwin(clock, service);
      const store = newStore(dynamo, clock, scriptedIds('twin'));

      const release = await store.releaseLock(service, 'prod', { holder: 'deploy-1' });

      expect(release).toMatchObject({ outcome: 'released' });
      expect((await store.getEnvironmentState(service, 'prod')).lock).toBeUndefined();
      const releases = (await allAudit(store, { service })).filter(
        (entry) => entry.action === 'lock.release',
      );
      expect(releases).toEqual([expect.objectContaining({ actor: 'deploy-1' })]);
    });

    it('keeps the lock released and says so with AuditMissingError when its audit entry cannot be written', async () => {
      const service = uniqueName('web');
      await newStore(dynamo).acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });

      const attempt = storeWithFailingAudit().releaseLock(service, 'prod', { holder: 'deploy-1' });

      await expect(attempt).rejects.toBeInstanceOf(AuditMissingError);
      await expect(attempt).rejects.toMatchObject({
        result: { outcome: 'released' },
        entry: { action: 'lock.release' },
      });
      expect((await newStore(dynamo).getEnvironmentState(service, 'prod')).lock).toBeUndefined();
    });
  });
});

describe('KilnStore environment state', () => {
  describe('getEnvironmentState', () => {
    it('returns version 0 and no fields for an environment never written', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');

      expect(await store.getEnvironmentState(service, 'prod')).toEqual({
        service,
        environment: 'prod',
        version: 0,
      });
    });
  });

  describe('updateEnvironmentState', () => {
    it('applies a patch at the expected version and bumps the version', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');

      const state = await store.updateEnvironmentState(
        service,
        'prod',
        {
          currentRelease: '1.0.0',
          launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 },
          capacity: { min: 1, max: 4, desired: 2 },
        },
        0,
      );

      expect(state).toMatchObject({
        service,
        environment: 'prod',
        currentRelease: '1.0.0',
        launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 },
        capacity: { min: 1, max: 4, desired: 2 },
        version: 1,
      });
    });

    it('rejects a stale expected version with StaleVersionError and changes nothing', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.updateEnvironmentState(service, 'prod', { currentRelease: '1.0.0' }, 0);
      await store.updateEnvironmentState(
        service,
        'prod',
        { currentRelease: '1.1.0', previousRelease: '1.0.0' },
        1,
      );
      const before = await store.getEnvironmentState(service, 'prod');

      const attempt = store.updateEnvironmentState(service, 'prod', { currentRelease: '0.9.0' }, 1);

      await expect(attempt).rejects.toBeInstanceOf(StaleVersionError);
      await expect(attempt).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      expect(await store.getEnvironmentState(service, 'prod')).toEqual(before);
    });

    it('keeps the lock when state is updated after the lock was taken', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      const lock = await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 60_000 });
      const { version } = await store.getEnvironmentState(service, 'prod');

      const state = await store.updateEnvironmentState(service, 'prod', { currentRelease: '2.0.0' }, version);

      expect(version).toBe(0);
      expect(state.lock).toEqual(lock);
      expect(state.version).toBe(1);
    });

    it('removes a field patched with null', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.updateEnvironmentState(
        service,
        'prod',
        { currentRelease: '1.0.0', previousRelease: '0.9.0' },
        0,
      );

      const state = await store.updateEnvironmentState(service, 'prod', { previousRelease: null }, 1);

      expect(state.previousRelease).toBeUndefined();
      expect(state.currentRelease).toBe('1.0.0');
    });

    it('requires the named lock holder’s unexpired lease when lockHolder is given', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'deploy-1', leaseMs: 1000 });
      clock.advance(1000);

      const attempt = store.updateEnvironmentState(service, 'prod', { currentRelease: '3.0.0' }, 0, {
        lockHolder: 'deploy-1',
      });

      await expect(attempt).rejects.toBeInstanceOf(LockNotHeldError);
      expect((await store.getEnvironmentState(service, 'prod')).currentRelease).toBeUndefined();
    });

    it('rejects capacity with desired above max, naming the field', async () => {
      const store = newStore(dynamo);

      await expect(
        store.updateEnvironmentState(
          uniqueName('web'),
          'prod',
          { capacity: { min: 1, max: 2, desired: 3 } },
          0,
        ),
      ).rejects.toThrow(/capacity: must satisfy min <= desired <= max/);
    });

    it('rejects a patch that tries to set the lock', async () => {
      const store = newStore(dynamo);
      const patch = JSON.parse('{"lock":{"holder":"me"}}') as Record<string, unknown>;

      await expect(store.updateEnvironmentState(uniqueName('web'), 'prod', patch, 0)).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    });
  });
});
