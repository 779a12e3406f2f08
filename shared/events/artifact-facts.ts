import type { ArtifactFacts } from '../domain/artifact';
import { RESERVED_KEYS } from '../domain/limits';
import * as z from '../domain/zod';
import {
  ArtifactPublishedEvent,
  CodeArtifactPackageVersionEvent,
  EcrImagePushEvent,
  S3ObjectCreatedEvent,
  type ArtifactEvent,
} from './artifact';

/** Each artifact detail-type and its schema. */
const SCHEMAS = {
  'Object Created': S3ObjectCreatedEvent,
  'ECR Image Action': EcrImagePushEvent,
  'Artifact Published': ArtifactPublishedEvent,
  'CodeArtifact Package Version State Change': CodeArtifactPackageVersionEvent,
} as const;
type DetailType = keyof typeof SCHEMAS;
const DETAIL_TYPES = Object.keys(SCHEMAS) as [DetailType, ...DetailType[]];

/**
 * Parses an artifact event by its detail-type (so errors name the fields of the right schema,
 * not of a union) and reduces it to the facts the domain needs. An event holding a reserved key
 * (`__proto__`, `constructor`, `prototype`) anywhere is refused before anything reads it: zod
 * copies keys by assignment, and `__proto__` assigned replaces the copy's prototype, whose fields
 * would then pose as the event's own.
 */
export const ArtifactEventSchema = z.pipe(
  z.unknown().check(
    z.superRefine((event, ctx) => {
      for (const path of reservedKeyPaths(event)) {
        ctx.addIssue({ code: 'custom', path, message: 'is a reserved name Kiln never reads: remove it' });
      }
    }),
  ),
  z.pipe(
    z.looseObject({ 'detail-type': z.enum(DETAIL_TYPES) }),
    z.transform((event, payload): ArtifactFacts => {
      const schema: z.ZodMiniType<ArtifactEvent> = SCHEMAS[event['detail-type']];
      const parsed = z.safeParse(schema, event);
      if (!parsed.success) {
        // The detail-type's own issues, paths and messages as they are.
        for (const issue of parsed.error.issues)
          payload.issues.push({ ...issue, code: 'custom', input: event });
        return z.NEVER;
      }
      return toFacts(parsed.data);
    }),
  ),
);

/** Paths of the first few reserved keys, at any depth. Iterative: a deep payload cannot overflow the stack. */
function reservedKeyPaths(value: unknown, limit = 5): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  const pending: Array<{ value: unknown; path: PropertyKey[] }> = [{ value, path: [] }];
  const seen = new WeakSet<object>();
  while (pending.length > 0 && found.length < limit) {
    const next = pending.pop();
    if (next === undefined || typeof next.value !== 'object' || next.value === null) continue;
    if (seen.has(next.value)) continue;
    seen.add(next.value);
    for (const [key, child] of Object.entries(next.value)) {
      const path = [...next.path, Array.isArray(next.value) ? Number(key) : key];
      if (RESERVED_KEYS.has(key)) found.push(path);
      else pending.push({ value: child, path });
    }
  }
  return found;
}

function toFacts(event: ArtifactEvent): ArtifactFacts {
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
    case 'CodeArtifact Package Version State Change': {
      const { region } = event as CodeArtifactPackageVersionEvent;
      const detail = (event as CodeArtifactPackageVersionEvent).detail;
      return {
        kind: 'codeartifact',
        region,
        domain: detail.domainName,
        domainOwner: detail.domainOwner,
        repository: detail.repositoryName,
        format: detail.packageFormat,
        ...(detail.packageNamespace == null ? {} : { namespace: detail.packageNamespace }),
        package: detail.packageName,
        version: detail.packageVersion,
        state: detail.packageVersionState,
        revision: detail.packageVersionRevision,
      };
    }
    default: {
      const custom = event as ArtifactPublishedEvent;
      return {
        kind: 'custom',
        source: custom.source,
        ...(custom.detail.service !== undefined ? { service: custom.detail.service } : {}),
        uri: custom.detail.uri,
        digest: custom.detail.digest,
        detail: custom.detail,
      };
    }
  }
}
