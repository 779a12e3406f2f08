/**
 * fast-check arbitraries for artifact events: each field is usually valid (so properties reach
 * matching and storing) and otherwise near a limit, hostile or arbitrary JSON.
 */
import fc from 'fast-check';

/** Mostly `valid`, sometimes something else. */
const usually = <T>(valid: fc.Arbitrary<T>, ...others: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: valid, weight: 4 * others.length },
    ...others.map((arbitrary) => ({ arbitrary, weight: 1 })),
  );

const nasty = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '#', '\n', '1.10', 'é'.repeat(300), 'x'.repeat(513)),
);
const anyJson = fc.jsonValue({ maxDepth: 2 });

export const versionText = fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/);
export const version = usually(
  versionText,
  nasty,
  fc.double(),
  fc.integer(),
  fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z._+-]{64,70}$/),
  anyJson,
);

const printableAscii = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));
const asciiDigest = fc.string({ unit: printableAscii, minLength: 1, maxLength: 100 });
/** Lengths around the store's 512 characters, less and more than any prefix Kiln adds. */
const nearLimit = fc
  .integer({ min: 495, max: 515 })
  .chain((length) => fc.string({ unit: printableAscii, minLength: length, maxLength: length }));
export const digest = usually(asciiDigest, nearLimit, nasty, anyJson);

const s3Key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 });
export const uri = usually(
  fc.oneof(
    s3Key.map((key) => `s3://acme-artifacts-123456789012/${key}`),
    fc.webUrl({ validSchemes: ['https'], withQueryParameters: true, withFragments: true }),
    fc
      .tuple(
        fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/),
        fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/),
      )
      .map(([repository, tag]) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${repository}:${tag}`),
  ),
  nasty,
  fc.constantFrom(
    'file:///etc/passwd',
    'http://a.example/x',
    's3://acme-artifacts-123456789012/',
    'https://u:p@a.example/',
  ),
  anyJson,
);

const reservedOrText = fc.oneof(
  { arbitrary: fc.string({ maxLength: 12 }), weight: 20 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype'), weight: 1 },
);

/** A CI's detail: Kiln's fields (each possibly absent or wrong) beside anything else. */
export const customDetail = fc
  .tuple(
    fc.record(
      { service: usually(fc.constantFrom('payments', 'refunds'), nasty), uri, digest, version },
      { requiredKeys: ['uri', 'digest'] },
    ),
    fc.dictionary(reservedOrText, anyJson, { maxKeys: 3 }),
    fc.option(fc.record({ version }), { nil: undefined }),
  )
  .map(([kiln, extra, build]) => ({ ...extra, ...kiln, ...(build === undefined ? {} : { build }) }));

/** The `object` of an S3 Object Created detail. */
export const s3Object = fc.record(
  {
    key: usually(
      fc.oneof(
        fc.constant('checkout/releases/checkout-2.14.0.tar.gz'),
        s3Key.map((rest) => `checkout/releases/${rest}`),
      ),
      nasty,
      anyJson,
    ),
    size: usually(fc.nat(), anyJson),
    etag: usually(fc.stringMatching(/^[0-9a-f]{32}(-\d{1,5})?$/), digest),
    'version-id': usually(fc.stringMatching(/^[A-Za-z0-9._]{32}$/), digest),
    sequencer: usually(fc.stringMatching(/^[0-9A-F]{16,18}$/), digest),
  },
  { requiredKeys: [] },
);

/** An ECR push: the envelope's account and Region with the detail's fields. */
export const ecrPush = fc.record({
  account: usually(fc.constant('123456789012'), nasty),
  region: usually(fc.constantFrom('us-west-2', 'cn-north-1', 'us-gov-west-1'), nasty),
  detail: fc.record(
    {
      'repository-name': usually(fc.constant('finance/ledger'), nasty),
      'image-tag': usually(
        fc.oneof(fc.constant('v3.2.1'), fc.stringMatching(/^v?[0-9A-Za-z._-]{1,80}$/)),
        nasty,
      ),
      'image-digest': usually(fc.stringMatching(/^sha256:[0-9a-f]{64}$/), digest),
    },
    { requiredKeys: [] },
  ),
});
