import {
  ConflictError,
  IllegalTransitionError,
  NotFoundError,
  StaleStatusError,
  StaleVersionError,
} from '../../../shared/store';
import type { DeploymentInput, KilnStore } from '../../../shared/store';
import { InvalidInputError } from '../../../shared/runtime/errors';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { newStore, testClock, uniqueName, T0, type TestClock, type TestManifest } from './helpers';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

function deploymentFixture(service: string, id: string, environments = ['staging', 'prod']): DeploymentInput {
  return { id, service, releaseVersion: '1.2.3', environments, trigger: 'artifact', actor: 'ci:github' };
}

/** Creates `count` deployments one second apart: d-0 is the oldest. */
async function createMany(
  store: KilnStore<TestManifest>,
  clock: TestClock,
  service: string,
  count: number,
  environmentsOf: (i: number) => string[] = () => ['prod'],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${service}-d-${String(i).padStart(2, '0')}`;
    await store.createDeployment(deploymentFixture(service, id, environmentsOf(i)));
    ids.push(id);
    clock.advance(1000);
  }
  return ids;
}

describe('KilnStore deployments', () => {
  describe('createDeployment', () => {
    it('stores a queued deployment at version 1 with no steps', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');

      const created = await store.createDeployment(deploymentFixture(service, `${service}-1`));

      expect(created).toEqual({
        ...deploymentFixture(service, `${service}-1`),
        status: 'queued',
        steps: [],
        createdAt: new Date(T0).toISOString(),
        updatedAt: new Date(T0).toISOString(),
        version: 1,
      });
      expect(await store.getDeployment(`${service}-1`)).toEqual(created);
    });

    it('returns the stored record when the same deployment is created twice', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('api');
      const first = await store.createDeployment(deploymentFixture(service, `${service}-1`));
      clock.advance(5000);

      const second = await store.createDeployment(deploymentFixture(service, `${service}-1`));

      expect(second).toEqual(first);
    });

    it('rejects the same id for a different deployment with ConflictError', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));

      await expect(
        store.createDeployment({ ...deploymentFixture(service, `${service}-1`), releaseVersion: '9.9.9' }),
      ).rejects.toBeInstanceOf(ConflictError);
    });

    it('rejects an unknown trigger naming the field', async () => {
      const store = newStore(dynamo);
      const input = { ...deploymentFixture(uniqueName('api'), 'x'), trigger: 'cron' };

      // @ts-expect-error — 'cron' is not a trigger; the store must refuse it at run time too.
      const attempt = store.createDeployment(input);

      await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      await expect(attempt).rejects.toThrow(/trigger/);
    });

    it('rejects an empty environment list naming the field', async () => {
      const store = newStore(dynamo);

      await expect(store.createDeployment(deploymentFixture(uniqueName('api'), 'x', []))).rejects.toThrow(
        /environments: must name at least one environment/,
      );
    });
  });

  describe('updateDeployment', () => {
    it('changes status at the expected version and bumps the version', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      clock.advance(2000);

      const updated = await store.updateDeployment(`${service}-1`, { status: 'baking' }, 1);

      expect(updated).toMatchObject({
        status: 'baking',
        version: 2,
        updatedAt: new Date(T0 + 2000).toISOString(),
      });
    });

    it('rejects a stale version with StaleVersionError and keeps the record', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      await store.updateDeployment(`${service}-1`, { status: 'baking' }, 1);

      const attempt = store.updateDeployment(`${service}-1`, { status: 'aborted', reason: 'late' }, 1);

      await expect(attempt).rejects.toBeInstanceOf(StaleVersionError);
      await expect(attempt).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      expect(await store.getDeployment(`${service}-1`)).toMatchObject({ status: 'baking', version: 2 });
    });

    it('lets exactly one of two writers with the same version win', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));

      const results = await Promise.allSettled([
        store.updateDeployment(`${service}-1`, { status: 'baking' }, 1),
        store.updateDeployment(`${service}-1`, { status: 'aborted' }, 1),
      ]);

      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    });

    it('rejects an update of a deployment that does not exist with NotFoundError', async () => {
      const store = newStore(dynamo);

      await expect(
        store.updateDeployment(uniqueName('missing'), { status: 'baking' }, 1),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    it('rejects an empty patch', async () => {
      const store = newStore(dynamo);

      await expect(store.updateDeployment('d-1', {}, 1)).rejects.toThrow(/must change at least one field/);
    });

    it('refuses a move the domain does not allow with IllegalTransitionError and changes nothing', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));

      const attempt = store.updateDeployment(`${service}-1`, { status: 'succeeded' }, 1);

      await expect(attempt).rejects.toBeInstanceOf(IllegalTransitionError);
      await expect(attempt).rejects.toMatchObject({ from: 'queued', to: 'succeeded' });
      await expect(attempt).rejects.toThrow(/cannot move from queued to succeeded/);
      expect(await store.getDeployment(`${service}-1`)).toMatchObject({ status: 'queued', version: 1 });
    });

    it('refuses any move out of a final status', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      await store.updateDeployment(`${service}-1`, { status: 'superseded' }, 1);

      const attempt = store.updateDeployment(`${service}-1`, { status: 'queued' }, 2);

      await expect(attempt).rejects.toThrow(/cannot move from superseded to queued: superseded is final/);
    });

    it('refuses a status the domain does not know, naming the field', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));

      // @ts-expect-error — 'running' is not a deployment status; the store must refuse it at run time too.
      const attempt = store.updateDeployment(`${service}-1`, { status: 'running' }, 1);

      await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      await expect(attempt).rejects.toThrow(/status/);
    });

    it('changes outcome and reason without a status move', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));

      const updated = await store.updateDeployment(`${service}-1`, { reason: 'waiting for the lock' }, 1);

      expect(updated).toMatchObject({ status: 'queued', reason: 'waiting for the lock', version: 2 });
    });
  });

  describe('moveDeployment', () => {
    it('moves from the status read to the next, whatever the version, and audits the move', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      await store.appendStep(`${service}-1`, { name: 'lock', status: 'succeeded' });

      const moved = await store.moveDeployment(
        `${service}-1`,
        { from: 'queued', to: 'baking', reason: 'lock taken' },
        { actor: 'step:bake' },
      );

      expect(moved).toMatchObject({ status: 'baking', reason: 'lock taken', version: 3 });
      expect(await store.getDeployment(`${service}-1`)).toEqual(moved);
      const audit = await store.listAudit({ target: `deployment:${service}-1` });
      expect(audit.items[0]).toMatchObject({
        action: 'deployment.move',
        actor: 'step:bake',
        before: { status: 'queued' },
        after: { status: 'baking', reason: 'lock taken' },
      });
    });

    it('records an outcome with a final move', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      await store.moveDeployment(`${service}-1`, { from: 'queued', to: 'baking' });

      const moved = await store.moveDeployment(`${service}-1`, {
        from: 'baking',
        to: 'failed',
        outcome: 'bake-failed',
        reason: 'install command exited 1',
      });

      expect(moved).toMatchObject({ status: 'failed', outcome: 'bake-failed' });
    });

    it('refuses an illegal move before writing anything', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));

      const attempt = store.moveDeployment(`${service}-1`, { from: 'queued', to: 'rolled-back' });

      await expect(attempt).rejects.toBeInstanceOf(IllegalTransitionError);
      expect(await store.getDeployment(`${service}-1`)).toMatchObject({ status: 'queued', version: 1 });
      expect((await store.listAudit({ target: `deployment:${service}-1` })).items).toHaveLength(1);
    });

    it('refuses a move from a status the deployment has left with StaleStatusError', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      await store.moveDeployment(`${service}-1`, { from: 'queued', to: 'baking' });

      const attempt = store.moveDeployment(`${service}-1`, { from: 'queued', to: 'superseded' });

      await expect(attempt).rejects.toBeInstanceOf(StaleStatusError);
      await expect(attempt).rejects.toMatchObject({ expectedStatus: 'queued', actualStatus: 'baking' });
      expect(await store.getDeployment(`${service}-1`)).toMatchObject({ status: 'baking' });
    });

    it('lets exactly one of two writers that read the same status move it', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));

      const results = await Promise.allSettled([
        store.moveDeployment(`${service}-1`, { from: 'queued', to: 'baking' }),
        store.moveDeployment(`${service}-1`, { from: 'queued', to: 'superseded' }),
      ]);

      const moved = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.status] : []));
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(moved).toHaveLength(1);
      expect(refused).toEqual([expect.any(StaleStatusError)]);
      expect((await store.getDeployment(`${service}-1`))?.status).toBe(moved[0]);
    });

    it('refuses a move of a deployment that does not exist with NotFoundError', async () => {
      const store = newStore(dynamo);

      await expect(
        store.moveDeployment(uniqueName('missing'), { from: 'queued', to: 'baking' }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('appendStep', () => {
    it('appends steps in order, stamping startedAt from the clock', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      await store.appendStep(`${service}-1`, {
        name: 'bake',
        status: 'succeeded',
        endedAt: new Date(T0 + 1).toISOString(),
      });
      clock.advance(1000);

      const updated = await store.appendStep(`${service}-1`, { name: 'rollout:staging', status: 'running' });

      expect(updated.steps).toEqual([
        {
          name: 'bake',
          status: 'succeeded',
          startedAt: new Date(T0).toISOString(),
          endedAt: new Date(T0 + 1).toISOString(),
        },
        { name: 'rollout:staging', status: 'running', startedAt: new Date(T0 + 1000).toISOString() },
      ]);
      expect(updated.version).toBe(3);
    });

    it('rejects a step at a stale expected version', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('api');
      await store.createDeployment(deploymentFixture(service, `${service}-1`));
      await store.appendStep(`${service}-1`, { name: 'bake', status: 'running' });

      await expect(
        store.appendStep(`${service}-1`, { name: 'gate', status: 'running' }, { expectedVersion: 1 }),
      ).rejects.toBeInstanceOf(StaleVersionError);
    });

    it('rejects a step for a deployment that does not exist', async () => {
      const store = newStore(dynamo);

      await expect(
        store.appendStep(uniqueName('missing'), { name: 'bake', status: 'running' }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('listDeployments', () => {
    it('lists newest first in pages of 10 with an opaque cursor (25 written)', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('api');
      const ids = await createMany(store, clock, service, 25);

      const first = await store.listDeployments(service, { limit: 10 });
      const second = await store.listDeployments(service, { limit: 10, cursor: first.cursor });
      const third = await store.listDeployments(service, { limit: 10, cursor: second.cursor });

      const newestFirst = [...ids].reverse();
      expect(first.items.map((d) => d.id)).toEqual(newestFirst.slice(0, 10));
      expect(second.items.map((d) => d.id)).toEqual(newestFirst.slice(10, 20));
      expect(third.items.map((d) => d.id)).toEqual(newestFirst.slice(20, 25));
      expect(first.cursor).toEqual(expect.any(String));
      expect(third.cursor).toBeUndefined();
    });

    it('keeps only deployments that include the environment, paging across filtered reads', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('api');
      // Every third deployment also goes to prod: 0, 3, 6, …, 39 → 14 of 40.
      const ids = await createMany(store, clock, service, 40, (i) =>
        i % 3 === 0 ? ['staging', 'prod'] : ['staging'],
      );
      const prodNewestFirst = ids.filter((_, i) => i % 3 === 0).reverse();

      const first = await store.listDeployments(service, { environment: 'prod', limit: 10 });
      const second = await store.listDeployments(service, {
        environment: 'prod',
        limit: 10,
        cursor: first.cursor,
      });

      expect(first.items.map((d) => d.id)).toEqual(prodNewestFirst.slice(0, 10));
      expect(second.items.map((d) => d.id)).toEqual(prodNewestFirst.slice(10));
      expect(second.cursor).toBeUndefined();
    });

    it('does not list other services’ deployments', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const mine = uniqueName('api');
      await createMany(store, clock, mine, 2);
      await createMany(store, clock, uniqueName('other'), 2);

      expect((await store.listDeployments(mine)).items.every((d) => d.service === mine)).toBe(true);
    });

    it('rejects a cursor from another service’s listing naming the cursor', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const a = uniqueName('api');
      await createMany(store, clock, a, 3);
      const { cursor } = await store.listDeployments(a, { limit: 1 });

      const attempt = store.listDeployments(uniqueName('api'), { cursor });

      await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      await expect(attempt).rejects.toThrow(/cursor: it belongs to a different listing/);
    });

    it('rejects a garbage cursor', async () => {
      const store = newStore(dynamo);

      await expect(store.listDeployments(uniqueName('api'), { cursor: 'not-a-cursor' })).rejects.toThrow(
        /invalid cursor/,
      );
    });
  });
});
