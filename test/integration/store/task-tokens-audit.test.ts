import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidInputError } from '../../../shared/runtime/errors';
import type { TaskToken } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { newStore, releaseFixture, testClock, uniqueName, T0 } from './helpers';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

function tokenFixture(key: string, expiresAt = T0 + 3_600_000): TaskToken {
  return { waitKind: 'refresh', key, token: `token-for-${key}`, deploymentId: 'd-1', expiresAt };
}

describe('KilnStore task tokens', () => {
  describe('takeTaskToken', () => {
    it('returns the stored token once and nothing the second time', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('refresh');
      await store.putTaskToken(tokenFixture(key));

      expect(await store.takeTaskToken('refresh', key)).toEqual(tokenFixture(key));
      expect(await store.takeTaskToken('refresh', key)).toBeUndefined();
    });

    it('hands the token to exactly one of two concurrent takers', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('refresh');
      await store.putTaskToken(tokenFixture(key));

      const taken = await Promise.all([
        store.takeTaskToken('refresh', key),
        store.takeTaskToken('refresh', key),
      ]);

      expect(taken.filter((t) => t !== undefined)).toHaveLength(1);
    });

    it('keys tokens by wait kind as well as key', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('id');
      await store.putTaskToken({ ...tokenFixture(key), waitKind: 'image' });

      expect(await store.takeTaskToken('command', key)).toBeUndefined();
      expect(await store.takeTaskToken('image', key)).toMatchObject({ waitKind: 'image' });
    });

    it('rejects an unknown wait kind naming the field', async () => {
      const store = newStore(dynamo);

      // @ts-expect-error — not a wait kind; refused at run time too.
      await expect(store.takeTaskToken('sleep', 'k')).rejects.toThrow(/waitKind/);
    });
  });

  describe('putTaskToken', () => {
    it('replaces the token of a task that waits again under the same key', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('refresh');
      await store.putTaskToken(tokenFixture(key));

      await store.putTaskToken({ ...tokenFixture(key), token: 'newer' });

      expect(await store.takeTaskToken('refresh', key)).toMatchObject({ token: 'newer' });
    });

    it('writes a ttl in epoch seconds a day after the deadline', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('refresh');
      await store.putTaskToken(tokenFixture(key, T0 + 1500));

      const raw = await dynamo.client.send(
        new GetCommand({ TableName: dynamo.tableName, Key: { PK: `TOKEN#refresh#${key}`, SK: '#TOKEN' } }),
      );

      expect(raw.Item?.ttl).toBe(Math.ceil((T0 + 1500) / 1000) + 86_400);
    });

    it('rejects a token without a deployment id', async () => {
      const store = newStore(dynamo);

      await expect(store.putTaskToken({ ...tokenFixture('k'), deploymentId: '' })).rejects.toThrow(
        /deploymentId/,
      );
    });
  });

  describe('listTaskTokens', () => {
    it('lists waiting tasks soonest deadline first, optionally only overdue ones or one kind', async () => {
      const table = await dynamo.createTable();
      const store = newStore({ ...dynamo, tableName: table });
      await store.putTaskToken(tokenFixture('late', T0 + 30_000));
      await store.putTaskToken(tokenFixture('soon', T0 + 10_000));
      await store.putTaskToken({ ...tokenFixture('img', T0 + 20_000), waitKind: 'image' });

      const all = await store.listTaskTokens();
      const overdue = await store.listTaskTokens({ expiringBefore: T0 + 25_000 });
      const refreshes = await store.listTaskTokens({ waitKind: 'refresh' });

      expect(all.items.map((t) => t.key)).toEqual(['soon', 'img', 'late']);
      expect(overdue.items.map((t) => t.key)).toEqual(['soon', 'img']);
      expect(refreshes.items.map((t) => t.key)).toEqual(['soon', 'late']);
    });
  });
});

describe('KilnStore audit', () => {
  describe('entries written by mutations', () => {
    it('records lock, state, deployment and release changes under the service, newest first', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.putServiceManifest({ name: service }, { actor: 'cli:alice' });
      clock.advance(1);
      await store.putRelease(releaseFixture(service, '1.0.0'), { actor: 'bake' });
      clock.advance(1);
      await store.createDeployment({
        id: `${service}-d1`,
        service,
        releaseVersion: '1.0.0',
        environments: ['prod'],
        trigger: 'cli',
        actor: 'cli:alice',
      });
      clock.advance(1);
      await store.acquireLock(service, 'prod', { holder: `${service}-d1`, leaseMs: 60_000 });
      clock.advance(1);
      await store.updateEnvironmentState(service, 'prod', { currentRelease: '1.0.0' }, 0, {
        lockHolder: `${service}-d1`,
      });
      clock.advance(1);
      await store.updateDeployment(`${service}-d1`, { status: 'rolling-out', reason: 'release baked' }, 1);
      clock.advance(1);
      await store.releaseLock(service, 'prod', { holder: `${service}-d1` });

      const { items } = await store.listAudit({ service });

      expect(items.map((entry) => [entry.action, entry.actor])).toEqual([
        ['lock.release', `${service}-d1`],
        ['deployment.update', 'cli:alice'],
        ['environment.update', `${service}-d1`],
        ['lock.acquire', `${service}-d1`],
        ['deployment.create', 'cli:alice'],
        ['release.create', 'bake'],
        ['service.apply', 'cli:alice'],
      ]);
      expect(items[2]).toMatchObject({
        target: `environment:${service}/prod`,
        before: { version: 0 },
        after: { version: 1, currentRelease: '1.0.0' },
      });
    });

    it('writes nothing to the audit when a write is refused', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.acquireLock(service, 'prod', { holder: 'a', leaseMs: 60_000 });

      await expect(store.acquireLock(service, 'prod', { holder: 'b', leaseMs: 60_000 })).rejects.toThrow();

      expect((await store.listAudit({ service })).items.map((e) => e.actor)).toEqual(['a']);
    });

    it('records an idempotent repeat only once', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.putRelease(releaseFixture(service, '1.0.0'), { actor: 'bake' });
      await store.putRelease(releaseFixture(service, '1.0.0'), { actor: 'bake' });

      expect((await store.listAudit({ target: `release:${service}@1.0.0` })).items).toHaveLength(1);
    });
  });

  describe('audit and listAudit', () => {
    it('pages a target’s entries newest first, keeping entries of the same millisecond apart', async () => {
      const store = newStore(dynamo);
      const target = `deployment:${uniqueName('d')}`;
      for (let i = 0; i < 5; i++) await store.audit({ actor: 'chatops:bob', action: `approve-${i}`, target });

      const first = await store.listAudit({ target }, { limit: 3 });
      const second = await store.listAudit({ target }, { limit: 3, cursor: first.cursor });

      expect([...first.items, ...second.items].map((e) => e.action)).toEqual([
        'approve-4',
        'approve-3',
        'approve-2',
        'approve-1',
        'approve-0',
      ]);
      expect(first.items[0]?.at).toBe(new Date(T0).toISOString());
    });

    it('rejects an entry without an actor naming the field', async () => {
      const store = newStore(dynamo);

      const attempt = store.audit({ actor: '', action: 'x', target: 'service:x' });

      await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      await expect(attempt).rejects.toThrow(/actor/);
    });
  });
});
