/**
 * Image retention, run on a schedule. Course, per service:
 * 1. Read its manifest's environments and `bake.retention` (defaults when unset); a manifest the
 *    view cannot read refuses that service by its field and touches nothing of it.
 * 2. Read every recorded release and each environment's current and previous release.
 * 3. In each Region the releases name, ask EC2 for this account's images among the releases'
 *    AMIs (deprecated ones included). A Region that cannot be read is left out of this run: its
 *    AMIs are neither kept nor retired on a guess.
 * 4. Plan (shared/domain/retention.ts): keep, deprecate, deregister, or bring back, with reasons.
 * 5. Carry out each action through the EC2 adapter and audit it (before → after, with the
 *    reason). One action failing does not hold back the others; it is reported. Every action is
 *    idempotent and the images themselves carry the state (their deprecation time), so the next
 *    run finishes whatever this one did not.
 */
import type { ImageChange, ImageStatus } from '../aws/ec2';
import {
  planRetention,
  StoredRetentionView,
  type EnvironmentReleases,
  type ObservedImage,
  type RetainedRelease,
  type RetentionAction,
  type RetentionPlan,
} from '../domain/retention';
import { formatPath } from '../runtime/validation';
import { AuditMissingError, auditTarget, type KilnStore, type NamedManifest } from '../store';
import type { Release } from '../store';

/** What retention needs of EC2 in one Region (shared/aws/ec2.ts's Ec2Bake has it). */
export interface RetentionEc2 {
  describeOwnImages(imageIds: readonly string[]): Promise<ImageStatus[]>;
  deprecateImage(imageId: string, deprecateAt: number): Promise<ImageChange>;
  cancelImageDeprecation(imageId: string): Promise<ImageChange>;
  deregisterImageAndSnapshots(
    imageId: string,
  ): Promise<{ change: ImageChange; snapshots: Array<{ snapshotId: string; result: string }> }>;
}

export interface RetainImagesDeps {
  store: Pick<KilnStore<NamedManifest>, 'listServices' | 'listReleases' | 'getEnvironmentState' | 'audit'>;
  /** The EC2 adapter for a Region (clients are made once per Region by the caller). */
  ec2For: (region: string) => RetentionEc2;
  /** Epoch ms. */
  now: () => number;
}

export interface ActionOutcome {
  service: string;
  action: RetentionAction;
  /** `done`, or `already-gone` when EC2 no longer knew the image (success all the same). */
  outcome: ImageChange;
}

export interface RetentionFailure {
  service: string;
  region?: string;
  imageId?: string;
  /** What was being done, in words. */
  what: string;
  error: string;
}

export interface RetainImagesResult {
  services: Array<{ service: string; plan: RetentionPlan }>;
  acted: ActionOutcome[];
  failures: RetentionFailure[];
}

export const RETENTION_ACTOR = 'kiln:retention';

const PAGE = { limit: 100 } as const;

