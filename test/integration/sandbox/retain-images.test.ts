/**
 * Image retention in a whole sandbox region: the daily schedule from serverless.yml fires the
 * retain-images function on the virtual clock, which reads Kiln's records, asks the sandbox's EC2
 * and deprecates, then deregisters, through the real adapter and SDK client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Ec2Bake } from '../../../shared/aws/ec2';
import { lineageTags } from '../../../shared/domain/lineage';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../shared/store';
import { retainImages, type RetentionEc2 } from '../../../shared/usecases/retain-images';
import { createRegion, type Region } from '../../../sandbox/region';
import { sleep } from '../../../sandbox/stories/fleet';

const DAY_SECONDS = 86_400;

function checkout(retention: { keepReleases: number; graceDays: number }): ServiceManifest {
  const manifest = parseYaml(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as {
    bake: Record<string, unknown>;
  };
  manifest.bake.retention = retention;
  return parseManifest(manifest);
}

interface World {
  region: Region;
  store: KilnStore<ServiceManifest>;
  /** Version → its AMI in us-east-1. */
  amis: Record<string, string>;
  /** 1.1.0's copy in us-west-2 (the release names both Regions). */
  westCopy: string;
  foreign: string;
}

/**
 * checkout with releases 1.0.0 … 1.3.0 (one a minute), each with a Kiln-tagged AMI, and 0.9.0,
 * whose recorded AMI carries no Kiln tags; production runs 1.2.0 and would roll back to 1.0.0. With
 * keepReleases 2, only 1.1.0 is Kiln's to retire.
 */
