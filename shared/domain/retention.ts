/**
 * Image retention policy: which of a service's baked AMIs to keep, deprecate, deregister or bring
 * back, from what the store records and what EC2 shows. Pure: releases, environment states,
 * observed images, the time and the manifest's settings in; a plan of actions, each with its
 * reason, out. The use case (shared/usecases/retain-images.ts) reads and acts; nothing here does.
 *
 * The rules:
 * 1. Kept: the newest `keepReleases` releases (by when they were recorded), and every release an
 *    environment runs (`currentRelease`) or would roll back to (`previousRelease`). Every Region's
 *    AMI of a kept release is kept.
 * 2. Only Kiln's: an AMI is acted on only if it is a recorded release's AMI for that Region AND
 *    its lineage tags say Kiln baked it for this service at that version (shared/domain/lineage.ts).
 *    An image the records name but the tags disown is skipped and reported, never touched.
 * 3. Deprecate first: an AMI no longer kept is deprecated at the next whole minute. EC2 refuses a
 *    DeprecateAt in the past and rounds seconds to the nearest minute
 *    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableImageDeprecation.html), so
 *    the next whole minute is the earliest time it takes as given. Deprecation hides the AMI from
 *    listings but launch templates and Auto Scaling groups can still launch it
 *    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html): a mistake is still
 *    recoverable during the grace period.
 * 4. Deregister after the grace period: once `graceDays` have passed since the AMI's deprecation
 *    time (as EC2 reports it, so the image itself carries the state between runs), it is
 *    deregistered with its snapshots.
 * 5. Bring back: a kept AMI with a deprecation time (deprecated before, kept again since, e.g. an
 *    environment rolled back to it or `keepReleases` grew) has its deprecation cancelled, so that
 *    a later retirement starts a whole new grace period instead of deregistering at once.
 * 6. Only `available` images are acted on; pending, failed or disabled ones are skipped with the
 *    state as the reason. An AMI EC2 no longer shows is already gone: nothing to do.
 */
import { isLineageOf } from './lineage';
import * as z from './zod';

export interface RetentionSettings {
  /** How many of the newest releases keep their AMIs, whatever runs where. */
  keepReleases: number;
  /** Days between an AMI's deprecation and its deregistration. */
  graceDays: number;
}

export const RETENTION_DEFAULTS: RetentionSettings = { keepReleases: 5, graceDays: 14 };

/** The manifest's limits for the settings (shared/domain/manifest/schema.ts checks them). */
export const RETENTION_BOUNDS = {
  keepReleases: { min: 1, max: 100 },
  // At least a day: deregistration cannot be undone, and a day is one scheduled run.
  graceDays: { min: 1, max: 365 },
} as const;

const between = (bounds: { min: number; max: number }) => {
  const message = `must be between ${bounds.min} and ${bounds.max}`;
  return z.int().check(z.gte(bounds.min, message), z.lte(bounds.max, message));
};

/**
 * What retention reads of a stored manifest: its environments' names and `bake.retention`, with
 * the defaults for a manifest stored before the setting existed. Loose, like the artifact view:
 * the rest of the manifest is not retention's business, and a damaged setting refuses that one
 * service by its field instead of being guessed at.
 */
export const StoredRetentionView = z.looseObject({
  name: z.string().check(z.minLength(1)),
  bake: z.looseObject({
    retention: z._default(
      z.looseObject({
        keepReleases: z._default(between(RETENTION_BOUNDS.keepReleases), RETENTION_DEFAULTS.keepReleases),
        graceDays: z._default(between(RETENTION_BOUNDS.graceDays), RETENTION_DEFAULTS.graceDays),
      }),
      { ...RETENTION_DEFAULTS },
    ),
  }),
  environments: z.array(z.looseObject({ name: z.string().check(z.minLength(1)) })),
});
export type StoredRetentionView = z.infer<typeof StoredRetentionView>;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A recorded release: its version, when it was recorded, and its AMI per Region. */
export interface RetainedRelease {
  version: string;
  /** ISO-8601, as the store records it. */
  createdAt: string;
  amis: Readonly<Record<string, string>>;
}

/** What an environment runs and would roll back to. */
export interface EnvironmentReleases {
  environment: string;
  currentRelease?: string | undefined;
  previousRelease?: string | undefined;
}

/** An image as EC2 shows it in one Region. */
export interface ObservedImage {
  region: string;
  imageId: string;
  state: string;
  tags: Readonly<Record<string, string>>;
  /** Epoch ms of the deprecation time EC2 reports, if one is set (in the past or the future). */
  deprecationTime?: number | undefined;
}

export interface RetentionInput {
  service: string;
  releases: readonly RetainedRelease[];
  environments: readonly EnvironmentReleases[];
  /** What EC2 shows of the releases' AMIs; an AMI missing here no longer exists. */
  images: readonly ObservedImage[];
  /** Epoch ms. */
  now: number;
  settings: RetentionSettings;
}

interface ImageRef {
  region: string;
  imageId: string;
  version: string;
}