export async function retainImages(deps: RetainImagesDeps): Promise<RetainImagesResult> {
  const result: RetainImagesResult = { services: [], acted: [], failures: [] };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listServices({ ...PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const record of page.items) await retainService(record.service, record.manifest, deps, result);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return result;
}

async function retainService(
  service: string,
  manifest: unknown,
  deps: RetainImagesDeps,
  result: RetainImagesResult,
): Promise<void> {
  const view = StoredRetentionView.safeParse(manifest);
  if (!view.success) {
    const issue = view.error.issues[0];
    result.failures.push({
      service,
      what: 'read the stored manifest',
      error: issue ? `${formatPath(issue.path)}: ${issue.message}` : 'unreadable',
    });
    return;
  }
  const releases = await allReleases(deps, service);
  const environments: EnvironmentReleases[] = [];
  for (const env of view.data.environments) {
    const state = await deps.store.getEnvironmentState(service, env.name);
    environments.push({
      environment: env.name,
      currentRelease: state.currentRelease,
      previousRelease: state.previousRelease,
    });
  }

  // Region → the AMIs the releases name there.
  const byRegion = new Map<string, Set<string>>();
  for (const release of releases) {
    for (const [region, imageId] of Object.entries(release.amis)) {
      const ids = byRegion.get(region) ?? new Set<string>();
      ids.add(imageId);
      byRegion.set(region, ids);
    }
  }
  const images: ObservedImage[] = [];
  const unread = new Set<string>();
  for (const [region, ids] of [...byRegion].sort(([a], [b]) => a.localeCompare(b))) {
    try {
      for (const image of await deps.ec2For(region).describeOwnImages([...ids].sort())) {
        images.push({
          region,
          imageId: image.imageId,
          state: image.state,
          tags: image.tags,
          deprecationTime: image.deprecationTime,
        });
      }
    } catch (error) {
      unread.add(region);
      result.failures.push({ service, region, what: `read ${region}'s images`, error: describe(error) });
    }
  }

  const plan = planRetention({
    service,
    // A Region that could not be read is left out whole: its AMIs would look gone otherwise.
    releases: releases.map((release) => withoutRegions(release, unread)),
    environments,
    images,
    now: deps.now(),
    settings: view.data.bake.retention,
  });
  result.services.push({ service, plan });

  for (const action of plan.actions) {
    const ec2 = deps.ec2For(action.region);
    let outcome: ImageChange;
    let after: Record<string, unknown>;
    try {
      if (action.kind === 'deprecate') {
        outcome = await ec2.deprecateImage(action.imageId, action.deprecateAt);
        after = { deprecationTime: iso(action.deprecateAt) };
      } else if (action.kind === 'restore') {
        outcome = await ec2.cancelImageDeprecation(action.imageId);
        after = { deprecationTime: null };
      } else {
        const deregistered = await ec2.deregisterImageAndSnapshots(action.imageId);
        outcome = deregistered.change;
        after = { state: 'deregistered', snapshotsDeleted: deregistered.snapshots };
      }
    } catch (error) {
      result.failures.push({
        service,
        region: action.region,
        imageId: action.imageId,
        what: `${action.kind} ${action.imageId} (${service}@${action.version})`,
        error: describe(error),
      });
      continue;
    }
    result.acted.push({ service, action, outcome });
    // Found already gone: this run changed nothing, so there is nothing to audit.
    if (outcome !== 'done') continue;
    try {
      await deps.store.audit({
        actor: RETENTION_ACTOR,
        action: `image.${action.kind}`,
        target: auditTarget.image(action.region, action.imageId),
        service,
        before: beforeOf(action),
        after: { ...after, version: action.version },
        reason: action.reason,
      });
    } catch (error) {
      result.failures.push({
        service,
        region: action.region,
        imageId: action.imageId,
        what: `audit ${action.kind} of ${action.imageId} (the change stands)`,
        error: error instanceof AuditMissingError ? error.message : describe(error),
      });
    }
  }
}

async function allReleases(deps: RetainImagesDeps, service: string): Promise<RetainedRelease[]> {
  const releases: Release[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listReleases(service, {
      ...PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    releases.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return releases.map(({ version, createdAt, amis }) => ({ version, createdAt, amis }));
}

function withoutRegions(release: RetainedRelease, regions: ReadonlySet<string>): RetainedRelease {
  if (regions.size === 0) return release;
  return {
    ...release,
    amis: Object.fromEntries(Object.entries(release.amis).filter(([region]) => !regions.has(region))),
  };
}

function beforeOf(action: RetentionAction): Record<string, unknown> {
  switch (action.kind) {
    case 'deprecate':
      return {
        deprecationTime:
          action.previousDeprecationTime === undefined ? null : iso(action.previousDeprecationTime),
      };
    case 'restore':
      return { deprecationTime: iso(action.deprecationTime) };
    case 'deregister':
      return { state: 'available', deprecationTime: iso(action.deprecatedAt) };
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
