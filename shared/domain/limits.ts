/**
 * What Kiln's store can hold, defined once. The store's schemas (shared/store/schemas.ts) and the
 * inbound event schemas (shared/events/) are both built from these, so an event that parses can
 * always be stored, and a value that could not be stored is refused while parsing, by its field.
 *
 * The binding limits are DynamoDB's: a sort key holds at most 1,024 bytes of UTF-8, a partition
 * key 2,048, an item 400 KB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-partition-sort-keys).
 * An artifact's sort key is `ARTIFACT#<version>#<digest>`: versions and digests are ASCII, so
 * their character limits are byte limits, and 9 + 64 + 1 + 512 = 586 bytes always fits.
 */
import * as z from './zod';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const noControlCharacters = (value: string) => !CONTROL_CHARACTERS.test(value);
const utf8Bytes = (value: string) => new TextEncoder().encode(value).length;

/** A name that becomes part of a key: non-empty, no `#`, no control characters, at most 200 chars. */
export const KEY_NAME_MAX = 200;
export const KeyName = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(KEY_NAME_MAX, `must be at most ${KEY_NAME_MAX} characters`),
  z.refine((value) => !value.includes('#'), 'must not contain "#"'),
  z.refine(noControlCharacters, 'must not contain control characters'),
);

/**
 * An artifact version: it names a release, and goes into DynamoDB keys and Step Functions
 * execution names (at most 80 characters of letters, digits, `-` and `_` among others:
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html), so only
 * characters that can never smuggle in a separator.
 */
