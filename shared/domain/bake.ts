/**
 * The bake's pure rules: what makes two bakes the same bake (the recipe hash and the lineage an
 * image carries), the tags that mark Kiln's builders and images (the IAM policies condition on
 * them), the bake's deadline, and the words a failure is recorded in. No AWS calls here.
 */
import { createHash } from 'node:crypto';
import { LINEAGE_TAG_KEYS } from './lineage';
import type { ServiceManifest } from './manifest/schema';

type Bake = ServiceManifest['bake'];

/** Tag keys Kiln puts on builders, images and snapshots: the lineage (one spelling, lineage.ts) and the role. */
export const TAG = {
  /** `builder` on builder instances; IAM allows Stop/Terminate/CreateImage only on those. */
  role: 'kiln:role',
  service: LINEAGE_TAG_KEYS.service,
  version: LINEAGE_TAG_KEYS.version,
  digest: LINEAGE_TAG_KEYS.digest,
  recipe: LINEAGE_TAG_KEYS.recipeHash,
  baseAmi: LINEAGE_TAG_KEYS.baseAmi,
  deployment: LINEAGE_TAG_KEYS.deployment,
} as const;

export const BUILDER_ROLE = 'builder';
export const IMAGE_ROLE = 'image';

/**
 * Everything in the bake section that changes what the image holds, hashed: the base image as
 * the manifest names it (an SSM parameter is hashed by name; the AMI it resolved to is part of
 * the lineage on its own), the install and smoke check, instance type, root volume and the
 * manifest's own tags (they land on the image). Not in it: the Region, subnet, security groups,
 * instance profile, copy Regions and timeout, which change where and how a bake runs but not
 * its result. Keys are sorted, so the order the manifest wrote them in does not matter.
 * SHA-256, 16 hex digits (64 bits: collisions between one service's recipes are not a concern).
 */
export function recipeHash(bake: Bake): string {
  const recipe = {
    baseImage: bake.baseImage,
    install: bake.install,
    smokeCheck: bake.smokeCheck ?? null,
    instanceType: bake.instanceType,
    volumeSizeGiB: bake.volumeSizeGiB,
    tags: bake.tags,
  };
  return createHash('sha256').update(canonicalJson(recipe)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What one baked image is of: two bakes with the same lineage make the same image. */
export interface Lineage {
  service: string;
  version: string;
  digest: string;
  recipeHash: string;
  baseAmiId: string;
}

/**
 * The tags that identify an image's lineage (on the image and its snapshots, in every Region),
 * plus the deployment that made it. The bake cache adopts an image by the lineage tags alone.
 * Tag values may be 256 characters (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions);
 * digests are at most 512 (shared/domain/limits.ts), so a longer one is hashed.
 */
export function lineageTags(lineage: Lineage): Record<string, string> {
  return {
    [TAG.role]: IMAGE_ROLE,
    [TAG.service]: lineage.service,
    [TAG.version]: lineage.version,
    [TAG.digest]: tagValue(lineage.digest),
    [TAG.recipe]: lineage.recipeHash,
    [TAG.baseAmi]: lineage.baseAmiId,
  };
}

function tagValue(value: string): string {
  return value.length <= 256 ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/** The tags of a builder instance (and its volumes): the IAM conditions match `kiln:role`. */
export function builderTags(input: {
  deploymentId: string;
  service: string;
  version: string;
  manifestTags: Readonly<Record<string, string>>;
}): Record<string, string> {
  return {
    ...input.manifestTags,
    Name: `kiln-builder-${input.service}-${input.version}`,
    [TAG.role]: BUILDER_ROLE,
    [TAG.service]: input.service,
    [TAG.version]: input.version,
    [TAG.deployment]: input.deploymentId,
  };
}

/** The two Run Command runs of a bake. */
export type CommandPurpose = 'install' | 'smoke-check';

/**
 * The Comment a bake's command is sent with (SendCommand allows 100 characters,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html). SendCommand
 * takes no client token, so a re-sent step first lists the builder's commands and reuses the one
 * whose comment this is: one builder belongs to one deployment, so the pair is unique.
 */
export function commandComment(deploymentId: string, purpose: CommandPurpose): string {
  return `kiln ${purpose} ${deploymentId}`.slice(0, 100);
}

/** When a bake started at `startedAt` must be done. */
export function bakeDeadline(startedAt: number, timeoutMinutes: number): number {
  return startedAt + timeoutMinutes * 60_000;
}

/** How long each callback wait lasts before it polls anyway (DESIGN.md rule 5). */
export const WAIT_POLL_SECONDS = { command: 60, image: 60 } as const;

/**
 * The reason a failed bake is recorded with, from the error the state machine caught: the
 * step's own message (which says what the step was doing and, when AWS refused, AWS's error
 * code) and the error's name.
 */
export function failureReason(error: { Error?: string; Cause?: string }): string {
  const name = error.Error ?? 'an unknown error';
  let cause = error.Cause ?? '';
  // A Lambda error's Cause is JSON ({ errorType, errorMessage, trace }): keep the message.
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // A plain-text cause stays as it is.
  }
  const words = cause === '' ? name : `${cause} (${name})`;
  return `bake failed: ${words}`.slice(0, 1000);
}
