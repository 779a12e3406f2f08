import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { matchArtifact, readJsonPath, type ArtifactFacts } from '../../../shared/domain/artifact';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';

const example = (file: string): ServiceManifest =>
  parseManifest(parseYaml(readFileSync(join(__dirname, '../../../examples', file), 'utf8')));

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
        matched: true,
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
        matched: true,
        artifact: { digest: 's3-version:IYV3p45BT0ac8hjHg1houSdS1a.Mro8e' },
      });
    });

    it('skips a key outside the prefix, and a key the pattern cannot read a version from', () => {
      expect(matchArtifact(checkout, s3('ledger/ledger-1.0.0.tar.gz'))).toMatchObject({ matched: false });
      expect(matchArtifact(checkout, s3('checkout/releases/notes.txt'))).toMatchObject({
        matched: false,
        reason: expect.stringContaining('keyPattern'),
      });
    });

    it('skips a service that does not build from S3', () => {
      expect(matchArtifact(ledger, s3('checkout/releases/checkout-2.14.0.tar.gz'))).toMatchObject({
        matched: false,
        reason: 'ledger does not build from S3',
      });
    });
  });

  describe('ECR sources', () => {
    const repository = ledger.artifact.source.ecr?.repository ?? '';
    const push = (tag?: string): ArtifactFacts => ({
      kind: 'ecr',
      account: '123456789012',
      region: 'us-east-1',
      repository,
      digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
      ...(tag !== undefined ? { tag } : {}),
    });

    it('takes the version from the tag and pins the image by digest', () => {
      const match = matchArtifact(ledger, push('v3.2.1'));
      expect(match).toMatchObject({ matched: true, artifact: { service: 'ledger', sourceKind: 'ecr' } });
      if (match.matched) expect(match.artifact.uri).toMatch(/@sha256:7f5b/);
    });

    it('skips an untagged push', () => {
      expect(matchArtifact(ledger, push())).toMatchObject({
        matched: false,
        reason: expect.stringContaining('no tag'),
      });
    });
  });

  it('refuses a version that could smuggle separators into keys and execution names', () => {
    const match = matchArtifact(checkout, s3('checkout/releases/checkout-2.14.0.tar.gz'));
    expect(match.matched).toBe(true);
    const hostile = matchArtifact(
      {
        ...checkout,
        artifact: { ...checkout.artifact, version: { keyPattern: '^checkout/releases/(?<version>.+)$' } },
      },
      s3('checkout/releases/a#b'),
    );
    expect(hostile).toMatchObject({ matched: false, reason: expect.stringContaining('version') });
  });
});

describe('readJsonPath', () => {
  const detail = { version: '1.2.3', build: { 'build-info': { number: 7 } }, artifacts: [{ version: '9' }] };

  it.each([
    ['$.version', '1.2.3'],
    ["$.build['build-info'].number", 7],
    ['$.artifacts[0].version', '9'],
    ['$.missing.deeper', undefined],
  ])('reads %s', (path, expected) => {
    expect(readJsonPath(detail, path)).toEqual(expected);
  });
});
