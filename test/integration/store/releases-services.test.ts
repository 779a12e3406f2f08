import { ConflictError, StaleVersionError } from '../../../shared/store';
import { InvalidInputError } from '../../../shared/runtime/errors';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { newStore, releaseFixture, testClock, uniqueName, T0 } from './helpers';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

describe('KilnStore artifacts', () => {
  function artifactFixture(service: string, version: string, digest = 'sha256:' + 'cd'.repeat(32)) {
    return {
      service,
      version,
      uri: `s3://artifacts/${service}-${version}.tgz`,
      digest,
      sourceKind: 's3' as const,
    };
  }

  describe('recordArtifact', () => {
    it('records a new build once and reports a redelivery as not created', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      const first = await store.recordArtifact(artifactFixture(service, '2.0.0'), { actor: 'event:s3' });
      clock.advance(1000);

      const again = await store.recordArtifact(artifactFixture(service, '2.0.0'), { actor: 'event:s3' });

      expect(first).toEqual({
        created: true,
        artifact: {
          ...artifactFixture(service, '2.0.0'),
          receivedAt: new Date(T0).toISOString(),
          receivedBy: 'event:s3',
        },
      });
      expect(again).toEqual({ created: false, artifact: first.artifact });
      expect((await store.listAudit({ service })).items.map((e) => e.action)).toEqual(['artifact.record']);
    });

    it('records a rebuild of the same version with a new digest as a new artifact', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      await store.recordArtifact(artifactFixture(service, '2.0.0', 'etag-1'), { actor: 'event:s3' });
      clock.advance(1000);

      const rebuilt = await store.recordArtifact(artifactFixture(service, '2.0.0', 'etag-2'), {
        actor: 'event:s3',
      });

      expect(rebuilt.created).toBe(true);
      expect((await store.listArtifacts(service)).items.map((a) => a.digest)).toEqual(['etag-2', 'etag-1']);
    });

    it('rejects an unknown source kind naming the field', async () => {
      const store = newStore(dynamo);
      const input = { ...artifactFixture(uniqueName('web'), '1.0.0'), sourceKind: 'ftp' };

      // @ts-expect-error — not a source kind; refused at run time too.
      await expect(store.recordArtifact(input, { actor: 'x' })).rejects.toThrow(/sourceKind/);
    });

    it('refuses a digest of 512 non-ASCII characters, whose key would exceed DynamoDB’s 1,024-byte sort key, naming the field', async () => {
      const store = newStore(dynamo);
      const input = artifactFixture(uniqueName('web'), '1.0.0', 'é'.repeat(512));

      const refusal = store.recordArtifact(input, { actor: 'x' });

      await expect(refusal).rejects.toThrow(InvalidInputError);
      await expect(refusal).rejects.toThrow(/digest: must be printable ASCII/);
    });

    it.each([
      ['a local file', 'file:///etc/passwd'],
      ['an unbounded length', `https://a.example/${'x'.repeat(2048)}`],
    ])('refuses %s as the URI, naming the field', async (_what, uri) => {
      const store = newStore(dynamo);
      const input = { ...artifactFixture(uniqueName('web'), '1.0.0'), uri };

      await expect(store.recordArtifact(input, { actor: 'x' })).rejects.toThrow(/uri: /);
    });
  });
});

