import { AuditMissingError, type KilnStore } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import {
  allAudit,
  faultyClient,
  isAuditWrite,
  newStore,
  releaseFixture,
  scriptedIds,
  testClock,
  uniqueName,
  type TestManifest,
  type WriteFacts,
} from './helpers';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

function storeOn(fault: Parameters<typeof faultyClient>[1]): KilnStore<TestManifest> {
  return newStore({ ...dynamo, client: faultyClient(dynamo, fault) });
}

const deploymentOf = (service: string) => ({
  id: `${service}-d1`,
  service,
  releaseVersion: '1.0.0',
  environments: ['prod'],
  trigger: 'cli' as const,
  actor: 'cli:alice',
});

/** Each change the store audits: how to set it up, make it, and read back that it stood. */
const changes: Array<{
  change: string;
  action: string;
  prepare?: (store: KilnStore<TestManifest>, service: string) => Promise<unknown>;
  make: (store: KilnStore<TestManifest>, service: string) => Promise<unknown>;
  stood: (store: KilnStore<TestManifest>, service: string) => Promise<unknown>;
}> = [
  {
    change: 'putServiceManifest',
    action: 'service.apply',
    make: (store, service) => store.putServiceManifest({ name: service }, { actor: 'cli:alice' }),
    stood: async (store, service) => (await store.getService(service))?.version === 1,
  },
  {
    change: 'recordArtifact',
    action: 'artifact.record',
    make: (store, service) =>
      store.recordArtifact(
        { service, version: '1.0.0', uri: 's3://bucket-a/b', digest: 'sha256:1', sourceKind: 's3' },
        { actor: 'event:s3' },
      ),
    stood: async (store, service) => (await store.listArtifacts(service)).items.length === 1,
  },
  {
    change: 'putRelease',
    action: 'release.create',
    make: (store, service) => store.putRelease(releaseFixture(service, '1.0.0'), { actor: 'bake' }),
    stood: async (store, service) => (await store.getRelease(service, '1.0.0')) !== undefined,
  },
  {
    change: 'createDeployment',
    action: 'deployment.create',
    make: (store, service) => store.createDeployment(deploymentOf(service)),
    stood: async (store, service) => (await store.getDeployment(`${service}-d1`))?.version === 1,
  },
  {
    change: 'updateDeployment',
    action: 'deployment.update',
    prepare: (store, service) => store.createDeployment(deploymentOf(service)),
    make: (store, service) => store.updateDeployment(`${service}-d1`, { status: 'running' }, 1),
    stood: async (store, service) => (await store.getDeployment(`${service}-d1`))?.status === 'running',
  },
  {
    change: 'appendStep',
    action: 'deployment.step',
    prepare: (store, service) => store.createDeployment(deploymentOf(service)),
    make: (store, service) => store.appendStep(`${service}-d1`, { name: 'bake', status: 'running' }),
    stood: async (store, service) => (await store.getDeployment(`${service}-d1`))?.steps.length === 1,
  },
  {
    change: 'updateEnvironmentState',
    action: 'environment.update',
    make: (store, service) => store.updateEnvironmentState(service, 'prod', { currentRelease: '1.0.0' }, 0),
    stood: async (store, service) =>
      (await store.getEnvironmentState(service, 'prod')).currentRelease === '1.0.0',
  },
];

describe('KilnStore audit outcomes', () => {
  describe('when the audit write fails after the change was made', () => {
    it.each(changes)(
      '$change keeps its change and throws AuditMissingError naming $action',
      async ({ action, prepare, make, stood }) => {
        const service = uniqueName('svc');
        const healthy = newStore(dynamo);
        await prepare?.(healthy, service);
        const failing = storeOn({ mode: 'fail', when: isAuditWrite });

        const error = await make(failing, service).catch((e: unknown) => e);

        expect(error).toBeInstanceOf(AuditMissingError);
        expect(error).toMatchObject({
          name: 'AuditMissingError',
          entry: { action },
          message: expect.stringContaining('was made') as string,
        });
        expect((error as AuditMissingError).result).toBeDefined();
        expect(await stood(healthy, service)).toBe(true);
      },
    );

    it('audit() itself throws AuditMissingError carrying the entry it could not write', async () => {
      const target = `deployment:${uniqueName('d')}`;

      const attempt = storeOn({ mode: 'fail', when: isAuditWrite }).audit({
        actor: 'chatops:bob',
        action: 'approve',
        target,
      });

      await expect(attempt).rejects.toBeInstanceOf(AuditMissingError);
      await expect(attempt).rejects.toMatchObject({ entry: { action: 'approve', target } });
    });

    it('gives up with AuditMissingError, not a raw SDK error, when every fresh key is taken too', async () => {
      const clock = testClock();
      const target = `deployment:${uniqueName('d')}`;
      // A broken id source: every writer draws the same id, so every key it tries is taken.
      const stuck = { next: () => 'stuck' };
      for (let i = 0; i < 5; i++) {
        await newStore(dynamo, clock, stuck).audit({ actor: 'x', action: `earlier-${i}`, target });
      }

      const attempt = newStore(dynamo, clock, stuck).audit({ actor: 'x', action: 'late', target });

      await expect(attempt).rejects.toBeInstanceOf(AuditMissingError);
      await expect(attempt).rejects.toThrow(/audit key/);
    });
  });

  describe('when the SDK re-sends a write whose response was lost', () => {
    const deploymentUpdate = (write: WriteFacts) =>
      write.operation === 'UpdateItemCommand' && write.partitionKey?.startsWith('DEPLOYMENT#') === true;

    it('writes the audit entry once', async () => {
      const target = `deployment:${uniqueName('d')}`;
      const store = storeOn({ mode: 'lose-response', when: isAuditWrite, times: 1 });

      await store.audit({ actor: 'chatops:bob', action: 'approve', target });

      expect((await allAudit(store, { target })).map((entry) => entry.action)).toEqual(['approve']);
    });

    it('appends the step once and audits it once', async () => {
      const service = uniqueName('svc');
      await newStore(dynamo).createDeployment(deploymentOf(service));
      const store = storeOn({ mode: 'lose-response', when: deploymentUpdate, times: 1 });

      const after = await store.appendStep(`${service}-d1`, { name: 'bake', status: 'running' });

      expect(after.steps.map((step) => step.name)).toEqual(['bake']);
      expect((await store.getDeployment(`${service}-d1`))?.steps.map((step) => step.name)).toEqual(['bake']);
      const steps = (await allAudit(store, { service })).filter(
        (entry) => entry.action === 'deployment.step',
      );
      expect(steps).toHaveLength(1);
    });
  });

  describe('writer ids', () => {
    it('draws one writer id per store instance, not one per entry', async () => {
      const drawn: string[] = [];
      const ids = scriptedIds('only');
      const store = newStore(dynamo, testClock(), {
        next: () => {
          const id = ids.next();
          drawn.push(id);
          return id;
        },
      });
      const target = `deployment:${uniqueName('d')}`;

      for (let i = 0; i < 3; i++) await store.audit({ actor: 'x', action: `a-${i}`, target });

      expect(drawn).toEqual(['only']);
    });

    it('draws no writer id for a store that only reads', async () => {
      let draws = 0;
      const store = newStore(dynamo, testClock(), { next: () => `reader-${++draws}` });

      await store.listAudit({ target: `deployment:${uniqueName('d')}` });

      expect(draws).toBe(0);
    });
  });
});
