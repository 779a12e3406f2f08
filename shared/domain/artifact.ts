/**
 * Which service an artifact belongs to, and which version it is. Pure: the caller hands in the
 * parsed event and the services' manifests.
 */
import {
  codeArtifactUri,
  ecrRegistryHost,
  RESERVED_KEYS,
  StoredArtifact,
  type ArtifactSourceKind,
} from './limits';
import { versionRuleOf, type ArtifactSection } from './manifest/artifact';

/** An artifact as Kiln identifies it from the event that announced it. */
export interface ArtifactRef {
  service: string;
  version: string;
  /** Where the bake fetches it from: s3://bucket/key, an ECR image URI by digest, or the CI's URI. */
  uri: string;
  /**
   * What makes this exact build unique (S3 version id or ETag, image digest, the CI's digest,
   * CodeArtifact's package version revision).
   */
  digest: string;
  sourceKind: ArtifactSourceKind;
}

/** The facts of an artifact event, independent of its wire shape. */
export type ArtifactFacts =
  | { kind: 's3'; bucket: string; key: string; etag?: string; versionId?: string; sequencer?: string }
  | { kind: 'ecr'; account: string; region: string; repository: string; digest: string; tag?: string }
  | {
      kind: 'custom';
      source: string;
      /** The service the CI names, when one CI publishes for several services. */
      service?: string;
      uri: string;
      digest: string;
      /** The whole detail, where the manifest's detailPath finds the version. */
      detail: Readonly<Record<string, unknown>>;
    }
  | {
      kind: 'codeartifact';
      region: string;
      domain: string;
      domainOwner: string;
      repository: string;
      format: string;
      /** Undefined when the event says null (a package without a namespace). */
      namespace?: string;
      package: string;
      version: string;
      /** One of Unfinished, Published, Unlisted, Archived, Disposed. */
      state: string;
      revision: string;
    };

/**
 * The digest of a CodeArtifact package version: its `packageVersionRevision`, which "uniquely
 * identifies the state of the assets and metadata of the package version" and changes when an
 * asset is added or replaced (https://docs.aws.amazon.com/codeartifact/latest/ug/service-event-format-example.html).
 * The event carries no asset hashes (ListPackageVersionAssets has them, at the cost of a call, an
 * IAM grant and the CodeArtifact client in on-artifact's cold start); the revision pins them all
 * the same: GetPackageVersionAsset takes it and serves exactly that revision's assets, so the bake
 * can fetch and check them.
 */
export const CODEARTIFACT_DIGEST_PREFIX = 'codeartifact-revision:';

/** Only a version in this state is ready to install; the others are skipped with the state named. */
export const CODEARTIFACT_PUBLISHED = 'Published';

/**
 * - matched: this service's artifact, which the store can keep;
 * - skipped: not this service's artifact (logged, never an error: one bucket can feed many
 *   services, and most services ignore most artifacts);
 * - refused: this service's artifact, but a value in it cannot be stored; `field` names where in
 *   the event the value came from.
 */
export type ArtifactMatch =
  | { outcome: 'matched'; artifact: ArtifactRef }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'refused'; field: string; reason: string };

/**
 * How an S3 upload's digest is spelt, by what identifies the upload, most specific first: a
 * version id names exactly one object version; an ETag names the content; a sequencer names one
 * write of the key (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
 */
export const S3_DIGEST_PREFIX = {
  versionId: 's3-version:',
  etag: 's3-etag:',
  sequencer: 's3-sequencer:',
} as const;

/** The digest of an S3 upload, or undefined when the event carries nothing that identifies it. */
export function s3Digest(facts: {
  etag?: string;
  versionId?: string;
  sequencer?: string;
}): string | undefined {
  if (facts.versionId !== undefined) return S3_DIGEST_PREFIX.versionId + facts.versionId;
  if (facts.etag !== undefined) return S3_DIGEST_PREFIX.etag + facts.etag;
  if (facts.sequencer !== undefined) return S3_DIGEST_PREFIX.sequencer + facts.sequencer;
  return undefined;
}

type SourceMatch =
  | { outcome: 'matched'; artifact: ArtifactRef; versionField: string }
  | Exclude<ArtifactMatch, { outcome: 'matched' }>;

/**
 * Matches one artifact against one service's manifest. A matched artifact is checked against the
 * store's own limits here, so the caller can check every service before it writes for any.
 */
export function matchArtifact(manifest: ArtifactSection, facts: ArtifactFacts): ArtifactMatch {
  const match = matchSource(manifest, facts);
  if (match.outcome !== 'matched') return match;
  const { artifact, versionField } = match;
  const stored = StoredArtifact.safeParse(artifact);
  if (stored.success) return { outcome: 'matched', artifact };
  const issue = stored.error.issues[0];
  const attribute = String(issue?.path[0] ?? 'artifact');
  const value = (artifact as unknown as Record<string, unknown>)[attribute];
  const read = attribute === 'version' ? ` read by ${artifact.service}'s manifest` : '';
  return {
    outcome: 'refused',
    field: attribute === 'version' ? versionField : attribute,
    reason: `${attribute} ${JSON.stringify(value)}${read} ${issue?.message ?? 'cannot be stored'}`,
  };
}