describe('KilnStore releases', () => {
  describe('putRelease', () => {
    it('stores a release with its creation time and creator', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');

      const release = await store.putRelease(releaseFixture(service, '1.0.0'), { actor: 'bake' });

      expect(release).toEqual({
        ...releaseFixture(service, '1.0.0'),
        createdAt: new Date(T0).toISOString(),
        createdBy: 'bake',
      });
      expect(await store.getRelease(service, '1.0.0')).toEqual(release);
    });

    it('succeeds idempotently when the same content is put again, keeping the first record', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      const first = await store.putRelease(releaseFixture(service, '1.0.0'), { actor: 'bake' });
      clock.advance(60_000);
      const reordered = releaseFixture(service, '1.0.0');
      reordered.amis = { 'eu-west-1': 'ami-0fedcba9876543210', 'us-east-1': 'ami-0123456789abcdef0' };

      const second = await store.putRelease(reordered, { actor: 'bake-retry' });

      expect(second).toEqual(first);
    });

    it('rejects different content under the same version with ConflictError naming what differs', async () => {
      const store = newStore(dynamo);
      const service = uniqueName('web');
      await store.putRelease(releaseFixture(service, '1.0.0'), { actor: 'bake' });
      const different = { ...releaseFixture(service, '1.0.0'), recipeHash: 'recipe-2' };

      const attempt = store.putRelease(different, { actor: 'bake' });

      await expect(attempt).rejects.toBeInstanceOf(ConflictError);
      await expect(attempt).rejects.toThrow(/different recipeHash/);
      expect((await store.getRelease(service, '1.0.0'))?.recipeHash).toBe('recipe-1');
    });

    it('rejects a malformed AMI ID naming the region', async () => {
      const store = newStore(dynamo);
      const bad = { ...releaseFixture(uniqueName('web'), '1.0.0'), amis: { 'us-east-1': 'ami-xyz' } };

      const attempt = store.putRelease(bad, { actor: 'bake' });

      await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      await expect(attempt).rejects.toThrow(/amis\.us-east-1: must be an AMI ID/);
    });
  });

  describe('getRelease', () => {
    it('returns undefined for a version never released', async () => {
      const store = newStore(dynamo);

      expect(await store.getRelease(uniqueName('web'), '0.0.1')).toBeUndefined();
    });
  });

  describe('listReleases', () => {
    it('lists a service’s releases newest first', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const service = uniqueName('web');
      for (const version of ['1.0.0', '1.10.0', '1.2.0']) {
        await store.putRelease(releaseFixture(service, version), { actor: 'bake' });
        clock.advance(1000);
      }

      const page = await store.listReleases(service);

      // Creation order, not version-string order: 1.10.0 sorts before 1.2.0 as a string.
      expect(page.items.map((r) => r.version)).toEqual(['1.2.0', '1.10.0', '1.0.0']);
      expect(page.cursor).toBeUndefined();
    });
  });
});

describe('KilnStore services', () => {
  describe('putServiceManifest', () => {
    it('stores the first manifest as version 1', async () => {
      const store = newStore(dynamo);
      const name = uniqueName('svc');

      const record = await store.putServiceManifest({ name, team: 'a' }, { actor: 'cli:alice' });

      expect(record).toMatchObject({
        service: name,
        version: 1,
        manifest: { name, team: 'a' },
        updatedBy: 'cli:alice',
      });
      expect(await store.getService(name)).toEqual(record);
    });

    it('bumps the version on each apply and keeps previous versions readable', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const name = uniqueName('svc');
      await store.putServiceManifest({ name, team: 'a' }, { actor: 'cli:alice' });
      clock.advance(1000);
      await store.putServiceManifest({ name, team: 'b' }, { actor: 'cli:bob', expectedVersion: 1 });

      expect(await store.getService(name)).toMatchObject({
        version: 2,
        manifest: { team: 'b' },
        createdAt: new Date(T0).toISOString(),
      });
      expect(await store.getService(name, { version: 1 })).toMatchObject({
        version: 1,
        manifest: { team: 'a' },
      });
      expect((await store.listServiceVersions(name)).items.map((r) => r.version)).toEqual([2, 1]);
    });

    it('rejects an apply based on a stale version with StaleVersionError', async () => {
      const store = newStore(dynamo);
      const name = uniqueName('svc');
      await store.putServiceManifest({ name, team: 'a' }, { actor: 'x' });
      await store.putServiceManifest({ name, team: 'b' }, { actor: 'y', expectedVersion: 1 });

      const attempt = store.putServiceManifest({ name, team: 'c' }, { actor: 'z', expectedVersion: 1 });

      await expect(attempt).rejects.toBeInstanceOf(StaleVersionError);
      expect((await store.getService(name))?.manifest.team).toBe('b');
    });

    it('rejects creating a service that already exists when expectedVersion is 0', async () => {
      const store = newStore(dynamo);
      const name = uniqueName('svc');
      await store.putServiceManifest({ name }, { actor: 'x' });

      await expect(
        store.putServiceManifest({ name }, { actor: 'y', expectedVersion: 0 }),
      ).rejects.toBeInstanceOf(StaleVersionError);
    });

    it('rejects a manifest without a usable service name', async () => {
      const store = newStore(dynamo);

      await expect(store.putServiceManifest({ name: '' }, { actor: 'x' })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    });
  });

  describe('listServices', () => {
    it('lists services by name in pages', async () => {
      const table = await dynamo.createTable();
      const store = newStore({ ...dynamo, tableName: table });
      for (const name of ['delta', 'alpha', 'charlie', 'bravo', 'echo']) {
        await store.putServiceManifest({ name }, { actor: 'x' });
      }

      const first = await store.listServices({ limit: 3 });
      const second = await store.listServices({ limit: 3, cursor: first.cursor });

      expect(first.items.map((s) => s.service)).toEqual(['alpha', 'bravo', 'charlie']);
      expect(second.items.map((s) => s.service)).toEqual(['delta', 'echo']);
      expect(second.cursor).toBeUndefined();
    });
  });
});
