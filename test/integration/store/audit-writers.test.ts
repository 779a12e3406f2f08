import fc from 'fast-check';
import { KilnError } from '../../../shared/runtime/errors';
import { LockHeldError, StaleVersionError, type KilnStore } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import {
  allAudit,
  newStore,
  releaseFixture,
  sequenceIds,
  testClock,
  uniqueName,
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

/** `count` store instances on one table and one frozen clock: Lambda containers in one millisecond. */
function writers(count: number, clock: TestClock, table = dynamo.tableName): KilnStore<TestManifest>[] {
  const ids = sequenceIds('container');
  return Array.from({ length: count }, () => newStore({ ...dynamo, tableName: table }, clock, ids));
}

function rejections(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
}

describe('KilnStore audit with many writers', () => {
  describe('at one frozen instant', () => {
    it('writes one audit entry per step when 20 store instances append to one deployment', async () => {
      const clock = testClock();
      const stores = writers(20, clock);
      const [first] = stores as [KilnStore<TestManifest>];
      const service = uniqueName('web');
      const id = `${service}-d1`;
      await first.createDeployment({
        id,
        service,
        releaseVersion: '1.0.0',
        environments: ['prod'],
        trigger: 'cli',
        actor: 'cli:alice',
      });

      const results = await Promise.allSettled(
        stores.map((store, i) => store.appendStep(id, { name: `step-${i}`, status: 'running' })),
      );

      expect(rejections(results)).toEqual([]);
      const steps = (await first.getDeployment(id))?.steps.map((step) => step.name);
      const audited = (await allAudit(first, { target: `deployment:${id}` }))
        .filter((entry) => entry.action === 'deployment.step')
        .map((entry) => (entry.after as { name: string }).name);
      expect(steps).toHaveLength(20);
      expect([...audited].sort()).toEqual([...(steps ?? [])].sort());
    });

    it('writes one audit entry per manifest when 20 store instances apply 20 services', async () => {
      const clock = testClock();
      const stores = writers(20, clock);
      const team = uniqueName('team');

      const results = await Promise.allSettled(
        stores.map((store, i) =>
          store.putServiceManifest({ name: `${team}-svc-${i}`, team }, { actor: 'cli:alice' }),
        ),
      );

      expect(rejections(results)).toEqual([]);
      const [first] = stores as [KilnStore<TestManifest>];
      for (let i = 0; i < 20; i++) {
        const entries = await allAudit(first, { service: `${team}-svc-${i}` });
        expect(entries.map((entry) => entry.action)).toEqual(['service.apply']);
      }
    });

    it('lists entries of different writers newest first and pages through all of them', async () => {
      const clock = testClock();
      const [a, b] = writers(2, clock) as [KilnStore<TestManifest>, KilnStore<TestManifest>];
      const target = `deployment:${uniqueName('d')}`;
      for (let i = 0; i < 6; i++) {
        await (i % 2 === 0 ? a : b).audit({ actor: 'chatops:bob', action: `note-${i}`, target });
        clock.advance(1);
      }

      const entries = await allAudit(a, { target }, 4);

      expect(entries.map((entry) => entry.action)).toEqual([
        'note-5',
        'note-4',
        'note-3',
        'note-2',
        'note-1',
        'note-0',
      ]);
    });
  });

  describe('N writers × M operations at one frozen instant (property)', () => {
    type Operation = 'step' | 'reason' | 'lock-cycle' | 'environment' | 'artifact' | 'note';
    const operation = fc.constantFrom<Operation>(
      'step',
      'reason',
      'lock-cycle',
      'environment',
      'artifact',
      'note',
    );

    /** Counts, per audit action, the changes that were made; refusals must be Kiln's named errors. */
    async function perform(
      store: KilnStore<TestManifest>,
      who: string,
      op: Operation,
      ctx: { service: string; deploymentId: string; made: Map<string, number>; serial: () => number },
    ): Promise<void> {
      const made = (action: string) => ctx.made.set(action, (ctx.made.get(action) ?? 0) + 1);
      const refusedAsExpected = (error: unknown) =>
        error instanceof StaleVersionError || error instanceof LockHeldError;
      try {
        switch (op) {
          case 'step':
            await store.appendStep(ctx.deploymentId, { name: `${who}-${ctx.serial()}`, status: 'running' });
            made('deployment.step');
            return;
          case 'reason': {
            const current = await store.getDeployment(ctx.deploymentId);
            await store.updateDeployment(
              ctx.deploymentId,
              { reason: `reason-${ctx.serial()}` },
              current?.version ?? 0,
            );
            made('deployment.update');
            return;
          }
          case 'lock-cycle': {
            await store.acquireLock(ctx.service, 'prod', { holder: who, leaseMs: 60_000 });
            made('lock.acquire');
            const release = await store.releaseLock(ctx.service, 'prod', { holder: who });
            expect(release.outcome).toBe('released');
            made('lock.release');
            return;
          }
          case 'environment': {
            const { version } = await store.getEnvironmentState(ctx.service, 'prod');
            await store.updateEnvironmentState(
              ctx.service,
              'prod',
              { currentRelease: `1.0.${ctx.serial()}` },
              version,
            );
            made('environment.update');
            return;
          }
          case 'artifact': {
            const { artifact } = releaseFixture(ctx.service, '1.0.0');
            const created = await store.recordArtifact(
              {
                service: ctx.service,
                version: `2.0.${ctx.serial()}`,
                uri: artifact.uri,
                digest: artifact.digest,
                sourceKind: 's3',
              },
              { actor: who },
            );
            expect(created.created).toBe(true);
            made('artifact.record');
            return;
          }
          case 'note':
            await store.audit({
              actor: who,
              action: 'note',
              target: `service:${ctx.service}`,
              service: ctx.service,
            });
            made('note');
            return;
        }
      } catch (error) {
        if (!refusedAsExpected(error)) throw error;
      }
    }

    it('writes exactly one audit entry per change and lets only named Kiln errors out', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(operation, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 8 }),
          async (plans) => {
            const table = await dynamo.createTable();
            const clock = testClock();
            const stores = writers(plans.length, clock, table);
            const [first] = stores as [KilnStore<TestManifest>];
            const service = uniqueName('prop');
            const deploymentId = `${service}-d1`;
            await first.createDeployment({
              id: deploymentId,
              service,
              releaseVersion: '1.0.0',
              environments: ['prod'],
              trigger: 'cli',
              actor: 'cli:alice',
            });
            let serial = 0;
            const ctx = {
              service,
              deploymentId,
              made: new Map([['deployment.create', 1]]),
              serial: () => ++serial,
            };

            const results = await Promise.allSettled(
              stores.map(async (store, i) => {
                for (const op of plans[i] ?? []) await perform(store, `writer-${i}`, op, ctx);
              }),
            );

            const escaped = rejections(results).map((error) =>
              error instanceof KilnError ? `${error.name}: ${error.message}` : `raw ${String(error)}`,
            );
            expect(escaped).toEqual([]);
            const audited = new Map<string, number>();
            for (const entry of await allAudit(first, { service }, 50)) {
              audited.set(entry.action, (audited.get(entry.action) ?? 0) + 1);
            }
            expect(Object.fromEntries(audited)).toEqual(Object.fromEntries(ctx.made));
          },
        ),
        { numRuns: 10 },
      );
    });
  });
});
