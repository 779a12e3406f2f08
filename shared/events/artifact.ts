import { CODEARTIFACT_DIGEST_PREFIX, S3_DIGEST_PREFIX } from '../domain/artifact';
import {
  ArtifactDigest,
  ArtifactUri,
  AwsAccountId,
  AwsRegion,
  digestPart,
  EcrRepositoryName,
  ImageDigest,
  ImageTag,
  KeyName,
  S3ObjectKey,
} from '../domain/limits';
import { CiEventSourceSchema } from '../domain/manifest/artifact';
import * as z from '../domain/zod';
import { eventBridgeEvent } from './envelope';

/**
 * Events that announce a new artifact. One schema per `detail-type`; the samples in
 * test/fixtures/events/{s3,ecr} are AWS's documented examples. Every field Kiln stores is checked
 * with the store's own limits (shared/domain/limits.ts), so an event that parses can be recorded.
 */

/** https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html (Object Created) */
export const S3ObjectCreatedEvent = z.extend(
  eventBridgeEvent(
    'Object Created',
    z.object({
      // Not held to today's naming rules: legacy us-east-1 buckets may have names no manifest can
      // name (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), and
      // their events are skipped, not refused.
      bucket: z.object({ name: z.string().check(z.minLength(1)) }),
      object: z
        .object({
          key: S3ObjectKey,
          size: z.optional(z.number().check(z.int(), z.nonnegative())),
          // The page above lists the object's fields without promising any of these three; each
          // becomes the stored digest behind its prefix (see s3Digest).
          etag: z.optional(digestPart(S3_DIGEST_PREFIX.etag)),
          'version-id': z.optional(digestPart(S3_DIGEST_PREFIX.versionId)),
          sequencer: z.optional(digestPart(S3_DIGEST_PREFIX.sequencer)),
        })
        .check(
          z.refine(
            (object) =>
              object.etag !== undefined ||
              object['version-id'] !== undefined ||
              object.sequencer !== undefined,
            'must carry an etag, version-id or sequencer: without one, different uploads of a key would look like duplicates',
          ),
        ),
    }),
  ),
  { source: z.literal('aws.s3') },
);
export type S3ObjectCreatedEvent = z.infer<typeof S3ObjectCreatedEvent>;

/** Amazon ECR user guide, "Amazon ECR events and EventBridge": an image push that completed. */
export const EcrImagePushEvent = z.extend(
  eventBridgeEvent(
    'ECR Image Action',
    z.object({
      result: z.literal('SUCCESS'),
      'action-type': z.literal('PUSH'),
      'repository-name': EcrRepositoryName,
      'image-digest': ImageDigest,
      'image-tag': z.optional(ImageTag),
    }),
  ),
  {
    source: z.literal('aws.ecr'),
    // Both go into the image URI Kiln stores.
    account: AwsAccountId,
    region: AwsRegion,
  },
);
export type EcrImagePushEvent = z.infer<typeof EcrImagePushEvent>;

/**
 * Kiln's own event for any CI that publishes artifacts elsewhere (`aws events put-events` with
 * detail-type "Artifact Published"). `source` is the CI's (e.g. com.acme.ci), matched to a
 * service by its manifest; `service` picks one service when a CI builds several. The version is
 * read where the manifest's detailPath says (default `$.version`), so the rest stays open.
 */
export const ArtifactPublishedEvent = z.extend(
  eventBridgeEvent(
    'Artifact Published',
    z.looseObject({
      service: z.optional(KeyName),
      uri: ArtifactUri,
      digest: ArtifactDigest,
    }),
  ),
  { source: CiEventSourceSchema },
);
export type ArtifactPublishedEvent = z.infer<typeof ArtifactPublishedEvent>;

/**
 * CodeArtifact: a package version was created, changed or deleted
 * (https://docs.aws.amazon.com/codeartifact/latest/ug/service-event-format-example.html; the
 * sample is test/fixtures/events/codeartifact/). Names are checked for what Kiln stores and keys,
 * not held to today's naming rules (AWS's own sample has the domain `my_domain`, which
 * CreateDomain would refuse): a name no manifest can hold is skipped, not refused. Every state is
 * accepted here; matching skips all but Published, with the state named.
 */
const CodeArtifactName = z
  .string()
  .check(z.minLength(1), z.maxLength(255), z.regex(/^[^#/\s]+$/, 'must hold no "#", "/" or white space'));
export const CodeArtifactPackageVersionEvent = z.extend(
  eventBridgeEvent(
    'CodeArtifact Package Version State Change',
    z.object({
      domainName: CodeArtifactName,
      domainOwner: AwsAccountId,
      repositoryName: CodeArtifactName,
      packageFormat: CodeArtifactName,
      // null for a package without one (the sample's npm package has no scope).
      packageNamespace: z.optional(z.nullable(CodeArtifactName)),
      packageName: CodeArtifactName,
      packageVersion: CodeArtifactName,
      packageVersionState: z.string().check(z.minLength(1)),
      packageVersionRevision: digestPart(CODEARTIFACT_DIGEST_PREFIX),
    }),
  ),
  {
    source: z.literal('aws.codeartifact'),
    // Goes into the artifact URI (where the bake fetches the package from).
    region: AwsRegion,
  },
);
export type CodeArtifactPackageVersionEvent = z.infer<typeof CodeArtifactPackageVersionEvent>;

export type ArtifactEvent =
  S3ObjectCreatedEvent | EcrImagePushEvent | ArtifactPublishedEvent | CodeArtifactPackageVersionEvent;
