import { z } from 'zod';
import { eventBridgeEvent } from './envelope';

/**
 * Events that announce a new artifact. One schema per `detail-type`; the samples in
 * test/fixtures/events/{s3,ecr} are AWS's documented examples.
 */

/** https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html (Object Created) */
export const S3ObjectCreatedEvent = eventBridgeEvent(
  'Object Created',
  z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      etag: z.string().optional(),
      'version-id': z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
).extend({ source: z.literal('aws.s3') });
export type S3ObjectCreatedEvent = z.infer<typeof S3ObjectCreatedEvent>;

/** Amazon ECR user guide, "Amazon ECR events and EventBridge": an image push that completed. */
export const EcrImagePushEvent = eventBridgeEvent(
  'ECR Image Action',
  z.object({
    result: z.literal('SUCCESS'),
    'action-type': z.literal('PUSH'),
    'repository-name': z.string().min(1),
    'image-digest': z.string().regex(/^sha256:[0-9a-f]+$/, 'must be sha256:<hex>'),
    'image-tag': z.string().min(1).optional(),
  }),
).extend({ source: z.literal('aws.ecr') });
export type EcrImagePushEvent = z.infer<typeof EcrImagePushEvent>;

/**
 * Kiln's own event for any CI that publishes artifacts elsewhere (`aws events put-events` with
 * detail-type "Artifact Published"). `source` is the CI's (e.g. com.acme.ci), matched to a
 * service by its manifest.
 */
export const ArtifactPublishedEvent = eventBridgeEvent(
  'Artifact Published',
  z
    .object({
      service: z.string().min(1).optional(),
      uri: z.string().min(1),
      digest: z.string().min(1),
    })
    .loose(),
);
export type ArtifactPublishedEvent = z.infer<typeof ArtifactPublishedEvent>;

export const ArtifactEvent = z.union([S3ObjectCreatedEvent, EcrImagePushEvent, ArtifactPublishedEvent]);
export type ArtifactEvent = z.infer<typeof ArtifactEvent>;