async function seed(region: Region, store: KilnStore<ServiceManifest>): Promise<World> {
  const manifest = checkout({ keepReleases: 2, graceDays: 1 });
  await store.putServiceManifest(manifest, { actor: 'test' });
  const foreign = region.ec2.seedImage({ name: 'hand-made-0.9.0', tags: { Name: 'hand-made' } });
  const amis: Record<string, string> = {};
  const base = region.ec2.seedImage({ name: 'al2023', ownerAlias: 'amazon' });
  const west = region.ec2In.get('us-west-2');
  if (!west) throw new Error('the sandbox should simulate us-west-2 as a copy Region');
  const lineageOf = (version: string) =>
    lineageTags({
      service: 'checkout',
      version,
      digest: `sha256:${version}`,
      recipeHash: 'r1',
      baseAmi: base,
      deployment: `d-${version}`,
    });
  const westCopy = west.seedImage({ name: 'kiln-checkout-1.1.0', tags: lineageOf('1.1.0') });
  for (const version of ['0.9.0', '1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
    const imageId =
      version === '0.9.0'
        ? foreign
        : region.ec2.seedImage({ name: `kiln-checkout-${version}`, tags: lineageOf(version) });
    amis[version] = imageId;
    await store.putRelease(
      {
        service: 'checkout',
        version,
        amis:
          version === '1.1.0' ? { 'us-east-1': imageId, 'us-west-2': westCopy } : { 'us-east-1': imageId },
        artifact: {
          uri: `s3://acme-artifacts-123456789012/checkout/checkout-${version}.tar.gz`,
          digest: `sha256:${'a'.repeat(64)}`,
        },
        recipeHash: 'r1',
        baseAmiId: base,
      },
      { actor: 'test' },
    );
    await sleep(60);
  }
  await store.updateEnvironmentState(
    'checkout',
    'production',
    { currentRelease: '1.2.0', previousRelease: '1.0.0' },
    0,
  );
  return { region, store, amis, westCopy, foreign };
}

async function withWorld(test: (world: World) => Promise<void>): Promise<void> {
  // Days of virtual time: the per-minute reconciler would add thousands of calls and nothing this
  // test looks at, so its schedule finds a function that does nothing here.
  const region = await createRegion({
    seed: 11,
    functions: { reconcile: async () => async () => ({ reconciled: 'not in this test' }) },
  });
  try {
    await region.engine.run(async () => {
      const store = new KilnStore<ServiceManifest>({
        client: region.clientsFor('test').doc,
        tableName: region.tableName,
        ids: region.engine.kilnIds,
      });
      await test(await seed(region, store));
    });
  } finally {
    await region.dispose();
  }
}

async function image(world: World, imageId: string) {
  const output = await world.region.ec2.images.describeImages({ Owners: ['self'] });
  return output.Images?.find((i) => i.ImageId === imageId);
}

describe('image retention in the sandbox', () => {
  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });

  it('retires a release in every Region it names: the copy in us-west-2 too', async () => {
    await withWorld(async (world) => {
      await sleep(DAY_SECONDS);
      const west = world.region.ec2In.get('us-west-2');
      const copy = (await west?.images.describeImages({ Owners: ['self'] }))?.Images?.find(
        (i) => i.ImageId === world.westCopy,
      );
      expect(copy?.DeprecationTime).toBeDefined();
      const entries = await world.store.listAudit({ target: `image:us-west-2/${world.westCopy}` });
      expect(entries.items.map((e) => e.action)).toEqual(['image.deprecate']);
    });
  });

  it('deprecates on the first daily run, waits out the grace period, then deregisters; never touches an untagged or kept image', async () => {
    await withWorld(async (world) => {
      await sleep(DAY_SECONDS);
      const retired = await image(world, world.amis['1.1.0'] ?? '');
      expect(retired?.DeprecationTime).toBeDefined();
      for (const version of ['1.0.0', '1.2.0', '1.3.0'])
        expect((await image(world, world.amis[version] ?? ''))?.DeprecationTime).toBeUndefined();
      const entries = await world.store.listAudit({ target: `image:us-east-1/${world.amis['1.1.0']}` });
      expect(entries.items).toEqual([
        expect.objectContaining({
          actor: 'kiln:retention',
          action: 'image.deprecate',
          service: 'checkout',
          before: { deprecationTime: null },
          after: { deprecationTime: retired?.DeprecationTime, version: '1.1.0' },
        }),
      ]);

      // The second run falls inside the 1-day grace period (deprecated a minute after the first).
      await sleep(DAY_SECONDS);
      expect(await image(world, world.amis['1.1.0'] ?? '')).toBeDefined();

      await sleep(DAY_SECONDS);
      expect(await image(world, world.amis['1.1.0'] ?? '')).toBeUndefined();
      const after = await world.store.listAudit({ target: `image:us-east-1/${world.amis['1.1.0']}` });
      expect(after.items.map((e) => e.action)).toEqual(['image.deregister', 'image.deprecate']);
      expect(await image(world, world.foreign)).toMatchObject({ ImageId: world.foreign });
      expect((await image(world, world.foreign))?.DeprecationTime).toBeUndefined();
    });
  });

  it('finishes on a rerun what a run cut short left undone, and counts an image already gone as done', async () => {
    await withWorld(async (world) => {
      // Keep one release only: 1.3.0 stays, production holds 1.2.0 and 1.0.0, so only 1.1.0 retires.
      const manifest = checkout({ keepReleases: 1, graceDays: 1 });
      await world.store.putServiceManifest(manifest, { actor: 'test' });
      const adapter = new Ec2Bake(world.region.clientsFor('test').ec2);
      let failNext = true;
      const flaky: RetentionEc2 = {
        describeOwnImages: (ids) => adapter.describeOwnImages(ids),
        deprecateImage: (id, at) => {
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error('the run was cut short'));
          }
          return adapter.deprecateImage(id, at);
        },
        cancelImageDeprecation: (id) => adapter.cancelImageDeprecation(id),
        deregisterImageAndSnapshots: (id) => adapter.deregisterImageAndSnapshots(id),
      };
      const first = await retainImages({ store: world.store, ec2For: () => flaky, now: Date.now });
      expect(first.failures).toHaveLength(1);
      expect(first.acted).toHaveLength(0);
      const second = await retainImages({ store: world.store, ec2For: () => adapter, now: Date.now });
      expect(second.failures).toEqual([]);
      expect(second.acted.map((a) => [a.action.kind, a.action.version, a.outcome])).toEqual([
        ['deprecate', '1.1.0', 'done'],
      ]);
      // Someone deregisters it by hand before the grace period ends: the next runs find it gone.
      await world.region.ec2.images.deregisterImage({ ImageId: world.amis['1.1.0'] ?? '' });
      await sleep(2 * DAY_SECONDS);
      const third = await retainImages({ store: world.store, ec2For: () => adapter, now: Date.now });
      expect(third.failures).toEqual([]);
      expect(third.services[0]?.plan.gone.map((g) => g.version)).toContain('1.1.0');
    });
  });

  describe('the EC2 adapter', () => {
    it('answers already-gone for an image that no longer exists, instead of failing', async () => {
      await withWorld(async (world) => {
        const adapter = new Ec2Bake(world.region.clientsFor('test').ec2);
        const missing = 'ami-0123456789abcdef0';
        expect(await adapter.deprecateImage(missing, Date.now() + 60_000)).toBe('already-gone');
        expect(await adapter.cancelImageDeprecation(missing)).toBe('already-gone');
        expect(await adapter.deregisterImageAndSnapshots(missing)).toEqual({
          change: 'already-gone',
          snapshots: [],
        });
        expect(await adapter.describeOwnImages([missing, world.amis['1.0.0'] ?? ''])).toEqual([
          expect.objectContaining({ imageId: world.amis['1.0.0'], state: 'available' }),
        ]);
      });
    });
  });
});
