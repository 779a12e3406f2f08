/**
 * The lineage tags Kiln puts on every AMI (and its snapshots) it bakes or copies: which service,
 * version and artifact it holds, from which recipe and base image, made by which deployment. One
 * spelling for the whole code base: the bake writes them, the bake cache reads them to adopt an
 * orphan image, image retention reads them so it never touches an image Kiln did not bake, and the
 * retention function's IAM conditions (serverless.yml) name the `service` key.
 *
 * Keys carry the `kiln:` prefix (tag keys may hold `:`; only `aws:` is reserved:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions).
 */
export const LINEAGE_TAG_KEYS = {
  service: 'kiln:service',
  version: 'kiln:version',
  digest: 'kiln:digest',
  recipeHash: 'kiln:recipe-hash',
  baseAmi: 'kiln:base-ami',
  deployment: 'kiln:deployment-id',
} as const;

export type Lineage = { readonly [K in keyof typeof LINEAGE_TAG_KEYS]: string };

/** The tags that record `lineage` on an image. */
export function lineageTags(lineage: Lineage): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [field, key] of Object.entries(LINEAGE_TAG_KEYS)) tags[key] = lineage[field as keyof Lineage];
  return tags;
}

/**
 * Do an image's tags say Kiln baked it for `service`, at `version`? Both must match exactly: an
 * image without them, or with another service's or version's, is not this release's image, whatever
 * id a record names.
 */
export function isLineageOf(
  tags: Readonly<Record<string, string>>,
  release: { service: string; version: string },
): boolean {
  return (
    tags[LINEAGE_TAG_KEYS.service] === release.service && tags[LINEAGE_TAG_KEYS.version] === release.version
  );
}
