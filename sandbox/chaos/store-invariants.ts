/**
 * The chaos invariants read from Kiln's store and the region's resources (inside the simulation,
 * after the region settled): every deployment ended well, every lock released, every change
 * audited, no builder or partial image left.
 */
import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { BUILDER_ROLE, IMAGE_ROLE, TAG } from '../../shared/domain/bake';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import {
  auditTarget,
  KilnStore,
  type AuditEntry,
  type Deployment,
  type EnvironmentState,
  type Page,
  type Release,
} from '../../shared/store';
import type { RunRecord } from '../observe/record';
import type { Region } from '../region';
import type { AuditedCompletion, Violation } from './fleet-invariants';

/** What the store holds about every service, read once for all the checks. */
export interface StoreView {
  services: Array<{
    name: string;
    manifest: ServiceManifest;
    deployments: Deployment[];
    releases: Release[];
    environments: EnvironmentState[];
  }>;
  audit: (target: string) => Promise<AuditEntry[]>;
  /** Kiln's audited lifecycle completions, by instance id. */
  lifecycleAudit: Map<string, AuditedCompletion[]>;
}

async function all<T>(page: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const got = await page(cursor);
    items.push(...got.items);
    cursor = got.cursor;
  } while (cursor !== undefined);
  return items;
}

export function inspectionStore(region: Region): KilnStore<ServiceManifest> {
  return new KilnStore<ServiceManifest>({
    client: region.clientsFor('chaos:inspect', 'operator').doc,
    tableName: region.tableName,
    ids: region.engine.kilnIds,
  });
}

export async function readStore(store: KilnStore<ServiceManifest>, epochMs: number): Promise<StoreView> {
  const records = await all((cursor) => store.listServices(cursor === undefined ? {} : { cursor }));
  const services: StoreView['services'] = [];
  const lifecycleAudit = new Map<string, AuditedCompletion[]>();
  for (const record of records) {
    const name = record.service;
    const deployments = await all((cursor) =>
      store.listDeployments(name, cursor === undefined ? {} : { cursor }),
    );
    const releases = await all((cursor) => store.listReleases(name, cursor === undefined ? {} : { cursor }));
    const names = new Set([
      ...record.manifest.environments.map((e) => e.name),
      ...deployments.flatMap((d) => d.environments),
    ]);
    const environments: EnvironmentState[] = [];
    for (const env of [...names].sort()) environments.push(await store.getEnvironmentState(name, env));
    services.push({ name, manifest: record.manifest, deployments, releases, environments });
    const entries = await all((cursor) =>
      store.listAudit({ service: name }, cursor === undefined ? {} : { cursor }),
    );
    for (const entry of entries) {
      if (!entry.action.startsWith('lifecycle.') || !entry.target.startsWith('instance:')) continue;
      const outcome = (entry.after as { outcome?: unknown } | undefined)?.outcome;
      if (outcome !== 'completed') continue;
      const instanceId = entry.target.slice(entry.target.lastIndexOf('/') + 1);
      const transition =
        entry.action === 'lifecycle.launch'
          ? 'launch'
          : entry.action === 'lifecycle.terminate'
            ? 'terminate'
            : undefined;
      const list = lifecycleAudit.get(instanceId) ?? [];
      list.push({ t: (Date.parse(entry.at) - epochMs) / 1000, transition });
      lifecycleAudit.set(instanceId, list);
    }
  }
  return {
    services,
    audit: (target) => all((cursor) => store.listAudit({ target }, cursor === undefined ? {} : { cursor })),
    lifecycleAudit,
  };
}

/** Environment states whose lock is still held (expired or not): the reconciler frees dead holders'. */
export function checkLocks(view: StoreView): Violation[] {
  return view.services.flatMap((s) =>
    s.environments
      .filter((e) => e.lock !== undefined)
      .map((e) => ({
        invariant: 'locks-released' as const,
        detail: `${s.name}/${e.environment} is still locked by ${e.lock?.holder ?? '?'}${e.lock?.deploymentId === undefined ? '' : ` (deployment ${e.lock.deploymentId})`}`,
      })),
  );
}

