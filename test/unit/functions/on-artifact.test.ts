import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { createOnArtifactHandler } from '../../../functions/on-artifact';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { parse as parseYaml } from 'yaml';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as Record<string, unknown>;
const example = (file: string): ServiceManifest =>
  parseManifest(parseYaml(readFileSync(join(__dirname, '../../../examples', file), 'utf8')));

const context = {
  functionName: 'kiln-test-on-artifact',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30000,
} as Context;

/** The documented S3 sample, moved into the checkout example's bucket and release prefix. */
function checkoutUpload(key = 'checkout/releases/checkout-2.14.0.tar.gz'): Record<string, unknown> {
  const event = structuredClone(fixture('s3/object-created.json'));
  const detail = event.detail as { bucket: { name: string }; object: { key: string } };
  detail.bucket.name = 'acme-artifacts-123456789012';
  detail.object.key = key;
  return event;
}

describe('on-artifact', () => {
  let dynamo: LocalDynamo;
  let store: KilnStore<ServiceManifest>;
  let handler: ReturnType<typeof createOnArtifactHandler>;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  beforeEach(async () => {
    const tableName = await dynamo.createTable();
    store = new KilnStore<ServiceManifest>({ client: dynamo.client, tableName });
    await store.putServiceManifest(example('checkout.yml'), { actor: 'test' });
    await store.putServiceManifest(example('ledger.yml'), { actor: 'test' });
    handler = createOnArtifactHandler(() => ({ documentClient: dynamo.client, tableName }));
  });

  it('records an S3 upload for the service whose bucket and prefix it matches, with the version from the key', async () => {
    await expect(handler(checkoutUpload(), context)).resolves.toEqual({
      recorded: 1,
      duplicates: 0,
      skipped: 1,
    });
    const artifacts = await store.listArtifacts('checkout');
    expect(artifacts.items).toEqual([
      expect.objectContaining({
        service: 'checkout',
        version: '2.14.0',
        uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-2.14.0.tar.gz',
      }),
    ]);
  });

  it('records a duplicate delivery of the same event only once', async () => {
    await handler(checkoutUpload(), context);
    await expect(handler(checkoutUpload(), context)).resolves.toEqual({
      recorded: 0,
      duplicates: 1,
      skipped: 1,
    });
    expect((await store.listArtifacts('checkout')).items).toHaveLength(1);
  });

  it('skips an object outside every service prefix', async () => {
    await expect(handler(checkoutUpload('other/readme.txt'), context)).resolves.toEqual({
      recorded: 0,
      duplicates: 0,
      skipped: 2,
    });
  });

  it('drops a malformed event, naming the field, and stores nothing', async () => {
    const event = checkoutUpload();
    delete (event.detail as { object?: unknown }).object;
    const result = await handler(event, context);
    expect(result).toEqual({ ignored: true, reason: expect.stringContaining('detail.object') });
    expect((await store.listArtifacts('checkout')).items).toEqual([]);
  });

  it('drops an event of a detail-type it does not handle, naming detail-type', async () => {
    const result = await handler(fixture('ec2/instance-state-change-terminated.json'), context);
    expect(result).toEqual({ ignored: true, reason: expect.stringContaining('detail-type') });
  });
});
