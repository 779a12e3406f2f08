/**
 * The part of a manifest that says where a service's artifacts come from, on its own: the
 * functions that match artifacts to services (on-artifact) read only this part of the stored
 * manifests, and build only these few schemas at cold start instead of the whole manifest schema.
 * The manifest schema (./schema.ts) builds its `artifact` section from the same pieces.
 */
import * as z from '../zod';
import { MANIFEST_BOUNDS } from './limits';

/** Default for S3: the object's file name, without a common archive extension. */
export const DEFAULT_S3_KEY_VERSION_PATTERN =
  '(?<version>[^/]+?)(?:\\.(?:tar\\.gz|tgz|tar|zip|jar|war|deb|rpm))?$';
/** Default for a custom event: `detail.version`. */
export const DEFAULT_DETAIL_VERSION_PATH = '$.version';

/** The detail-type every CI sends; the on-artifact rule in serverless.yml listens for it alone. */
export const ARTIFACT_PUBLISHED = 'Artifact Published';

/** The manifest format this code reads and writes (`apiVersion`). */
export const MANIFEST_API_VERSION = 'kiln.dev/v1';

// A CI publishing its own event with PutEvents: Source 1-256 characters and not "aws." (reserved
// for AWS services).
// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html
export const CiEventSourceSchema = z.string().check(
  z.minLength(1),
  z.maxLength(256),
  z.refine((source) => !source.startsWith('aws.'), 'must not start with "aws." (reserved for AWS services)'),
);

/** A regular expression (JavaScript syntax) that compiles and has a named group `version`. */
export const VersionPatternSchema = z.string().check(
  z.minLength(1),
  z.maxLength(MANIFEST_BOUNDS.patternLength),
  z.superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (error) {
      const text =
        typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : '';
      const reason = text.replace(/^Invalid regular expression: \/.*\/\w*: /, '');
      ctx.addIssue({ code: 'custom', message: `is not a valid regular expression (${reason})` });
      return;
    }
    // `|` lets the expression match the empty string, so exec always returns the group names.
    const groups = new RegExp(`${source}|`).exec('')?.groups;
    if (groups === undefined || !('version' in groups)) {
      ctx.addIssue({ code: 'custom', message: 'must contain a named group (?<version>…)' });
    }
  }),
);

/** How to read a version off an artifact, with the defaults resolved. */
export type VersionRule =
  | { from: 's3-key'; pattern: RegExp }
  | { from: 'ecr-tag'; pattern: RegExp | undefined }
  | { from: 'detail'; path: string }
  | { from: 'package-version' };

/**
 * What a stored manifest must hold for artifacts to be matched against it. Manifests are
 * validated in full before they are stored (`kiln services apply`), so this is not a second
 * validation of the author's input: it checks that the record is one this code can read — the
 * manifest format it was stored under (`apiVersion`: a record written by a newer or older Kiln
 * under another format is refused by name, not misread) and the shape of the fields matching
 * reads, patterns included (matching compiles them), and the environments' names (a matched
 * artifact's deployment goes through them). Open (`looseObject`) everywhere else: the bake and
 * the rest of each environment are none of its business.
 */
export const StoredArtifactView = z.looseObject({
  apiVersion: z.literal(MANIFEST_API_VERSION),
  name: z.string().check(z.minLength(1)),
  artifact: z.looseObject({
    source: z.looseObject({
      s3: z.optional(z.looseObject({ bucket: z.string(), keyPrefix: z.string() })),
      ecr: z.optional(z.looseObject({ repository: z.string() })),
      custom: z.optional(z.looseObject({ source: z.string() })),
      codeartifact: z.optional(
        z.looseObject({
          domain: z.string(),
          domainOwner: z.optional(z.string()),
          repository: z.string(),
          format: z.string(),
          namespace: z.optional(z.string()),
          package: z.string(),
        }),
      ),
    }),
    version: z.looseObject({
      keyPattern: z.optional(VersionPatternSchema),
      tagPattern: z.optional(VersionPatternSchema),
      detailPath: z.optional(z.string()),
    }),
  }),
  // Read to create a deployment for a matched artifact: it goes through these, in order.
  environments: z.array(z.looseObject({ name: z.string().check(z.minLength(1)) })).check(z.minLength(1)),
});
export type StoredArtifactView = z.infer<typeof StoredArtifactView>;

/** A CodeArtifact package, as a manifest names it (the event's domainName, repositoryName, …). */
export interface CodeArtifactSource {
  domain: string;
  /** When set, only that account's domain of this name (events reach the repository's administrator too). */
  domainOwner?: string | undefined;
  repository: string;
  format: string;
  /** Maven groupId, npm scope (without `@`), generic namespace; none for PyPI. */
  namespace?: string | undefined;
  package: string;
}

/** What matching an artifact reads of a manifest: its name and its artifact section. */
export interface ArtifactSection {
  name: string;
  artifact: {
    source: {
      s3?: { bucket: string; keyPrefix: string } | undefined;
      ecr?: { repository: string } | undefined;
      custom?: { source: string } | undefined;
      codeartifact?: CodeArtifactSource | undefined;
    };
    version: {
      keyPattern?: string | undefined;
      tagPattern?: string | undefined;
      detailPath?: string | undefined;
    };
  };
}

export function versionRuleOf(artifact: ArtifactSection['artifact']): VersionRule {
  const { source, version } = artifact;
  if (source.s3 !== undefined) {
    return { from: 's3-key', pattern: new RegExp(version.keyPattern ?? DEFAULT_S3_KEY_VERSION_PATTERN) };
  }
  if (source.ecr !== undefined) {
    return {
      from: 'ecr-tag',
      pattern: version.tagPattern === undefined ? undefined : new RegExp(version.tagPattern),
    };
  }
  // A package version is a version already: CodeArtifact's own packageVersion, read as it is.
  if (source.codeartifact !== undefined) return { from: 'package-version' };
  return { from: 'detail', path: version.detailPath ?? DEFAULT_DETAIL_VERSION_PATH };
}
