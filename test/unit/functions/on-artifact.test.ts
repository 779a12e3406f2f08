import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import {
  ExecutionAlreadyExists,
  SFNClient,
  StateMachineDoesNotExist,
  StartExecutionCommand,
  type StartExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
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

const DEPLOY_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:kiln-test-deploy';

describe('on-artifact', () => {
  const sfn = mockClient(SFNClient);
  let starts: StartExecutionCommandInput[];
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
    starts = [];
    sfn.reset();
    // Step Functions' name rule: a name already used is ExecutionAlreadyExists.
    sfn.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => {
      if (starts.some((s) => s.name === input.name)) {
        throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
      }
      starts.push(input);
      return {
        executionArn: `${DEPLOY_MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`,
        startDate: new Date(0),
      };
    });
    handler = createOnArtifactHandler(() => ({
      documentClient: dynamo.client,
      tableName,
      sfn: new SFNClient({ region: 'us-east-1' }),
      deployStateMachineArn: DEPLOY_MACHINE,
    }));
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
        started: 1,
        alreadyStarted: 0,
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
        started: 0,
        alreadyStarted: 1,
      });
      expect(await artifactsOf('checkout')).toHaveLength(1);
    });

    it('skips an object outside every service prefix', async () => {
      await expect(handler(checkoutUpload('other/readme.txt'), context)).resolves.toEqual({
        recorded: 0,
        duplicates: 0,
        skipped: 2,
        refused: 0,
        started: 0,
        alreadyStarted: 0,
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
        started: 1,
        alreadyStarted: 0,
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
        started: 1,
        alreadyStarted: 0,
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
        started: 0,
        alreadyStarted: 0,
      });
    });
  });

  describe('CodeArtifact package versions', () => {
    /** The documented sample, published to the widgets service's domain and repository. */
    const widgetsVersion = (detail: Record<string, unknown> = {}): Record<string, unknown> => {
      const event = structuredClone(fixture('codeartifact/package-version-state-change-published.json'));
      Object.assign(event.detail as Record<string, unknown>, {
        domainName: 'acme',
        repositoryName: 'releases',
        packageNamespace: 'acme',
        packageName: 'widgets',
        packageVersion: '4.2.0',
        ...detail,
      });
      return event;
    };
    const addWidgets = (source: Record<string, unknown> = {}) =>
      store.putServiceManifest(
        variantOfCheckout('widgets', {
          source: {
            codeartifact: {
              domain: 'acme',
              repository: 'releases',
              format: 'npm',
              namespace: 'acme',
              package: 'widgets',
              ...source,
            },
          },
        }),
        { actor: 'test' },
      );
    const detailOf = (event: Record<string, unknown>) => event.detail as Record<string, unknown>;

    beforeEach(() => addWidgets());

    it('records a published version for the service building from that package, pinned by its revision, and starts its deployment', async () => {
      await expect(handler(delivered(widgetsVersion()), context)).resolves.toEqual({
        recorded: 1,
        duplicates: 0,
        skipped: 2,
        refused: 0,
        started: 1,
        alreadyStarted: 0,
      });
      expect(await artifactsOf('widgets')).toEqual([
        expect.objectContaining({
          version: '4.2.0',
          uri: 'codeartifact://us-west-2/111122223333/acme/releases/npm/acme/widgets/4.2.0',
          digest: 'codeartifact-revision:0E5DE26A4CD79FDF3EBC4924FFFFFFFF',
          sourceKind: 'codeartifact',
        }),
      ]);
      expect(starts.map((s) => JSON.parse(s.input ?? '') as unknown)).toEqual([
        expect.objectContaining({
          service: 'widgets',
          version: '4.2.0',
          artifact: {
            kind: 'codeartifact',
            uri: 'codeartifact://us-west-2/111122223333/acme/releases/npm/acme/widgets/4.2.0',
            digest: 'codeartifact-revision:0E5DE26A4CD79FDF3EBC4924FFFFFFFF',
          },
        }),
      ]);
    });

    it.each(['Unfinished', 'Unlisted', 'Archived', 'Disposed'])(
      'skips a version in state %s, naming the state, and starts nothing',
      async (state) => {
        const logged = jest.spyOn(Logger.prototype, 'info');

        await expect(
          handler(delivered(widgetsVersion({ packageVersionState: state })), context),
        ).resolves.toEqual(expect.objectContaining({ recorded: 0, skipped: 3, started: 0 }));

        expect(JSON.stringify(logged.mock.calls)).toContain(`is ${state}, not Published`);
        expect(await artifactsOf('widgets')).toEqual([]);
        expect(starts).toEqual([]);
      },
    );

    it.each([
      ['another domain', { domainName: 'other' }],
      ['another repository', { repositoryName: 'staging' }],
      ['another format', { packageFormat: 'maven' }],
      ['another namespace', { packageNamespace: 'other' }],
      ['no namespace', { packageNamespace: null }],
      ['another package', { packageName: 'gadgets' }],
    ])('skips a package in %s', async (_what, detail) => {
      await expect(handler(delivered(widgetsVersion(detail)), context)).resolves.toEqual(
        expect.objectContaining({ recorded: 0, skipped: 3 }),
      );
    });

    it('skips a domain of that name owned by another account when the manifest names the owner', async () => {
      await store.putServiceManifest(
        variantOfCheckout('widgets', {
          source: {
            codeartifact: {
              domain: 'acme',
              domainOwner: '444455556666',
              repository: 'releases',
              format: 'npm',
              namespace: 'acme',
              package: 'widgets',
            },
          },
        }),
        { actor: 'test' },
      );

      await expect(handler(delivered(widgetsVersion()), context)).resolves.toEqual(
        expect.objectContaining({ recorded: 0, skipped: 3 }),
      );
    });

    it('matches a PyPI package by its normalized name', async () => {
      await addWidgets({ format: 'pypi', namespace: undefined, package: 'Acme_Widgets' });

      await handler(
        delivered(
          widgetsVersion({ packageFormat: 'pypi', packageNamespace: null, packageName: 'acme-widgets' }),
        ),
        context,
      );

      expect(await artifactsOf('widgets')).toHaveLength(1);
    });

    it.each([
      ['detail.packageVersionRevision', { packageVersionRevision: '' }],
      ['detail.domainOwner', { domainOwner: '1111' }],
      ['detail.packageName', { packageName: 'a/b' }],
      ['detail.packageVersion', { packageVersion: undefined }],
      ['detail.packageVersionState', { packageVersionState: 7 }],
    ])('refuses an event with a bad %s, naming it, and records and starts nothing', async (field, detail) => {
      const event = widgetsVersion();
      Object.assign(detailOf(event), detail);

      expectRefused(await handler(delivered(event), context), field);
      expect(await artifactsOf('widgets')).toEqual([]);
      expect(starts).toEqual([]);
    });

    it('refuses a version the store cannot keep, naming detail.packageVersion', async () => {
      expectRefused(
        await handler(delivered(widgetsVersion({ packageVersion: '1!2.0' })), context),
        'detail.packageVersion',
      );
      expect(await artifactsOf('widgets')).toEqual([]);
    });
  });

  describe('starting the deployment', () => {
    it('starts one execution per artifact, named by the deployment id, and none for a duplicate delivery', async () => {
      await handler(checkoutUpload(), context);
      await handler(checkoutUpload(), context);

      expect(starts).toEqual([
        expect.objectContaining({
          stateMachineArn: DEPLOY_MACHINE,
          name: expect.stringMatching(/^checkout-2_14_0-[0-9a-f]{16}$/),
        }),
      ]);
      const [deployment] = (await store.listDeployments('checkout')).items;
      expect(deployment).toEqual(
        expect.objectContaining({
          id: starts[0]?.name,
          status: 'queued',
          trigger: 'artifact',
          actor: 'event:s3',
          executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${starts[0]?.name}`,
        }),
      );
    });

    it('fails the invocation when Step Functions refuses the start, so Lambda retries it, with the artifact recorded', async () => {
      sfn
        .on(StartExecutionCommand)
        .rejects(new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: {} }));

      await expect(handler(checkoutUpload(), context)).rejects.toThrow(/StateMachineDoesNotExist/);
      expect(await artifactsOf('checkout')).toHaveLength(1);
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

      expect(result).toEqual({
        recorded: 1,
        duplicates: 0,
        skipped: 1,
        refused: 1,
        started: 1,
        alreadyStarted: 0,
      });
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
        started: 0,
        alreadyStarted: 1,
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

      expect(result).toEqual({
        recorded: 1,
        duplicates: 0,
        skipped: 1,
        refused: 1,
        started: 1,
        alreadyStarted: 0,
      });
      expect(JSON.stringify(loggedErrors)).toContain('checkout-next: manifest.apiVersion');
      expect(await artifactsOf('checkout')).toEqual([expect.objectContaining({ version: '2.14.0' })]);
      expect(await artifactsOf('checkout-next')).toEqual([]);
    });

    it('refuses a service whose stored manifest has no artifact section, instead of failing the whole event', async () => {
      const { artifact: _artifact, ...rest } = structuredClone(example('checkout.yml'));
      await storeRaw({ ...rest, name: 'checkout-broken' });

      const result = await handler(checkoutUpload(), context);

      expect(result).toEqual({
        recorded: 1,
        duplicates: 0,
        skipped: 1,
        refused: 1,
        started: 1,
        alreadyStarted: 0,
      });
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
