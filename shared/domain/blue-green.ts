/**
 * Blue/green's rules (issue 10, item 3), pure: the green group's name and tags, when a group is
 * ready, when the health gate is passed, which kept groups go. The steps that act on them:
 * shared/usecases/rollout/blue-green.ts. No AWS SDK here: the inputs are Kiln's own shapes.
 */
import { createHash } from 'node:crypto';

/**
 * The scaling processes suspended on blue and green while traffic moves, and resumed afterwards
 * whatever happens (retire, or either rollback path):
 * - AZRebalance would launch and terminate instances to even out zones: a green instance counted
 *   healthy by the gate, or a blue instance about to take traffic back, could vanish mid-switch.
 * - ScheduledActions would change one group's capacity under the switch (a scheduled scale-in on
 *   blue while it still serves, or on green before it does).
 * - AlarmNotification would let an alarm's scaling policy move one group and not the other
 *   (aws-samples/aws-codedeploy-samples#80). CloudWatch keeps invoking an Auto Scaling action
 *   while its alarm stays in ALARM (other actions run only on a state change), so a scale-out
 *   held back during the switch happens once the process resumes.
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html
 * Launch, Terminate, HealthCheck, ReplaceUnhealthy and AddToLoadBalancer stay on: green must reach
 * its capacity and replace unhealthy instances by itself.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
 */
export const SWITCH_PROCESSES = ['AZRebalance', 'ScheduledActions', 'AlarmNotification'] as const;

/** The tags Kiln puts on the groups it makes or keeps (IAM mutations are conditioned on `kiln:managed`). */
export const GROUP_TAGS = {
  managed: 'kiln:managed',
  service: 'kiln:service',
  environment: 'kiln:environment',
  release: 'kiln:release',
  deploymentId: 'kiln:deployment-id',
  /** `green`: a group Kiln made that serves or is about to; `retired`: kept at zero for rollback. */
  role: 'kiln:role',
  /** ISO time a group was retired: kept groups beyond keepOldGroups go oldest first. */
  retiredAt: 'kiln:retired-at',
} as const;

export type GroupRole = 'green' | 'retired';

// Auto Scaling group names: 1-255 characters.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
const GROUP_NAME_MAX = 255;
/** Longest release part of a green name, so a long base name keeps most of itself. */
const RELEASE_PART_MAX = 64;
const HASH_CHARS = 8;

const shortHash = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, HASH_CHARS);

/**
 * The release as it appears in a group name: letters, digits, `.`, `_` and `-`; anything else
 * (`+` of semver build metadata, `/`, spaces) becomes `-`. A release changed by that, or longer than
 * RELEASE_PART_MAX, also carries 8 hex digits of its SHA-256, so two releases never share a name.
 */
export function releaseNamePart(release: string): string {
  const cleaned = release.replace(/[^A-Za-z0-9._-]/g, '-');
  if (cleaned === release && cleaned.length <= RELEASE_PART_MAX) return cleaned;
  const hash = shortHash(release);
  return `${cleaned.slice(0, RELEASE_PART_MAX - HASH_CHARS - 1)}-${hash}`;
}

/** Appended when the release being deployed already runs in the group of its plain name. */
export const REDEPLOY_SUFFIX = '-re';

/**
 * The green group's name: `<base>-kiln-<release>` where `<base>` is the environment's group in the
 * manifest (`autoScalingGroup`), never the group now serving (which may itself be a green one), so
 * names do not grow with each deployment. The same release always gives the same name: a retried
 * create finds the group it made, and `kiln rollback` finds the kept group of a release.
 *
 * A redeploy of the release that already serves (blue is `<base>-kiln-<release>`) gets
 * `<base>-kiln-<release>-re`, and the one after that the plain name again: the two alternate.
 * A base too long for the whole to fit 255 characters is cut and carries a hash of itself.
 */
