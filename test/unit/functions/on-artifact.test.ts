import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { createOnArtifactHandler } from '../../../functions/on-artifact';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../shared/store';
import { customDetail } from '../../support/artifact-arbitraries';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as Record<string, unknown>;
const exampleSource = (file: string): Record<string, unknown> =>
  parseYaml(readFileSync(join(__dirname, '../../../examples', file), 'utf8')) as Record<string, unknown>;
const example = (file: string): ServiceManifest => parseManifest(exampleSource(file));

/** The checkout example under another name, building from whatever `artifact` says. */
function variantOfCheckout(name: string, artifact: unknown): ServiceManifest {
  return parseManifest({ ...exampleSource('checkout.yml'), name, artifact });
}

const context = {
  functionName: 'kiln-test-on-artifact',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30000,
} as Context;

/** What Lambda hands the function: the event as JSON, parsed (so `__proto__` is an own key). */
const delivered = (event: unknown): unknown => JSON.parse(JSON.stringify(event));

/** The documented S3 sample, moved into the checkout example's bucket and release prefix. */
function checkoutUpload(key = 'checkout/releases/checkout-2.14.0.tar.gz'): Record<string, unknown> {
  const event = structuredClone(fixture('s3/object-created.json'));
  const detail = event.detail as { bucket: { name: string }; object: { key: string } };
  detail.bucket.name = 'acme-artifacts-123456789012';
  detail.object.key = key;
  return event;
}

const objectOf = (event: Record<string, unknown>) =>
  (event.detail as { object: Record<string, unknown> }).object;

/** A real image digest: sha256 and 64 hex digits (the documented sample's is cut to 60). */
const IMAGE_DIGEST = `sha256:${'7f5b2640fe6fb4f4'.repeat(4)}`;

/** The documented ECR sample, pushed to the ledger example's repository with a release tag. */
function ledgerPush(tag = 'v3.2.1'): Record<string, unknown> {
  const event = structuredClone(fixture('ecr/image-action-push.json'));
  Object.assign(event.detail as Record<string, unknown>, {
    'repository-name': 'finance/ledger',
    'image-tag': tag,
    'image-digest': IMAGE_DIGEST,
  });
  return event;
}

/**
 * A CI's "Artifact Published" event as EventBridge delivers it after PutEvents: the documented
 * envelope of another sample with the CI's source, detail-type and detail.
 */
function published(detail: Record<string, unknown>, source = 'com.acme.ci'): Record<string, unknown> {
  return {
    ...structuredClone(fixture('ec2/instance-state-change-terminated.json')),
    source,
    'detail-type': 'Artifact Published',
    resources: [],
    detail,
  };
}

const paymentsBuild = (overrides: Record<string, unknown> = {}) => ({
  version: '1.4.2',
  uri: 's3://acme-artifacts-123456789012/payments/payments-1.4.2.tar.gz',
  digest: `sha256:${'ab'.repeat(32)}`,
  ...overrides,
});