const FAILED_ENDINGS = new Set(['failed', 'rolled-back', 'aborted']);

/**
 * Every deployment ended succeeded, superseded, or failed (rolled-back, aborted) with the previous
 * release restored: no environment of a failed deployment runs its release unless Kiln records that
 * release as the environment's current one (its rollout there had completed and was recorded), and
 * every environment Kiln records runs exactly the launch template version recorded.
 */
export async function checkDeployments(
  region: Region,
  view: StoreView,
  record: RunRecord,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const { autoScaling } = region.clientsFor('chaos:inspect', 'operator');
  const groups = new Map<string, AutoScalingGroup>();
  const groupOf = async (name: string): Promise<AutoScalingGroup | undefined> => {
    if (!groups.has(name)) {
      const out = await autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
      );
      const found = out.AutoScalingGroups?.[0];
      if (found !== undefined) groups.set(name, found);
    }
    return groups.get(name);
  };
  const inService = (group: AutoScalingGroup | undefined) =>
    (group?.Instances ?? []).filter((i) => i.LifecycleState === 'InService');

  for (const service of view.services) {
    const servingGroup = (env: EnvironmentState): string | undefined =>
      env.activeGroup ??
      service.manifest.environments.find((e) => e.name === env.environment && e.region === record.region)
        ?.autoScalingGroup;
    for (const env of service.environments) {
      const recorded = env.launchTemplate;
      const name = servingGroup(env);
      if (recorded === undefined || name === undefined) continue;
      const group = await groupOf(name);
      const off = inService(group).filter((i) => i.LaunchTemplate?.Version !== String(recorded.version));
      if (off.length > 0) {
        violations.push({
          invariant: 'deployment-outcome',
          detail:
            `${service.name}/${env.environment}: Kiln records ${env.currentRelease ?? '?'} on launch template ` +
            `v${recorded.version} but ${off.length} InService instance(s) of ${name} run ` +
            off.map((i) => `${i.InstanceId ?? '?'} on v${i.LaunchTemplate?.Version ?? '?'}`).join(', '),
        });
      }
    }
    for (const deployment of service.deployments) {
      const { status } = deployment;
      if (status === 'succeeded' || status === 'superseded') continue;
      if (!FAILED_ENDINGS.has(status)) {
        violations.push({
          invariant: 'deployment-outcome',
          detail:
            `${deployment.id} (${service.name}@${deployment.releaseVersion}) never ended: still ${status}` +
            (deployment.rollout === undefined
              ? ''
              : ` (${deployment.rollout.environment}: ${deployment.rollout.phase})`),
        });
        continue;
      }
      // A rollback deployment restores an earlier release: what it leaves is the current record's to judge.
      if (deployment.mode === 'rollback') continue;
      for (const envName of deployment.environments) {
        const env = service.environments.find((e) => e.environment === envName);
        if (env === undefined || env.currentRelease === deployment.releaseVersion) continue;
        const name = env === undefined ? undefined : servingGroup(env);
        if (name === undefined) continue;
        const running = inService(await groupOf(name)).filter(
          (i) => record.instances.get(i.InstanceId ?? '')?.version === deployment.releaseVersion,
        );
        if (running.length > 0) {
          violations.push({
            invariant: 'deployment-outcome',
            detail:
              `${deployment.id} ended ${status}, but ${service.name}/${envName} still runs its release ` +
              `${deployment.releaseVersion} on ${running.length} instance(s) while Kiln records ` +
              `${env.currentRelease ?? 'no release'}: the previous release was not restored`,
          });
        }
      }
    }
  }
  return violations;
}

const LOCK_TAKEN = new Set(['lock.acquire', 'lock.takeover']);
const LOCK_FREED = new Set(['lock.release', 'lock.release-expired']);