export function greenGroupName(input: { baseGroup: string; release: string; blueGroup: string }): string {
  const suffix = `-kiln-${releaseNamePart(input.release)}`;
  const fit = (tail: string): string => {
    if (input.baseGroup.length + tail.length <= GROUP_NAME_MAX) return input.baseGroup + tail;
    const keep = GROUP_NAME_MAX - tail.length - HASH_CHARS - 1;
    return `${input.baseGroup.slice(0, keep)}-${shortHash(input.baseGroup)}${tail}`;
  };
  const plain = fit(suffix);
  return plain === input.blueGroup ? fit(suffix + REDEPLOY_SUFFIX) : plain;
}

/**
 * Green's tags: blue's own tags (cost allocation, ownership: green serves in blue's place) without
 * Kiln's (which describe blue) and without `aws:` ones (reserved, cannot be set), then Kiln's.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html
 */
export function greenTags(input: {
  blueTags: Record<string, string>;
  service: string;
  environment: string;
  release: string;
  deploymentId: string;
}): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.blueTags)) {
    if (!key.startsWith('kiln:') && !key.startsWith('aws:')) tags[key] = value;
  }
  return {
    ...tags,
    [GROUP_TAGS.managed]: 'true',
    [GROUP_TAGS.service]: input.service,
    [GROUP_TAGS.environment]: input.environment,
    [GROUP_TAGS.release]: input.release,
    [GROUP_TAGS.deploymentId]: input.deploymentId,
    [GROUP_TAGS.role]: 'green',
  };
}

/** The tags that make a group a kept one (found again by `kiln rollback` and by the pruning). */
export function retiredTags(input: {
  service: string;
  environment: string;
  release: string;
  at: number;
}): Record<string, string> {
  return {
    [GROUP_TAGS.managed]: 'true',
    [GROUP_TAGS.service]: input.service,
    [GROUP_TAGS.environment]: input.environment,
    [GROUP_TAGS.release]: input.release,
    [GROUP_TAGS.role]: 'retired',
    [GROUP_TAGS.retiredAt]: new Date(input.at).toISOString(),
  };
}

/** What to do with a group that already carries green's name when green is to be made. */
export type ExistingGreen =
  /** None: create it. */
  | 'create'
  /** Being deleted (a stale one): create it once it is gone. */
  | 'wait-deleted'
  /** Made by this deployment (a retried step): keep it. */
  | 'ours'
  /** The kept group of the release `kiln rollback` restores: scale it back up. */
  | 'adopt'
  /** Kiln's, left by an earlier deployment (kept after a rollback, or a failed green): delete it, then create. */
  | 'recreate'
  /** Not Kiln's: never touched. */
  | 'foreign';

/**
 * Decides about a group found under green's name. A redeploy of a release whose kept group exists
 * (deployed, rolled back, deployed again) recreates it: green is a clone of blue as blue is now
 * (its subnets, hooks, policies may have changed since), not of blue as it was then. Only
 * `kiln rollback` adopts a kept group, because restoring exactly what ran is its point.
 */
export function existingGreen(
  group: { tags: Record<string, string>; status?: string | undefined } | undefined,
  run: { deploymentId: string; mode: 'deploy' | 'rollback' },
): ExistingGreen {
  if (group === undefined) return 'create';
  if (group.status !== undefined && /delete/i.test(group.status)) return 'wait-deleted';
  if (group.tags[GROUP_TAGS.managed] !== 'true') return 'foreign';
  if (group.tags[GROUP_TAGS.deploymentId] === run.deploymentId && group.tags[GROUP_TAGS.role] === 'green')
    return 'ours';
  if (run.mode === 'rollback') return 'adopt';
  return 'recreate';
}

interface InstanceLike {
  instanceId: string;
  lifecycleState: string;
  healthStatus: string;
}

/** The instances serving: InService and healthy by Auto Scaling's own checks. */
export function inServiceIds(instances: readonly InstanceLike[]): string[] {
  return instances
    .filter((instance) => instance.lifecycleState === 'InService' && instance.healthStatus === 'Healthy')
    .map((instance) => instance.instanceId)
    .sort();
}

