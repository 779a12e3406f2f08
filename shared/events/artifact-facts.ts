import { z } from 'zod';
import type { ArtifactFacts } from '../domain/artifact';
import { ArtifactPublishedEvent, EcrImagePushEvent, S3ObjectCreatedEvent } from './artifact';

/**
 * Parses an artifact event by its detail-type (so errors name the fields of the right schema,
 * not of a union) and reduces it to the facts the domain needs.
 */
export const ArtifactEventSchema = z
  .object({ 'detail-type': z.enum(['Object Created', 'ECR Image Action', 'Artifact Published']) })
  .loose()
  .transform((event, ctx): ArtifactFacts => {
    const detailType = (event as { 'detail-type': string })['detail-type'];
    const schema =
      detailType === 'Object Created'
        ? S3ObjectCreatedEvent
        : detailType === 'ECR Image Action'
          ? EcrImagePushEvent
          : ArtifactPublishedEvent;
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ ...issue, code: 'custom', message: issue.message });
      return z.NEVER;
    }
    return toFacts(parsed.data);
  });

function toFacts(event: S3ObjectCreatedEvent | EcrImagePushEvent | ArtifactPublishedEvent): ArtifactFacts {
  switch (event['detail-type']) {
    case 'Object Created': {
      const { bucket, object } = (event as S3ObjectCreatedEvent).detail;
      return {
        kind: 's3',
        bucket: bucket.name,
        key: object.key,
        ...(object.etag !== undefined ? { etag: object.etag } : {}),
        ...(object['version-id'] !== undefined ? { versionId: object['version-id'] } : {}),
        ...(object.sequencer !== undefined ? { sequencer: object.sequencer } : {}),
      };
    }
    case 'ECR Image Action': {
      const ecr = event as EcrImagePushEvent;
      return {
        kind: 'ecr',
        account: ecr.account,
        region: ecr.region,
        repository: ecr.detail['repository-name'],
        digest: ecr.detail['image-digest'],
        ...(ecr.detail['image-tag'] !== undefined ? { tag: ecr.detail['image-tag'] } : {}),
      };
    }
    default: {
      const custom = event as ArtifactPublishedEvent;
      return {
        kind: 'custom',
        source: custom.source,
        detailType: custom['detail-type'],
        detail: custom.detail,
      };
    }
  }
}