/**
 * Every change Kiln made to its records is in the audit log: each deployment's creation and the
 * status it ended in, each release, each environment state update (one entry per version), each
 * lock's last move (a release, since none is held), and each lifecycle completion Auto Scaling
 * accepted (checked with the lifecycle invariant).
 */
export async function checkAudit(view: StoreView): Promise<Violation[]> {
  const violations: Violation[] = [];
  const missing = (detail: string) => violations.push({ invariant: 'audited', detail });
  for (const service of view.services) {
    for (const deployment of service.deployments) {
      const entries = await view.audit(auditTarget.deployment(deployment.id));
      if (!entries.some((e) => e.action === 'deployment.create'))
        missing(`${deployment.id}: no deployment.create entry`);
      // Entries written in one millisecond by different writers have no order among them (their
      // keys sort by writer), so the check is that the status the record holds was audited.
      const statuses = new Set(entries.map((e) => (e.after as { status?: unknown } | undefined)?.status));
      if (!statuses.has(deployment.status)) {
        missing(`${deployment.id} is ${deployment.status} but no audit entry records that status`);
      }
    }
    for (const release of service.releases) {
      const entries = await view.audit(auditTarget.release(service.name, release.version));
      if (!entries.some((e) => e.action === 'release.create'))
        missing(`release ${service.name}@${release.version}: no release.create entry`);
    }
    for (const env of service.environments) {
      const entries = await view.audit(auditTarget.environment(service.name, env.environment));
      const updates = entries.filter((e) => e.action === 'environment.update').length;
      if (updates !== env.version) {
        missing(
          `${service.name}/${env.environment}: state version ${env.version} but ${updates} environment.update entries`,
        );
      }
      const lastLock = entries.find((e) => LOCK_TAKEN.has(e.action) || LOCK_FREED.has(e.action));
      if (env.lock === undefined && lastLock !== undefined && !LOCK_FREED.has(lastLock.action)) {
        missing(
          `${service.name}/${env.environment}: the lock is free but its last audited move is ${lastLock.action}`,
        );
      }
    }
  }
  return violations;
}

/** No builder instance left running and no image of Kiln's that is unfinished or no release uses. */
export async function checkBakeCleanup(region: Region, view: StoreView): Promise<Violation[]> {
  const violations: Violation[] = [];
  const here = region.engine.context.region;
  const used = new Set(view.services.flatMap((s) => s.releases.flatMap((r) => Object.values(r.amis))));
  for (const name of [here, ...region.ec2In.keys()]) {
    const { ec2 } =
      name === here
        ? region.clientsFor('chaos:inspect', 'operator')
        : region.engine.clientsFor('chaos:inspect', { region: name, retryMode: 'adaptive', maxAttempts: 10 });
    const builders =
      (
        await ec2.send(
          new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.role}`, Values: [BUILDER_ROLE] }] }),
        )
      ).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
    for (const b of builders) {
      const state = b.State?.Name ?? '?';
      if (state !== 'terminated' && state !== 'shutting-down') {
        violations.push({
          invariant: 'bake-cleanup',
          detail: `builder ${b.InstanceId ?? '?'} in ${name} is ${state}`,
        });
      }
    }
    const images =
      (
        await ec2.send(
          new DescribeImagesCommand({
            Owners: ['self'],
            Filters: [{ Name: `tag:${TAG.role}`, Values: [IMAGE_ROLE] }],
          }),
        )
      ).Images ?? [];
    for (const image of images) {
      const id = image.ImageId ?? '?';
      if (image.State !== 'available') {
        violations.push({
          invariant: 'bake-cleanup',
          detail: `image ${id} in ${name} is ${image.State ?? '?'}`,
        });
      } else if (!used.has(id)) {
        violations.push({
          invariant: 'bake-cleanup',
          detail: `image ${id} in ${name} is in no release Kiln recorded`,
        });
      }
    }
  }
  return violations;
}