export interface GroupReadiness {
  ready: boolean;
  inService: number;
  pending: number;
  /** Every instance the group holds now, whatever its state. */
  launched: number;
  desired: number;
}

/**
 * A group is ready when as many instances are InService and healthy as it desires and none is
 * still launching (`Pending`, `Pending:Wait`, `Pending:Proceed`): its lifecycle hooks have all
 * completed. https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html
 */
export function groupReadiness(group: {
  capacity: { desired: number };
  instances: readonly InstanceLike[];
}): GroupReadiness {
  const inService = inServiceIds(group.instances).length;
  const pending = group.instances.filter((instance) => instance.lifecycleState.startsWith('Pending')).length;
  return {
    ready: inService === group.capacity.desired && pending === 0,
    inService,
    pending,
    launched: group.instances.length,
    desired: group.capacity.desired,
  };
}

export interface TargetHealthLike {
  instanceId: string;
  state: string;
}

export interface UnhealthyTarget {
  instanceId: string;
  targetGroupArn: string;
  /** ELB's state, or `missing` when the instance is not registered in the target group. */
  state: string;
}

/**
 * Every instance must be a `healthy` target in every target group. `initial`, `unhealthy`,
 * `draining` (deregistering: it is leaving), `unused` and `unavailable` do not count, and neither
 * does an instance the target group does not list (not registered yet).
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
 */
export function unhealthyTargets(
  instanceIds: readonly string[],
  health: ReadonlyArray<{ targetGroupArn: string; targets: readonly TargetHealthLike[] }>,
): UnhealthyTarget[] {
  const out: UnhealthyTarget[] = [];
  for (const { targetGroupArn, targets } of health) {
    const byInstance = new Map(targets.map((target) => [target.instanceId, target.state]));
    for (const instanceId of instanceIds) {
      const state = byInstance.get(instanceId) ?? 'missing';
      if (state !== 'healthy') out.push({ instanceId, targetGroupArn, state });
    }
  }
  return out;
}

/** `i-1 unhealthy in tg/web-a, i-2 missing in tg/web-b` (the first few, then a count). */
export function describeUnhealthy(targets: readonly UnhealthyTarget[], shown = 3): string {
  const name = (arn: string): string => arn.split(':').pop() ?? arn;
  const words = targets
    .slice(0, shown)
    .map((target) => `${target.instanceId} ${target.state} in ${name(target.targetGroupArn)}`);
  if (targets.length > shown) words.push(`${targets.length - shown} more`);
  return words.join(', ');
}

export interface GateInput {
  /** Green's instance ids that are InService, and how many green desires. */
  instanceIds: readonly string[];
  desired: number;
  health: ReadonlyArray<{ targetGroupArn: string; targets: readonly TargetHealthLike[] }>;
  now: number;
  /** From the previous check: since when everything has been healthy. */
  healthySince?: number | undefined;
  /** When the gate started (green attached). */
  startedAt: number;
  healthyForSeconds: number;
  timeoutSeconds: number;
}

export type GateVerdict =
  | { outcome: 'healthy'; healthySince: number; detail: string }
  | { outcome: 'waiting'; healthySince?: number; detail: string }
  | { outcome: 'failed'; reason: string };

/**
 * The health gate: every green instance (as many as green desires) healthy in every target group,
 * continuously for `healthyForSeconds` as far as the checks saw (one unhealthy look starts the
 * count again), within `timeoutSeconds` of attaching.
 */
