import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { matchArtifact, readJsonPath, type ArtifactFacts } from '../../../shared/domain/artifact';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';

const exampleSource = (file: string): Record<string, unknown> =>
  parseYaml(readFileSync(join(__dirname, '../../../examples', file), 'utf8')) as Record<string, unknown>;
const example = (file: string): ServiceManifest => parseManifest(exampleSource(file));
const IMAGE_DIGEST = `sha256:${'7f5b2640fe6fb4f4'.repeat(4)}`;

describe('matchArtifact', () => {
  const checkout = example('checkout.yml');
  const ledger = example('ledger.yml');
  const s3 = (key: string): Extract<ArtifactFacts, { kind: 's3' }> => ({
    kind: 's3',
    bucket: 'acme-artifacts-123456789012',
    key,
    etag: 'b1946ac92492d2347c6235b4d2611184',
  });

  describe('S3 sources', () => {
    it('reads the version with the keyPattern and identifies the build by its ETag', () => {
      expect(matchArtifact(checkout, s3('checkout/releases/checkout-2.14.0.tar.gz'))).toEqual({
        outcome: 'matched',
        artifact: {
          service: 'checkout',
          version: '2.14.0',
          uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-2.14.0.tar.gz',
          digest: 's3-etag:b1946ac92492d2347c6235b4d2611184',
          sourceKind: 's3',
        },
      });
    });

    it('prefers the S3 version id over the ETag when the bucket is versioned', () => {
      const match = matchArtifact(checkout, {
        ...s3('checkout/releases/checkout-2.14.0.tar.gz'),
        versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
      });
      expect(match).toMatchObject({
        outcome: 'matched',
        artifact: { digest: 's3-version:IYV3p45BT0ac8hjHg1houSdS1a.Mro8e' },
      });
    });

    it('names a sequencer as a sequencer when it is all the upload carries', () => {
      const { etag: _etag, ...upload } = s3('checkout/releases/checkout-2.14.0.tar.gz');
      expect(matchArtifact(checkout, { ...upload, sequencer: '617f08299329d189' })).toMatchObject({
        outcome: 'matched',
        artifact: { digest: 's3-sequencer:617f08299329d189' },
      });
    });

    it('refuses an upload that carries nothing to tell it from other uploads of the key', () => {
      const { etag: _etag, ...upload } = s3('checkout/releases/checkout-2.14.0.tar.gz');
      expect(matchArtifact(checkout, upload)).toMatchObject({ outcome: 'refused', field: 'detail.object' });
    });

    it('skips a key outside the prefix, and a key the pattern cannot read a version from', () => {
      expect(matchArtifact(checkout, s3('ledger/ledger-1.0.0.tar.gz'))).toMatchObject({ outcome: 'skipped' });
      expect(matchArtifact(checkout, s3('checkout/releases/notes.txt'))).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringContaining('keyPattern'),
      });
    });

    it('skips a service that does not build from S3', () => {
      expect(matchArtifact(ledger, s3('checkout/releases/checkout-2.14.0.tar.gz'))).toEqual({
        outcome: 'skipped',
        reason: 'ledger does not build from S3',
      });
    });

    it('refuses a version that could smuggle separators into keys and execution names, naming the key', () => {
      const greedy: ServiceManifest = {
        ...checkout,
        artifact: { ...checkout.artifact, version: { keyPattern: '^checkout/releases/(?<version>.+)$' } },
      };
      expect(matchArtifact(greedy, s3('checkout/releases/a#b'))).toEqual({
        outcome: 'refused',
        field: 'detail.object.key',
        reason: expect.stringMatching(/^version "a#b" read by checkout's manifest must be 1-64 letters/),
      });
    });
  });

  describe('ECR sources', () => {
    const push = (tag?: string, region = 'us-east-1'): ArtifactFacts => ({
      kind: 'ecr',
      account: '123456789012',
      region,
      repository: 'finance/ledger',
      digest: IMAGE_DIGEST,
      ...(tag !== undefined ? { tag } : {}),
    });

    it('takes the version from the tag and pins the image by digest', () => {
      expect(matchArtifact(ledger, push('v3.2.1'))).toEqual({
        outcome: 'matched',
        artifact: {
          service: 'ledger',
          version: '3.2.1',
          uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/finance/ledger@${IMAGE_DIGEST}`,
          digest: IMAGE_DIGEST,
          sourceKind: 'ecr',
        },
      });
    });

    it('names the registry under amazonaws.com.cn in the China Regions', () => {
      expect(matchArtifact(ledger, push('v3.2.1', 'cn-north-1'))).toMatchObject({
        artifact: { uri: `123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/finance/ledger@${IMAGE_DIGEST}` },
      });
    });

    it('skips an untagged push', () => {
      expect(matchArtifact(ledger, push())).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringContaining('no tag'),
      });
    });
  });

  describe('custom sources', () => {
    const payments = parseManifest({
      ...exampleSource('checkout.yml'),
      name: 'payments',
      artifact: { source: { custom: { source: 'com.acme.ci' } } },
    });
    const published = (
      detail: Record<string, unknown>,
      service?: string,
      source = 'com.acme.ci',
    ): ArtifactFacts => ({
      kind: 'custom',
      source,
      ...(service !== undefined ? { service } : {}),
      uri: 's3://acme-artifacts-123456789012/payments/payments-1.4.2.tar.gz',
      digest: `sha256:${'ab'.repeat(32)}`,
      detail,
    });

    it('reads the version at the detail path', () => {
      expect(matchArtifact(payments, published({ version: '1.4.2' }))).toMatchObject({
        outcome: 'matched',
        artifact: { service: 'payments', version: '1.4.2', sourceKind: 'custom' },
      });
    });

    it('refuses a numeric version, naming the field: JSON has already turned 1.10 into 1.1', () => {
      const detail = JSON.parse('{"version": 1.10}') as Record<string, unknown>;
      expect(matchArtifact(payments, published(detail))).toEqual({
        outcome: 'refused',
        field: 'detail.version',
        reason: expect.stringContaining('not the number 1.1'),
      });
    });

    it.each([
      ['missing', {}, 'is missing'],
      ['a map', { version: { major: 1 } }, 'must be a string, not object'],
      ['null', { version: null }, 'must be a string, not null'],
    ])('refuses a version that is %s, naming the field', (_what, detail, reason) => {
      expect(matchArtifact(payments, published(detail))).toEqual({
        outcome: 'refused',
        field: 'detail.version',
        reason: expect.stringContaining(reason),
      });
    });

    it('skips an event that names another service', () => {
      expect(matchArtifact(payments, published({ version: '1.4.2' }, 'refunds'))).toEqual({
        outcome: 'skipped',
        reason: 'the event is for service refunds',
      });
    });

    it('skips an event from another source', () => {
      expect(matchArtifact(payments, published({ version: '1.4.2' }, undefined, 'com.other.ci'))).toEqual({
        outcome: 'skipped',
        reason: 'payments listens for com.acme.ci',
      });
    });
  });
});

describe('readJsonPath', () => {
  const detail = { version: '1.2.3', build: { 'build-info': { number: 7 } }, artifacts: [{ version: '9' }] };

  it.each([
    ['$.version', '1.2.3'],
    ["$.build['build-info'].number", 7],
    ['$.artifacts[0].version', '9'],
    ['$.missing.deeper', undefined],
    ['$.artifacts[1]', undefined],
  ])('reads %s', (path, expected) => {
    expect(readJsonPath(detail, path)).toEqual(expected);
  });

  it.each([
    ['$.constructor', 'a function every object inherits'],
    ['$.toString', 'an inherited method'],
    ["$['__proto__']", 'the prototype'],
    ['$.artifacts.length', "an array's length"],
    ['$.version.length', "a string's length"],
  ])('reads nothing through %s (%s): own properties only', (path) => {
    expect(readJsonPath(detail, path)).toBeUndefined();
  });

  it('reads nothing under a reserved key even when the object holds it as its own', () => {
    const parsed = JSON.parse(
      '{"__proto__": {"version": "9.9.9"}, "constructor": {"version": "9.9.9"}}',
    ) as unknown;
    expect(readJsonPath(parsed, "$['__proto__'].version")).toBeUndefined();
    expect(readJsonPath(parsed, '$.constructor.version')).toBeUndefined();
  });
});