function matchSource(manifest: ArtifactSection, facts: ArtifactFacts): SourceMatch {
  const { source } = manifest.artifact;
  const rule = versionRuleOf(manifest.artifact);
  const service = manifest.name;
  const skip = (reason: string): SourceMatch => ({ outcome: 'skipped', reason });
  switch (facts.kind) {
    case 's3': {
      if (!source.s3) return skip(`${service} does not build from S3`);
      if (source.s3.bucket !== facts.bucket || !facts.key.startsWith(source.s3.keyPrefix)) {
        return skip(`${service} builds from s3://${source.s3.bucket}/${source.s3.keyPrefix}`);
      }
      if (rule.from !== 's3-key') return skip(`${service} has no S3 version rule`);
      const version = rule.pattern.exec(facts.key)?.groups?.version;
      if (!version) return skip(`key ${facts.key} does not match ${service}'s keyPattern`);
      const digest = s3Digest(facts);
      if (digest === undefined) {
        // Without one, every upload of the key would share one digest and look like a duplicate.
        return {
          outcome: 'refused',
          field: 'detail.object',
          reason: 'carries no etag, version-id or sequencer to tell this upload from others of the key',
        };
      }
      const uri = `s3://${facts.bucket}/${facts.key}`;
      return {
        outcome: 'matched',
        artifact: { service, version, uri, digest, sourceKind: 's3' },
        versionField: 'detail.object.key',
      };
    }
    case 'ecr': {
      if (!source.ecr) return skip(`${service} does not build from ECR`);
      if (source.ecr.repository !== facts.repository) {
        return skip(`${service} builds from ECR repository ${source.ecr.repository}`);
      }
      if (!facts.tag) return skip(`push of ${facts.digest} has no tag to read a version from`);
      const version =
        rule.from === 'ecr-tag' && rule.pattern ? rule.pattern.exec(facts.tag)?.groups?.version : facts.tag;
      if (!version) return skip(`tag ${facts.tag} does not match ${service}'s tagPattern`);
      const uri = `${ecrRegistryHost(facts.account, facts.region)}/${facts.repository}@${facts.digest}`;
      return {
        outcome: 'matched',
        artifact: { service, version, uri, digest: facts.digest, sourceKind: 'ecr' },
        versionField: 'detail.image-tag',
      };
    }
    case 'custom': {
      if (!source.custom) return skip(`${service} does not build from a custom event`);
      if (source.custom.source !== facts.source)
        return skip(`${service} listens for ${source.custom.source}`);
      if (facts.service !== undefined && facts.service !== service) {
        return skip(`the event is for service ${facts.service}`);
      }
      if (rule.from !== 'detail') return skip(`${service} has no detail version rule`);
      const field = `detail${rule.path.slice(1)}`;
      const version = readJsonPath(facts.detail, rule.path);
      if (typeof version !== 'string') {
        return { outcome: 'refused', field, reason: versionTypeProblem(version, service) };
      }
      return {
        outcome: 'matched',
        artifact: { service, version, uri: facts.uri, digest: facts.digest, sourceKind: 'custom' },
        versionField: field,
      };
    }
    case 'codeartifact': {
      const wanted = source.codeartifact;
      if (!wanted) return skip(`${service} does not build from CodeArtifact`);
      const where = `${wanted.domain}/${wanted.repository}/${wanted.format}/${wanted.namespace ?? ''}/${wanted.package}`;
      if (
        wanted.domain !== facts.domain ||
        (wanted.domainOwner !== undefined && wanted.domainOwner !== facts.domainOwner) ||
        wanted.repository !== facts.repository ||
        wanted.format !== facts.format ||
        wanted.namespace !== facts.namespace ||
        packageName(wanted.format, wanted.package) !== packageName(facts.format, facts.package)
      ) {
        return skip(`${service} builds from CodeArtifact package ${where}`);
      }
      if (facts.state !== CODEARTIFACT_PUBLISHED) {
        return skip(`${facts.package} ${facts.version} is ${facts.state}, not ${CODEARTIFACT_PUBLISHED}`);
      }
      const { version } = facts;
      return {
        outcome: 'matched',
        artifact: {
          service,
          version,
          uri: codeArtifactUri(facts),
          digest: CODEARTIFACT_DIGEST_PREFIX + facts.revision,
          sourceKind: 'codeartifact',
        },
        versionField: 'detail.packageVersion',
      };
    }
  }
}

/**
 * A package name as CodeArtifact compares it. PyPI names are normalized (runs of `-`, `_` and `.`
 * are one `-`, letters lower case: PEP 503), so `My_Package` and `my-package` are one package
 * (https://docs.aws.amazon.com/codeartifact/latest/ug/python-name-normalization.html); other
 * formats compare names as they are.
 */
function packageName(format: string, name: string): string {
  return format === 'pypi' ? name.replace(/[-_.]+/g, '-').toLowerCase() : name;
}

function versionTypeProblem(version: unknown, service: string): string {
  if (version === undefined) return `is missing, and ${service}'s manifest reads the version from it`;
  // JSON.parse has already turned 1.10 into 1.1 and 2.0 into 2: a number cannot be trusted.
  if (typeof version === 'number') {
    return `must be a string, not the number ${version}: JSON numbers lose digits (1.10 arrives as 1.1)`;
  }
  return `must be a string, not ${version === null ? 'null' : Array.isArray(version) ? 'a list' : typeof version}`;
}

/**
 * Reads `$.a.b[0]['c-d']` from parsed JSON, through own properties only: names a value only
 * inherits (`constructor`, `toString`, an array's `length`) and the reserved names read nothing.
 * Written by hand: the manifest allows only this small, validated subset of JSONPath, and a full
 * JSONPath library would be the larger risk.
 */
export function readJsonPath(value: unknown, path: string): unknown {
  const segments = [...path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\['([^']+)'\]/g)];
  let current: unknown = value;
  for (const [, dotted, index, quoted] of segments) {
    const key = dotted ?? quoted;
    if (key !== undefined) {
      if (!isJsonObject(current) || RESERVED_KEYS.has(key) || !Object.hasOwn(current, key)) return undefined;
      current = current[key];
    } else {
      const position = Number(index);
      if (!Array.isArray(current) || position >= current.length) return undefined;
      current = current[position] as unknown;
    }
  }
  return current;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