export type RetentionAction =
  | (ImageRef & {
      kind: 'deprecate';
      deprecateAt: number;
      /** A later deprecation time the image had (set by someone else), replaced by an earlier one. */
      previousDeprecationTime?: number;
      reason: string;
    })
  | (ImageRef & { kind: 'deregister'; deprecatedAt: number; reason: string })
  | (ImageRef & { kind: 'restore'; deprecationTime: number; reason: string });

export interface RetentionPlan {
  actions: RetentionAction[];
  /** Kept AMIs, with why. */
  kept: Array<ImageRef & { reason: string }>;
  /** Deprecated AMIs still in their grace period, with when it ends (epoch ms). */
  waiting: Array<ImageRef & { deregisterAfter: number }>;
  /** AMIs the records name that are left alone, with why (not Kiln's by their tags, not available). */
  skipped: Array<ImageRef & { reason: string }>;
  /** AMIs the records name that EC2 no longer shows. */
  gone: ImageRef[];
}

/** The earliest DeprecateAt EC2 takes as given: the next whole minute after `now`. */
export function nextWholeMinute(now: number): number {
  return (Math.floor(now / MINUTE_MS) + 1) * MINUTE_MS;
}

/** Releases newest first: by record time, then by version, so ties order the same every run. */
function newestFirst(releases: readonly RetainedRelease[]): RetainedRelease[] {
  return [...releases].sort((a, b) =>
    a.createdAt === b.createdAt ? b.version.localeCompare(a.version) : b.createdAt.localeCompare(a.createdAt),
  );
}

/** Why each kept version is kept (the first reason found, newest-N first). */
function keptVersions(input: RetentionInput): Map<string, string> {
  const kept = new Map<string, string>();
  const { keepReleases } = input.settings;
  newestFirst(input.releases)
    .slice(0, keepReleases)
    .forEach((release) => kept.set(release.version, `among the newest ${keepReleases} releases`));
  for (const env of input.environments) {
    if (env.currentRelease !== undefined && !kept.has(env.currentRelease))
      kept.set(env.currentRelease, `running in ${env.environment}`);
    if (env.previousRelease !== undefined && !kept.has(env.previousRelease))
      kept.set(env.previousRelease, `rollback target of ${env.environment}`);
  }
  return kept;
}

export function planRetention(input: RetentionInput): RetentionPlan {
  const { service, now } = input;
  const graceMs = input.settings.graceDays * DAY_MS;
  const plan: RetentionPlan = { actions: [], kept: [], waiting: [], skipped: [], gone: [] };
  const observed = new Map(input.images.map((image) => [`${image.region}/${image.imageId}`, image]));
  const keep = keptVersions(input);
  // An AMI a kept release names stays, even if an older release names it too.
  const keptAmis = new Set(
    input.releases
      .filter((release) => keep.has(release.version))
      .flatMap((release) => Object.entries(release.amis).map(([region, id]) => `${region}/${id}`)),
  );
  const seen = new Set<string>();

  for (const release of newestFirst(input.releases)) {
    const keptBecause = keep.get(release.version);
    for (const [region, imageId] of Object.entries(release.amis).sort(([a], [b]) => a.localeCompare(b))) {
      const key = `${region}/${imageId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const ref: ImageRef = { region, imageId, version: release.version };
      const image = observed.get(key);
      if (!image) {
        plan.gone.push(ref);
        continue;
      }
      if (!isLineageOf(image.tags, { service, version: release.version })) {
        plan.skipped.push({
          ...ref,
          reason: `its tags do not say Kiln baked it for ${service}@${release.version}`,
        });
        continue;
      }
      const isKept = keptBecause !== undefined || keptAmis.has(key);
      if (isKept) {
        const reason = keptBecause ?? 'a kept release uses it';
        plan.kept.push({ ...ref, reason });
        if (image.deprecationTime !== undefined && image.state === 'available') {
          plan.actions.push({
            ...ref,
            kind: 'restore',
            deprecationTime: image.deprecationTime,
            reason: `kept again (${reason}): its deprecation is cancelled`,
          });
        }
        continue;
      }
      if (image.state !== 'available') {
        plan.skipped.push({ ...ref, reason: `it is ${image.state}, not available` });
        continue;
      }
      const deprecateAt = nextWholeMinute(now);
      const deprecatedAt = image.deprecationTime;
      if (deprecatedAt === undefined || deprecatedAt > deprecateAt) {
        plan.actions.push({
          ...ref,
          kind: 'deprecate',
          deprecateAt,
          ...(deprecatedAt === undefined ? {} : { previousDeprecationTime: deprecatedAt }),
          reason: `older than the newest ${input.settings.keepReleases} releases and in no environment`,
        });
      } else if (deprecatedAt + graceMs <= now) {
        plan.actions.push({
          ...ref,
          kind: 'deregister',
          deprecatedAt,
          reason: `deprecated since ${new Date(deprecatedAt).toISOString()}, past the ${input.settings.graceDays}-day grace period`,
        });
      } else {
        plan.waiting.push({ ...ref, deregisterAfter: deprecatedAt + graceMs });
      }
    }
  }
  return plan;
}