describe('on-artifact', () => {
  let dynamo: LocalDynamo;
  let store: KilnStore<ServiceManifest>;
  let handler: ReturnType<typeof createOnArtifactHandler>;
  let loggedErrors: unknown[][];
  let tableName: string;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  beforeEach(async () => {
    tableName = await dynamo.createTable();
    store = new KilnStore<ServiceManifest>({ client: dynamo.client, tableName });
    await store.putServiceManifest(example('checkout.yml'), { actor: 'test' });
    await store.putServiceManifest(example('ledger.yml'), { actor: 'test' });
    handler = createOnArtifactHandler(() => ({ documentClient: dynamo.client, tableName }));
    loggedErrors = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => {
      loggedErrors.push(args);
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const artifactsOf = async (service: string) => (await store.listArtifacts(service)).items;
  const addPayments = async (name = 'payments', source = 'com.acme.ci') => {
    await store.putServiceManifest(variantOfCheckout(name, { source: { custom: { source } } }), {
      actor: 'test',
    });
  };

  /**
   * Every refusal is logged with the field at fault and the handler returns normally: the whole
   * event is dropped when the event itself is at fault, or the artifact is refused for the
   * service whose manifest reads the faulty field.
   */
  const expectRefused = (result: unknown, field: string) => {
    expect(result).toEqual(
      expect.objectContaining(
        'ignored' in (result as object)
          ? { ignored: true, reason: expect.stringContaining(field) }
          : { recorded: 0, refused: 1 },
      ),
    );
    expect(JSON.stringify(loggedErrors)).toContain(field);
  };

  describe('S3 uploads', () => {
    it('records an upload for the service whose bucket and prefix it matches, with the version from the key', async () => {
      await expect(handler(checkoutUpload(), context)).resolves.toEqual({
        recorded: 1,
        duplicates: 0,
        skipped: 1,
        refused: 0,
      });
      expect(await artifactsOf('checkout')).toEqual([
        expect.objectContaining({
          service: 'checkout',
          version: '2.14.0',
          uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-2.14.0.tar.gz',
          digest: 's3-version:IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
        }),
      ]);
    });

    it('records a duplicate delivery of the same event only once', async () => {
      await handler(checkoutUpload(), context);
      await expect(handler(checkoutUpload(), context)).resolves.toEqual({
        recorded: 0,
        duplicates: 1,
        skipped: 1,
        refused: 0,
      });
      expect(await artifactsOf('checkout')).toHaveLength(1);
    });

    it('skips an object outside every service prefix', async () => {
      await expect(handler(checkoutUpload('other/readme.txt'), context)).resolves.toEqual({
        recorded: 0,
        duplicates: 0,
        skipped: 2,
        refused: 0,
      });
    });

    it('tells two uploads of one key apart by their sequencers when they carry nothing else', async () => {
      const first = checkoutUpload();
      const second = checkoutUpload();
      for (const [event, sequencer] of [
        [first, '617f08299329d189'],
        [second, '617f08299329d18a'],
      ] as const) {
        const object = objectOf(event);
        delete object.etag;
        delete object['version-id'];
        object.sequencer = sequencer;
      }
      await handler(first, context);
      await handler(second, context);
      expect((await artifactsOf('checkout')).map((a) => a.digest).sort()).toEqual([
        's3-sequencer:617f08299329d189',
        's3-sequencer:617f08299329d18a',
      ]);
    });

    it('refuses an upload with no etag, version-id or sequencer, naming detail.object, and records nothing', async () => {
      const event = checkoutUpload();
      const object = objectOf(event);
      delete object.etag;
      delete object['version-id'];
      delete object.sequencer;

      expectRefused(await handler(event, context), 'detail.object');
      expect(await artifactsOf('checkout')).toEqual([]);
    });

    it('refuses an upload whose version id would make a digest longer than the store keeps (512), and records nothing', async () => {
      const event = checkoutUpload();
      objectOf(event)['version-id'] = 'v'.repeat(502);

      expectRefused(await handler(event, context), 'detail.object.version-id');
      expect(await artifactsOf('checkout')).toEqual([]);
    });

    it('refuses a key with control characters, which no artifact URI may hold', async () => {
      const event = checkoutUpload('checkout/releases/checkout-2.14.0.tar.gz\n');

      expectRefused(await handler(event, context), 'detail.object.key');
      expect(await artifactsOf('checkout')).toEqual([]);
    });
  });

  describe('ECR pushes', () => {
    it('records a release tag for the service building from the repository, pinned by digest', async () => {
      await expect(handler(ledgerPush(), context)).resolves.toEqual({
        recorded: 1,
        duplicates: 0,
        skipped: 1,
        refused: 0,
      });
      expect(await artifactsOf('ledger')).toEqual([
        expect.objectContaining({
          version: '3.2.1',
          uri: `123456789012.dkr.ecr.us-west-2.amazonaws.com/finance/ledger@${IMAGE_DIGEST}`,
          digest: IMAGE_DIGEST,
        }),
      ]);
    });

    it('refuses a digest that is not sha256 with 64 hex digits (it could not be pulled), naming the field', async () => {
      const event = ledgerPush();
      (event.detail as Record<string, unknown>)['image-digest'] = `sha256:${'ab'.repeat(30)}`;

      expectRefused(await handler(event, context), 'detail.image-digest');
      expect(await artifactsOf('ledger')).toEqual([]);
    });
  });

  describe('CI "Artifact Published" events', () => {
    beforeEach(() => addPayments());

    it.each([
      ['an S3 object', 's3://acme-artifacts-123456789012/payments/payments-1.4.2.tar.gz'],
      ['an ECR image by tag', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/finance/payments:1.4.2'],
      [
        'an ECR image by digest',
        `123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments@sha256:${'c'.repeat(64)}`,
      ],
      ['an HTTPS URL', 'https://artifacts.acme.example/payments/1.4.2/payments.tar.gz'],
    ])('records %s', async (_what, uri) => {
      await expect(handler(delivered(published(paymentsBuild({ uri }))), context)).resolves.toEqual({
        recorded: 1,
        duplicates: 0,
        skipped: 2,
        refused: 0,
      });
      expect(await artifactsOf('payments')).toEqual([
        expect.objectContaining({ version: '1.4.2', uri, sourceKind: 'custom' }),
      ]);
    });

    it.each([
      ['a local file', 'file:///etc/passwd'],
      ['plain HTTP', 'http://artifacts.acme.example/payments.tar.gz'],
      ['FTP', 'ftp://artifacts.acme.example/payments.tar.gz'],
      ['a data URL', 'data:text/plain,hello'],
      ['an upper-case S3 scheme', 'S3://acme-artifacts-123456789012/payments.tar.gz'],
      ['an S3 URI without a key', 's3://acme-artifacts-123456789012/'],
      ['an S3 URI with an invalid bucket', 's3://Acme_Artifacts/payments.tar.gz'],
      ['an HTTPS URL carrying credentials', 'https://ci:secret@artifacts.acme.example/payments.tar.gz'],
      ['a registry that is not ECR', 'registry.acme.example/payments:1.4.2'],
      [
        'an ECR reference with a short digest',
        `123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments@sha256:abc`,
      ],
      ['a relative path', 'payments.tar.gz'],
    ])('refuses %s as the uri, naming detail.uri, and records nothing', async (_what, uri) => {
      expectRefused(await handler(delivered(published(paymentsBuild({ uri }))), context), 'detail.uri');
      expect(await artifactsOf('payments')).toEqual([]);
    });

    it('refuses a digest longer than the store keeps (512 characters) instead of failing to store it', async () => {
      const event = delivered(published(paymentsBuild({ digest: 'd'.repeat(513) })));

      expectRefused(await handler(event, context), 'detail.digest');
      expect(await artifactsOf('payments')).toEqual([]);
    });

    it('refuses a numeric version, which JSON has already rounded (1.10 arrives as 1.1), naming the field', async () => {
      const event = JSON.parse(
        JSON.stringify(published(paymentsBuild())).replace('"version":"1.4.2"', '"version":1.10'),
      ) as unknown;

      expectRefused(await handler(event, context), 'detail.version');
      expect(await artifactsOf('payments')).toEqual([]);
    });

    it('refuses an event whose version could only come from a __proto__ key', async () => {
      const build: Record<string, unknown> = paymentsBuild();
      delete build.version;
      const json = JSON.stringify(published(build)).replace(
        '"detail":{',
        '"detail":{"__proto__":{"version":"9.9.9"},',
      );
      const event = JSON.parse(json) as unknown;

      expectRefused(await handler(event, context), 'detail.__proto__');
      expect(await artifactsOf('payments')).toEqual([]);
    });

    it.each(['constructor', 'prototype'])('refuses an event holding a %s key anywhere', async (key) => {
      const event = delivered(published(paymentsBuild({ build: { [key]: { version: '9.9.9' } } })));

      expectRefused(await handler(event, context), `detail.build.${key}`);
      expect(await artifactsOf('payments')).toEqual([]);
    });

    it('refuses an event without a version where the manifest reads it, naming that field', async () => {
      const build: Record<string, unknown> = paymentsBuild();
      delete build.version;

      expectRefused(await handler(delivered(published(build)), context), 'detail.version');
      expect(await artifactsOf('payments')).toEqual([]);
    });

    it('records an event that names its service for that service only, when one CI builds several', async () => {
      await addPayments('refunds');

      await handler(delivered(published(paymentsBuild({ service: 'refunds' }))), context);

      expect(await artifactsOf('refunds')).toHaveLength(1);
      expect(await artifactsOf('payments')).toEqual([]);
    });

    it('ignores an event from another CI', async () => {
      await expect(handler(delivered(published(paymentsBuild(), 'com.other.ci')), context)).resolves.toEqual({
        recorded: 0,
        duplicates: 0,
        skipped: 3,
        refused: 0,
      });
    });
  });

  describe('one service refused, the others recorded', () => {
    it('refuses the artifact for the service that cannot store it, naming service and field, and records it for the others', async () => {
      // Same bucket and prefix as checkout, but a keyPattern that captures the whole key.
      await store.putServiceManifest(
        variantOfCheckout('checkout-canary', {
          source: { s3: { bucket: 'acme-artifacts-123456789012', keyPrefix: 'checkout/releases/' } },
          version: { keyPattern: '^(?<version>.+)$' },
        }),
        { actor: 'test' },
      );

      const result = await handler(checkoutUpload(), context);

      expect(result).toEqual({ recorded: 1, duplicates: 0, skipped: 1, refused: 1 });
      expect(JSON.stringify(loggedErrors)).toContain('checkout-canary');
      expect(JSON.stringify(loggedErrors)).toContain('version');
      expect(await artifactsOf('checkout')).toEqual([expect.objectContaining({ version: '2.14.0' })]);
      expect(await artifactsOf('checkout-canary')).toEqual([]);
    });

    it('decides a redelivery the same way: the refused service stays refused, the recorded one is a duplicate', async () => {
      await store.putServiceManifest(
        variantOfCheckout('checkout-canary', {
          source: { s3: { bucket: 'acme-artifacts-123456789012', keyPrefix: 'checkout/releases/' } },
          version: { keyPattern: '^(?<version>.+)$' },
        }),
        { actor: 'test' },
      );
      await handler(checkoutUpload(), context);

      await expect(handler(checkoutUpload(), context)).resolves.toEqual({
        recorded: 0,
        duplicates: 1,
        skipped: 1,
        refused: 1,
      });
      expect(await artifactsOf('checkout')).toHaveLength(1);
      expect(await artifactsOf('checkout-canary')).toEqual([]);
    });
  });

  describe('stored manifests it cannot read', () => {
    /** Writes a manifest record as another writer could have: the store keeps manifests whole. */
    const storeRaw = async (manifest: { name: string } & Record<string, unknown>) => {
      const raw = new KilnStore<typeof manifest>({ client: dynamo.client, tableName });
      await raw.putServiceManifest(manifest, { actor: 'test' });
    };

    it('refuses a service whose manifest is stored in another format (apiVersion), naming it, and records the artifact for the others', async () => {
      await storeRaw({
        ...structuredClone(example('checkout.yml')),
        name: 'checkout-next',
        apiVersion: 'kiln.dev/v2',
      });

      const result = await handler(checkoutUpload(), context);

      expect(result).toEqual({ recorded: 1, duplicates: 0, skipped: 1, refused: 1 });
      expect(JSON.stringify(loggedErrors)).toContain('checkout-next: manifest.apiVersion');
      expect(await artifactsOf('checkout')).toEqual([expect.objectContaining({ version: '2.14.0' })]);
      expect(await artifactsOf('checkout-next')).toEqual([]);
    });

    it('refuses a service whose stored manifest has no artifact section, instead of failing the whole event', async () => {
      const { artifact: _artifact, ...rest } = structuredClone(example('checkout.yml'));
      await storeRaw({ ...rest, name: 'checkout-broken' });

      const result = await handler(checkoutUpload(), context);

      expect(result).toEqual({ recorded: 1, duplicates: 0, skipped: 1, refused: 1 });
      expect(JSON.stringify(loggedErrors)).toContain('checkout-broken: manifest.artifact');
      expect(await artifactsOf('checkout')).toHaveLength(1);
    });
  });

  describe('malformed events', () => {
    it('drops a malformed event, naming the field, and stores nothing', async () => {
      const event = checkoutUpload();
      delete (event.detail as { object?: unknown }).object;
      const result = await handler(event, context);
      expect(result).toEqual({ ignored: true, reason: expect.stringContaining('detail.object') });
      expect(await artifactsOf('checkout')).toEqual([]);
    });

    it('drops an event of a detail-type it does not handle, naming detail-type', async () => {
      const result = await handler(fixture('ec2/instance-state-change-terminated.json'), context);
      expect(result).toEqual({ ignored: true, reason: expect.stringContaining('detail-type') });
    });
  });

  describe('any detail a CI may send', () => {
    it('records it for the services it matches, or refuses it naming a field and records nothing; never throws', async () => {
      await addPayments();
      await addPayments('refunds');
      const recordedSoFar = async () =>
        (await artifactsOf('payments')).length + (await artifactsOf('refunds')).length;
      await fc.assert(
        fc.asyncProperty(customDetail, async (detail) => {
          const before = await recordedSoFar();
          const result = await handler(delivered(published(detail)), context);
          if ('ignored' in result) {
            expect(result.reason).toMatch(/detail\.[\w[]/);
            expect(await recordedSoFar()).toBe(before);
          } else {
            expect(result.recorded + result.duplicates + result.skipped + result.refused).toBe(4);
            expect(await recordedSoFar()).toBe(before + result.recorded);
          }
        }),
        { numRuns: 50 },
      );
    });
  });
});