export function healthGate(input: GateInput): GateVerdict {
  const unhealthy = unhealthyTargets(input.instanceIds, input.health);
  const short = input.desired - input.instanceIds.length;
  const allHealthy = unhealthy.length === 0 && short <= 0;
  const targets = input.instanceIds.length * input.health.length;
  if (allHealthy) {
    const since = input.healthySince ?? input.now;
    const held = input.now - since;
    if (held >= input.healthyForSeconds * 1000) {
      return {
        outcome: 'healthy',
        healthySince: since,
        detail: `${targets} of ${targets} green targets healthy`,
      };
    }
    if (input.now - input.startedAt < input.timeoutSeconds * 1000) {
      return {
        outcome: 'waiting',
        healthySince: since,
        detail: `${targets} of ${targets} green targets healthy for ${Math.floor(held / 1000)} of ${input.healthyForSeconds} s`,
      };
    }
  }
  const problems = [
    ...(short > 0 ? [`${short} of ${input.desired} green instances not in service`] : []),
    ...(unhealthy.length > 0 ? [describeUnhealthy(unhealthy)] : []),
  ];
  if (input.now - input.startedAt >= input.timeoutSeconds * 1000) {
    const what = allHealthy
      ? `green targets were healthy for only ${Math.floor((input.now - (input.healthySince ?? input.now)) / 1000)} s`
      : problems.join('; ');
    return {
      outcome: 'failed',
      reason: `health gate not passed within ${input.timeoutSeconds} s: ${what} (needed ${input.healthyForSeconds} s healthy)`,
    };
  }
  return {
    outcome: 'waiting',
    detail: `${targets - unhealthy.length} of ${Math.max(targets, input.desired * input.health.length)} green targets healthy: ${problems.join('; ')}`,
  };
}

/**
 * The kept (retired) groups to delete so that at most `keep` remain: the oldest first, by their
 * `kiln:retired-at` tag (a group without one counts as oldest). Names tie-break, for a stable order.
 */
export function groupsBeyondKeep(
  kept: ReadonlyArray<{ name: string; tags: Record<string, string> }>,
  keep: number,
): string[] {
  const at = (group: { tags: Record<string, string> }): string => group.tags[GROUP_TAGS.retiredAt] ?? '';
  const newestFirst = [...kept].sort((a, b) =>
    at(a) === at(b) ? a.name.localeCompare(b.name) : at(a) < at(b) ? 1 : -1,
  );
  return newestFirst
    .slice(Math.max(keep, 0))
    .reverse()
    .map((group) => group.name);
}

/** The watch after the switch: seconds the ASL waits (the bake time, at least 1: a Task timeout must be positive). */
export function watchSeconds(bakeTimeSeconds: number): number {
  return Math.max(1, Math.ceil(bakeTimeSeconds));
}

/**
 * What a blue/green rollback may take beyond what it waits on: green's deletion (ForceDelete
 * terminates its instances and drops their lifecycle actions, so no hook holds it; EC2's shutdown
 * still takes a minute or two), the rollback's 30 s polls, and a target's health checks once blue
 * is back in the target groups.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html
 */
export const ROLLBACK_MARGIN_SECONDS = 300;

export interface RollbackDeadlineInput {
  kind: 'discard-green' | 'restore-blue';
  /** The environment's health gate timeout: how long green was given to come up healthy. */
  healthGateTimeoutSeconds: number;
  /** Each target group's `deregistration_delay.timeout_seconds`. */
  deregistrationDelaysSeconds: readonly number[];
}

/**
 * How long a blue/green rollback may run, from what it waits on — never the health gate's timeout
 * alone: green's targets stay `draining` in every target group for the group's deregistration
 * delay after green leaves it (300 s unless set, up to 3600 s; "After the deregistration delay
 * elapses, the deregistration process completes and the state of the target is unused",
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay),
 * and they drain in parallel, so the longest delay counts. Restoring blue after the switch first
 * waits for blue back in service and healthy: as long as the gate gave green.
 */
export function rollbackDeadline(input: RollbackDeadlineInput): { seconds: number; why: string } {
  const drain = Math.max(0, ...input.deregistrationDelaysSeconds);
  const parts = [
    ...(input.kind === 'restore-blue' ? [`health gate ${input.healthGateTimeoutSeconds} s`] : []),
    `deregistration delay ${drain} s`,
    `${ROLLBACK_MARGIN_SECONDS} s margin`,
  ];
  const seconds =
    (input.kind === 'restore-blue' ? input.healthGateTimeoutSeconds : 0) + drain + ROLLBACK_MARGIN_SECONDS;
  return { seconds, why: parts.join(' + ') };
}