export const ARTIFACT_VERSION_MAX = 64;
export const ArtifactVersion = z
  .string()
  .check(
    z.regex(
      new RegExp(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,${ARTIFACT_VERSION_MAX - 1}}$`),
      `must be 1-${ARTIFACT_VERSION_MAX} letters, digits, ".", "_", "+" or "-", starting with a letter or digit`,
    ),
  );

/** What makes one build unique (S3 version id or ETag, image digest, a CI's digest); part of a key. */
export const ARTIFACT_DIGEST_MAX = 512;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const PRINTABLE_ASCII_MESSAGE = 'must be printable ASCII without spaces';
export const ArtifactDigest = digestPart('');

/**
 * A value the store keeps as `prefix + value` in the digest (`s3-etag:` + the ETag, …): the
 * prefix's length comes off the digest's limit, so a value that parses always fits.
 */
export function digestPart(prefix: string) {
  const max = ARTIFACT_DIGEST_MAX - prefix.length;
  return z
    .string()
    .check(
      z.minLength(1, 'must not be empty'),
      z.maxLength(max, `must be at most ${max} characters (the stored digest holds ${ARTIFACT_DIGEST_MAX})`),
      z.regex(PRINTABLE_ASCII, PRINTABLE_ASCII_MESSAGE),
    );
}

// ---------------------------------------------------------------------------------------------
// Where an artifact lives: the pieces of the URIs Kiln can install from.

// S3 general purpose bucket names: 3-63 characters, lowercase letters, digits, dots, hyphens,
// beginning and ending with a letter or digit, no two adjacent dots.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const S3_BUCKET = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const S3BucketName = z
  .string()
  .check(z.regex(S3_BUCKET, 'must be an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens'));

// Object keys: any Unicode whose UTF-8 encoding is at most 1,024 bytes
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html); Kiln also refuses
// control characters, which no URI it stores (or logs) may hold.
export const S3_KEY_MAX_BYTES = 1024;
export const S3ObjectKey = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.refine(noControlCharacters, 'must not contain control characters'),
  z.refine((key) => utf8Bytes(key) <= S3_KEY_MAX_BYTES, `must be at most ${S3_KEY_MAX_BYTES} bytes of UTF-8`),
);

// ECR repository names: 2-256 characters, lowercase, optionally namespaced with "/".
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const EcrRepositoryName = z
  .string()
  .check(
    z.minLength(2),
    z.maxLength(256),
    z.regex(ECR_REPOSITORY, 'must be an ECR repository name like team/checkout'),
  );

// An image digest names the manifest's sha256: 64 lowercase hex digits
// (https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests). A shorter one
// cannot be pulled (AWS's sample ECR event carries a 60-digit placeholder).
const IMAGE_DIGEST = /^sha256:[0-9a-f]{64}$/;
export const ImageDigest = z
  .string()
  .check(z.regex(IMAGE_DIGEST, 'must be sha256: and 64 lowercase hex digits'));

// Image tags: 1-300 characters (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageIdentifier.html).
export const ImageTag = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(300),
    z.refine(noControlCharacters, 'must not contain control characters'),
  );

// Account ids are 12 digits; Region codes such as us-east-1, us-gov-west-1, cn-north-1.
// https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html
export const AwsAccountId = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'));
const REGION = /^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
export const AwsRegion = z.string().check(z.regex(REGION, 'must be an AWS Region code like us-east-1'));

/**
 * The registry host of a private ECR registry: ACCOUNT.dkr.ecr.REGION.amazonaws.com, with
 * `.amazonaws.com.cn` in the China Regions
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html).
 */
export function ecrRegistryHost(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The artifact URI: what the bake fetches. Only schemes Kiln can install from, never file://.

export const ARTIFACT_URI_MAX = 2048;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([^@]+)|@(.+))?$/;
const URI_FORMS =
  's3://bucket/key, an ECR image (ACCOUNT.dkr.ecr.REGION.amazonaws.com/repository[:tag|@sha256:…]), a codeartifact:// package version or an https:// URL';

/** Why `uri` is not one Kiln can install from, or undefined when it is. */
export function artifactUriProblem(uri: string): string | undefined {
  if (uri.length === 0) return 'must not be empty';
  if (uri.length > ARTIFACT_URI_MAX) return `must be at most ${ARTIFACT_URI_MAX} characters`;
  if (!noControlCharacters(uri)) return 'must not contain control characters';
  if (uri.startsWith('s3://')) {
    const slash = uri.indexOf('/', 5);
    const bucket = slash < 0 ? uri.slice(5) : uri.slice(5, slash);
    const key = slash < 0 ? '' : uri.slice(slash + 1);
    if (!S3_BUCKET.test(bucket)) return `names an invalid S3 bucket ${JSON.stringify(bucket)}`;
    if (key === '') return 'must name an object key after the bucket (s3://bucket/key)';
    if (utf8Bytes(key) > S3_KEY_MAX_BYTES) return `has an object key over ${S3_KEY_MAX_BYTES} bytes`;
    return undefined;
  }
  if (uri.startsWith('https://')) return httpsProblem(uri);
  if (uri.startsWith(CODEARTIFACT_SCHEME)) return codeArtifactUriProblem(uri);
  const ecr = ECR_IMAGE.exec(uri);
  if (ecr !== null) {
    const [, , region = '', repository = '', tag, digest] = ecr;
    if (!REGION.test(region)) return `names an invalid Region ${JSON.stringify(region)} in its ECR registry`;
    if (!ECR_REPOSITORY.test(repository) || repository.length > 256)
      return `names an invalid ECR repository ${JSON.stringify(repository)}`;
    if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,299}$/.test(tag))
      return `has an invalid image tag ${JSON.stringify(tag)}`;
    if (digest !== undefined && !IMAGE_DIGEST.test(digest))
      return 'pins an image digest that is not sha256: and 64 lowercase hex digits';
    return undefined;
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1];
  return scheme === undefined
    ? `must be ${URI_FORMS}`
    : `uses ${JSON.stringify(scheme)}, which Kiln cannot install from: must be ${URI_FORMS}`;
}

// ---------------------------------------------------------------------------------------------
// CodeArtifact package versions. CodeArtifact has no URI of its own for a package version (its
// ARNs name packages, not versions, and its HTTPS endpoints differ by format), so Kiln names one:
//   codeartifact://REGION/DOMAIN_OWNER/DOMAIN/REPOSITORY/FORMAT/NAMESPACE/PACKAGE/VERSION
// in the order of the package ARN (arn:aws:codeartifact:REGION:OWNER:package/DOMAIN/REPOSITORY/
// FORMAT/NAMESPACE/PACKAGE, https://docs.aws.amazon.com/codeartifact/latest/ug/repo-policies.html),
// each part percent-encoded, NAMESPACE empty for a package without one (as in the ARN). It holds
// every parameter GetPackageVersionAsset needs but the asset name; the digest carries the revision
// (https://docs.aws.amazon.com/codeartifact/latest/APIReference/API_GetPackageVersionAsset.html).

export const CODEARTIFACT_SCHEME = 'codeartifact://';

/** The package formats Kiln bakes from (of npm | pypi | maven | nuget | generic | ruby | swift | cargo). */
export const CODEARTIFACT_FORMATS = ['maven', 'npm', 'pypi', 'generic'] as const;
export type CodeArtifactFormat = (typeof CODEARTIFACT_FORMATS)[number];

export interface CodeArtifactPackageVersion {
  region: string;
  domainOwner: string;
  domain: string;
  repository: string;
  format: string;
  /** Undefined for a package without a namespace (PyPI; npm without a scope). */
  namespace?: string | undefined;
  package: string;
  version: string;
}

export function codeArtifactUri(p: CodeArtifactPackageVersion): string {
  const parts = [
    p.region,
    p.domainOwner,
    p.domain,
    p.repository,
    p.format,
    p.namespace ?? '',
    p.package,
    p.version,
  ];
  return CODEARTIFACT_SCHEME + parts.map(encodeURIComponent).join('/');
}

function codeArtifactUriProblem(uri: string): string | undefined {
  const form =
    'must be codeartifact://REGION/DOMAIN_OWNER/DOMAIN/REPOSITORY/FORMAT/NAMESPACE/PACKAGE/VERSION';
  const parts = uri.slice(CODEARTIFACT_SCHEME.length).split('/');
  if (parts.length !== 8) return form;
  let decoded: string[];
  try {
    decoded = parts.map(decodeURIComponent);
  } catch {
    return `${form}, each part percent-encoded`;
  }
  const [region = '', owner = '', domain, repository, format = '', , pkg, version] = decoded;
  if (!REGION.test(region)) return `names an invalid Region ${JSON.stringify(region)}`;
  if (!/^\d{12}$/.test(owner)) return 'names a domain owner that is not a 12-digit account id';
  if (!(CODEARTIFACT_FORMATS as readonly string[]).includes(format)) {
    return `names the package format ${JSON.stringify(format)}; Kiln bakes ${CODEARTIFACT_FORMATS.join(', ')}`;
  }
  if ([domain, repository, pkg, version].some((part) => part === '')) return form;
  return undefined;
}

function httpsProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be a valid https:// URL';
  }
  if (url.hostname === '') return 'must name a host';
  // Credentials in a URL would be stored, audited and logged in the clear.
  if (url.username !== '' || url.password !== '')
    return 'must not carry credentials (user:password@): grant the bake access instead';
  if (/\s/.test(uri)) return 'must not contain spaces (percent-encode them)';
  return undefined;
}

export const ArtifactUri = z.string().check(
  z.superRefine((uri, ctx) => {
    const problem = artifactUriProblem(uri);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

/** Where an artifact was announced: S3, ECR, a CI's own event, or CodeArtifact. */
export const ARTIFACT_SOURCE_KINDS = ['s3', 'ecr', 'custom', 'codeartifact'] as const;
export type ArtifactSourceKind = (typeof ARTIFACT_SOURCE_KINDS)[number];

/** An artifact as the store keeps it. */
export const StoredArtifact = z.object({
  service: KeyName,
  version: ArtifactVersion,
  uri: ArtifactUri,
  /** Part of the key, so a rebuild of a version is a new record. */
  digest: ArtifactDigest,
  sourceKind: z.enum(ARTIFACT_SOURCE_KINDS),
});

/**
 * Property names Kiln never reads from inbound JSON. JavaScript gives them meaning (`__proto__`
 * copied by assignment replaces an object's prototype; `constructor` and `prototype` are inherited
 * by every object), so a value under one of them could pose as a field the sender never set.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
