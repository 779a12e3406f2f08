import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { parse as parseYaml } from 'yaml';
import { createRetainImagesHandler, RetentionIncompleteError } from '../../../functions/retain-images';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../shared/store';
import type { RetentionEc2 } from '../../../shared/usecases/retain-images';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

const scheduled = (): Record<string, unknown> =>
  JSON.parse(
    readFileSync(join(__dirname, '../../fixtures/events/events/scheduled-event.json'), 'utf8'),
  ) as Record<string, unknown>;

const context = {
  functionName: 'kiln-test-retain-images',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 300000,
} as Context;

const checkout = (): ServiceManifest =>
  parseManifest(parseYaml(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')));

describe('retain-images handler', () => {
  let dynamo: LocalDynamo;
  let tableName: string;
  let ec2Calls: string[];

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.stop();
  });
  beforeEach(async () => {
    tableName = await dynamo.createTable();
    ec2Calls = [];
  });

  /** EC2 in every Region refuses to be read. */
  const unreachable = (region: string): RetentionEc2 => {
    ec2Calls.push(region);
    throw new Error(`no route to ec2.${region}`);
  };

  const handlerWith = (ec2For: (region: string) => RetentionEc2) =>
    createRetainImagesHandler(() => ({ documentClient: dynamo.client, tableName, ec2For }));

  it('drops an event that is not a Scheduled Event, touching nothing', async () => {
    const event = { ...scheduled(), 'detail-type': 'Object Created' };
    const result = await handlerWith(unreachable)(event, context);
    expect(result).toMatchObject({ ignored: true });
    expect(ec2Calls).toEqual([]);
  });

  it('runs over every service and answers what it did', async () => {
    const store = new KilnStore<ServiceManifest>({ client: dynamo.client, tableName });
    await store.putServiceManifest(checkout(), { actor: 'test' });
    const result = await handlerWith(unreachable)(scheduled(), context);
    expect(result).toMatchObject({ services: 1, deprecated: 0, deregistered: 0, failed: 0 });
  });

  it('fails the invocation, naming the service and Region, when a Region cannot be read', async () => {
    const store = new KilnStore<ServiceManifest>({ client: dynamo.client, tableName });
    await store.putServiceManifest(checkout(), { actor: 'test' });
    await store.putRelease(
      {
        service: 'checkout',
        version: '1.0.0',
        amis: { 'eu-west-1': 'ami-0123456789abcdef0' },
        artifact: {
          uri: 's3://acme-artifacts-123456789012/checkout-1.0.0.tar.gz',
          digest: `sha256:${'a'.repeat(64)}`,
        },
        recipeHash: 'r1',
        baseAmiId: 'ami-00000000000000001',
      },
      { actor: 'test' },
    );
    const invocation = handlerWith(unreachable)(scheduled(), context);
    await expect(invocation).rejects.toThrow(RetentionIncompleteError);
    await expect(handlerWith(unreachable)(scheduled(), context)).rejects.toThrow(
      /checkout eu-west-1: read eu-west-1's images: Error: no route to ec2\.eu-west-1/,
    );
  });
});
