import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestContext } from '../../../sandbox/core/testing';
import { ArtifactStores } from '../../../sandbox/services/artifact-stores';

const sample = (path: string) =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as {
    detail: Record<string, unknown>;
  } & Record<string, unknown>;

/** Key paths of a JSON value, so shapes compare without comparing values. */
function shape(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => shape(v, prefix ? `${prefix}.${k}` : k));
}

describe('ArtifactStores', () => {
  it("emits S3 Object Created in the documented sample's shape (bucket tags aside)", () => {
    const ctx = createTestContext(2);
    new ArtifactStores(ctx).putObject({
      bucket: 'acme-artifacts',
      key: 'checkout/checkout-1.0.0.tar.gz',
      size: 1024,
      versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
    });
    const [event] = ctx.events;
    const documented = sample('s3/object-created.json');
    // The sample's bucket carries `aws-generated-tags`, present only for CloudFormation-made buckets.
    const expected = shape(documented).filter((p) => !p.startsWith('detail.bucket.aws-generated-tags'));
    expect(shape(event).sort()).toEqual(expected.sort());
    expect(event).toMatchObject({ source: 'aws.s3', 'detail-type': 'Object Created' });
  });

  it('emits a successful ECR push in the documented sample’s shape', () => {
    const ctx = createTestContext(2);
    new ArtifactStores(ctx).pushImage({ repository: 'payments/ledger', tag: 'v3.2.1' });
    const [event] = ctx.events;
    expect(shape(event).sort()).toEqual(shape(sample('ecr/image-action-push.json')).sort());
    expect(event?.detail['image-digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('leaves image-tag out of an untagged push, as ECR does', () => {
    const ctx = createTestContext(2);
    new ArtifactStores(ctx).pushImage({ repository: 'payments/ledger' });
    expect(ctx.events[0]?.detail).not.toHaveProperty('image-tag');
  });
});
