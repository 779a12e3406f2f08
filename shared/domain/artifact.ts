/**
 * Which service an artifact belongs to, and which version it is. Pure: the caller hands in the
 * parsed event and the services' manifests.
 */
import { versionRuleOf, type ServiceManifest } from './manifest/schema';

/** An artifact as Kiln identifies it from the event that announced it. */
export interface ArtifactRef {
  service: string;
  version: string;
  /** Where the bake fetches it from: s3://bucket/key, an ECR image URI by digest, or the CI's URI. */
  uri: string;
  /** What makes this exact build unique (S3 version id or ETag, image digest, the CI's digest). */
  digest: string;
  sourceKind: 's3' | 'ecr' | 'custom';
}

/** The facts of an artifact event, independent of its wire shape. */
export type ArtifactFacts =
  | { kind: 's3'; bucket: string; key: string; etag?: string; versionId?: string; sequencer?: string }
  | { kind: 'ecr'; account: string; region: string; repository: string; digest: string; tag?: string }
  | { kind: 'custom'; source: string; detailType: string; detail: Record<string, unknown> };

export type ArtifactMatch = { matched: true; artifact: ArtifactRef } | { matched: false; reason: string };

/**
 * Matches one artifact against one service's manifest. A service whose source is not this
 * artifact's gets `matched: false` with the reason (logged, never an error: one bucket can feed
 * many services).
 */
export function matchArtifact(manifest: ServiceManifest, facts: ArtifactFacts): ArtifactMatch {
  const match = matchSource(manifest, facts);
  if (match.matched && !isSafeVersion(match.artifact.version)) {
    return {
      matched: false,
      reason: `version ${JSON.stringify(match.artifact.version)} must be 1-64 letters, digits, '.', '_', '+' or '-'`,
    };
  }
  return match;
}

function matchSource(manifest: ServiceManifest, facts: ArtifactFacts): ArtifactMatch {
  const { source } = manifest.artifact;
  const rule = versionRuleOf(manifest.artifact);
  const service = manifest.name;
  switch (facts.kind) {
    case 's3': {
      if (!source.s3) return { matched: false, reason: `${service} does not build from S3` };
      if (source.s3.bucket !== facts.bucket || !facts.key.startsWith(source.s3.keyPrefix)) {
        return {
          matched: false,
          reason: `${service} builds from s3://${source.s3.bucket}/${source.s3.keyPrefix}`,
        };
      }
      if (rule.from !== 's3-key') return { matched: false, reason: `${service} has no S3 version rule` };
      const version = rule.pattern.exec(facts.key)?.groups?.version;
      if (!version)
        return { matched: false, reason: `key ${facts.key} does not match ${service}'s keyPattern` };
      const digest = facts.versionId
        ? `s3-version:${facts.versionId}`
        : `s3-etag:${facts.etag ?? facts.sequencer ?? ''}`;
      return {
        matched: true,
        artifact: { service, version, uri: `s3://${facts.bucket}/${facts.key}`, digest, sourceKind: 's3' },
      };
    }
    case 'ecr': {
      if (!source.ecr) return { matched: false, reason: `${service} does not build from ECR` };
      if (source.ecr.repository !== facts.repository) {
        return { matched: false, reason: `${service} builds from ECR repository ${source.ecr.repository}` };
      }
      if (!facts.tag)
        return { matched: false, reason: `push of ${facts.digest} has no tag to read a version from` };
      const version =
        rule.from === 'ecr-tag' && rule.pattern ? rule.pattern.exec(facts.tag)?.groups?.version : facts.tag;
      if (!version)
        return { matched: false, reason: `tag ${facts.tag} does not match ${service}'s tagPattern` };
      const uri = `${facts.account}.dkr.ecr.${facts.region}.amazonaws.com/${facts.repository}@${facts.digest}`;
      return { matched: true, artifact: { service, version, uri, digest: facts.digest, sourceKind: 'ecr' } };
    }
    case 'custom': {
      if (!source.custom) return { matched: false, reason: `${service} does not build from a custom event` };
      if (source.custom.source !== facts.source || source.custom.detailType !== facts.detailType) {
        return {
          matched: false,
          reason: `${service} listens for ${source.custom.source} / ${source.custom.detailType}`,
        };
      }
      if (rule.from !== 'detail') return { matched: false, reason: `${service} has no detail version rule` };
      const version = readJsonPath(facts.detail, rule.path);
      if (typeof version !== 'string' && typeof version !== 'number') {
        return { matched: false, reason: `detail has no version at ${rule.path}` };
      }
      const uri = facts.detail.uri;
      const digest = facts.detail.digest;
      if (typeof uri !== 'string' || typeof digest !== 'string') {
        return { matched: false, reason: 'detail.uri and detail.digest must be strings' };
      }
      return {
        matched: true,
        artifact: { service, version: String(version), uri, digest, sourceKind: 'custom' },
      };
    }
  }
}

/**
 * Reads `$.a.b[0]['c-d']` from a value. Written by hand: the manifest allows only this small,
 * validated subset of JSONPath, and a full JSONPath library would be the larger risk.
 */
export function readJsonPath(value: unknown, path: string): unknown {
  const segments = [...path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\['([^']+)'\]/g)];
  let current: unknown = value;
  for (const [, dotted, index, quoted] of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = dotted ?? quoted ?? Number(index);
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/**
 * A version must be usable in Step Functions execution names and DynamoDB keys: reject anything
 * outside letters, digits and . _ + - so a hostile tag cannot smuggle in a separator.
 */
export function isSafeVersion(version: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/.test(version);
}
