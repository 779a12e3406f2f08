/**
 * The rollout's rules that need no AWS and no store (DESIGN.md "Code layout": rollout planning):
 * which environments a deployment rolls through, the instance refresh preferences a manifest
 * asks for, what an instance refresh's status means for the rollout, who supersedes whom (rule
 * 3), the environment's history after a release or a rollback, the gate before the next
 * environment, and the final status of each way a rollout ends. The use cases in
 * shared/usecases/rollout/ apply them.
 */
import type { DeploymentStatus } from './deployment';
import type { Environment, RollingStrategy } from './manifest/schema';

// ---------------------------------------------------------------------------------------------
// The course

/**
 * The environments to roll through, in the manifest's promotion order: all of them, or the
 * `requested` subset (`kiln deploy --env`, `kiln rollback`). An environment the manifest does not
 * have is an error naming it and what the manifest has.
 */
export function rolloutCourse(
  manifestEnvironments: readonly string[],
  requested?: readonly string[],
): string[] {
  if (requested === undefined) return [...manifestEnvironments];
  const unknown = requested.filter((name) => !manifestEnvironments.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `environments: ${unknown.map((name) => `"${name}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the manifest ` +
        `(it has ${manifestEnvironments.join(', ')})`,
    );
  }
  return manifestEnvironments.filter((name) => requested.includes(name));
}

// ---------------------------------------------------------------------------------------------
// Instance refresh

/** What Kiln sends as RefreshPreferences (the port's shape: shared/usecases/rollout/deps.ts). */
export interface RefreshPreferencesPlan {
  minHealthyPercentage: number;
  maxHealthyPercentage: number;
  instanceWarmupSeconds?: number;
  checkpoints?: number[];
  checkpointDelaySeconds?: number;
  bakeTimeSeconds: number;
  skipMatching: boolean;
  autoRollback: boolean;
  alarms: string[];
  scaleInProtectedInstances: 'Refresh' | 'Ignore' | 'Wait';
  standbyInstances: 'Terminate' | 'Ignore' | 'Wait';
}

/**
 * The refresh preferences of a rolling environment, every one explicit
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html):
 * - `SkipMatching: true`: instances already on the target version are not replaced, so a refresh
 *   started again (a retried step) or a rollback's refresh replaces only what differs;
 * - `AutoRollback: true`: AWS puts the previous configuration back itself when the refresh fails
 *   or an alarm fires; it requires a desired configuration with an explicit launch template
 *   version, never `$Latest`/`$Default` (DESIGN.md rule 2);
 * - `AlarmSpecification`: the environment's rollout alarms (at most 10; the manifest checks it);
 * - checkpoints with their delay, warm-up, bake time and the protected/standby choices as the
 *   manifest says (its defaults are Kiln's: Wait for both).
 */
export function refreshPreferences(
  strategy: RollingStrategy,
  rolloutAlarms: readonly string[],
): RefreshPreferencesPlan {
  return {
    minHealthyPercentage: strategy.minHealthyPercentage,
    maxHealthyPercentage: strategy.maxHealthyPercentage,
    ...(strategy.instanceWarmupSeconds === undefined
      ? {}
      : { instanceWarmupSeconds: strategy.instanceWarmupSeconds }),
    ...(strategy.checkpoints === undefined ? {} : { checkpoints: [...strategy.checkpoints] }),
    ...(strategy.checkpointDelaySeconds === undefined
      ? {}
      : { checkpointDelaySeconds: strategy.checkpointDelaySeconds }),
    bakeTimeSeconds: strategy.bakeTimeSeconds,
    skipMatching: true,
    autoRollback: true,
    alarms: [...rolloutAlarms],
    scaleInProtectedInstances: strategy.scaleInProtectedInstances,
    standbyInstances: strategy.standbyInstances,
  };
}

/**
 * What an instance refresh's status means for the rollout
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRefresh.html, Status):
 * - `Successful`: the environment runs the release;
 * - `RollbackSuccessful`: AWS's AutoRollback put the previous configuration back: the rollout
 *   ends rolled back, with AWS's reason;
 * - `Failed`, `Cancelled`, `RollbackFailed`: the group may be half on the release: Kiln rolls it
 *   back itself;
 * - `Pending`, `InProgress`, `Baking`, `Cancelling`, `RollbackInProgress` (and any status AWS adds
 *   later): still moving, wait.
 */
export type RefreshVerdict = 'waiting' | 'succeeded' | 'rolled-back' | 'failed';

export function refreshVerdict(status: string): RefreshVerdict {
  switch (status) {
    case 'Successful':
      return 'succeeded';
    case 'RollbackSuccessful':
      return 'rolled-back';
    case 'Failed':
    case 'Cancelled':
    case 'RollbackFailed':
      return 'failed';
    default:
      return 'waiting';
  }
}

/**
 * The preferences of Kiln's own rollback refresh (back to the before version): the manifest's
 * pace, no checkpoints or bake time (the previous release was judged already), no AutoRollback
 * and no alarms, so a rollback that fails can never be "rolled back" onto the bad version
 * (terraform-provider-aws#34189); protected and standby instances are replaced too, so nothing is
 * left on the bad version.
 */
export function rollbackRefreshPreferences(
  strategy: Pick<RollingStrategy, 'minHealthyPercentage' | 'maxHealthyPercentage' | 'instanceWarmupSeconds'>,
): RefreshPreferencesPlan {
  return {
    minHealthyPercentage: strategy.minHealthyPercentage,
    maxHealthyPercentage: strategy.maxHealthyPercentage,
    ...(strategy.instanceWarmupSeconds === undefined
      ? {}
      : { instanceWarmupSeconds: strategy.instanceWarmupSeconds }),
    bakeTimeSeconds: 0,
    skipMatching: true,
    autoRollback: false,
    alarms: [],
    scaleInProtectedInstances: 'Refresh',
    standbyInstances: 'Terminate',
  };
}

/** A refresh in one of these is still at work on the group: a second one would be refused. */
export const ACTIVE_REFRESH_STATUSES: readonly string[] = [
  'Pending',
  'InProgress',
  'Baking',
  'Cancelling',
  'RollbackInProgress',
];

/** What a rollback's own refresh (or AWS's rollback of the refresh) means for the rollback. */
export function rollbackRefreshVerdict(status: string): 'waiting' | 'done' | 'failed' {
  if (status === 'Successful' || status === 'RollbackSuccessful') return 'done';
  if (status === 'Failed' || status === 'Cancelled' || status === 'RollbackFailed') return 'failed';
  return 'waiting';
}

// ---------------------------------------------------------------------------------------------
// Supersede (DESIGN.md rule 3)

export interface DeploymentFacts {
  id: string;
  status: DeploymentStatus;
  environments: readonly string[];
  /** ISO-8601. */
  createdAt: string;
}

/** Statuses a deployment may be superseded from: it has not touched an environment yet. */
const SUPERSEDABLE: readonly DeploymentStatus[] = ['queued', 'baking'];
const FINAL: readonly DeploymentStatus[] = ['succeeded', 'failed', 'rolled-back', 'superseded', 'aborted'];

/**
 * The deployment that supersedes `self` at `environment`, if any: the newest other deployment
 * of the service that includes the environment, is not final, and was created after `self`
 * (ties: the greater id is the later, as ids sort by time). "The newest waits; older waiting ones
 * give way": a deployment that already rolls out (or waits for approval, or rolls back) is never
 * superseded.
 */
export function supersededBy(
  self: DeploymentFacts,
  others: readonly DeploymentFacts[],
  environment: string,
): DeploymentFacts | undefined {
  if (!SUPERSEDABLE.includes(self.status)) return undefined;
  const later = (other: DeploymentFacts) =>
    other.createdAt > self.createdAt || (other.createdAt === self.createdAt && other.id > self.id);
  const newer = others
    .filter((other) => other.id !== self.id)
    .filter((other) => !FINAL.includes(other.status))
    .filter((other) => other.environments.includes(environment))
    .filter(later)
    .sort((a, b) =>
      a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt),
    );
  return newer[0];
}

// ---------------------------------------------------------------------------------------------
// Environment history

/** How many records an environment keeps: the current one and five before it. */
export const HISTORY_KEPT = 6;

/** The history after `record` became current: it first, then what was there (at most HISTORY_KEPT). */
export function historyAfter<R>(record: R, history: readonly R[] | undefined): R[] {
  return [record, ...(history ?? [])].slice(0, HISTORY_KEPT);
}

/**
 * The record of `release` in an environment's history, for a rollback to it (`kiln rollback
 * --to`): the newest one. Absent: an error naming what the history holds.
 */
export function recordOf<R extends { release: string }>(
  history: readonly R[] | undefined,
  release: string,
  where: string,
): R {
  const found = (history ?? []).find((record) => record.release === release);
  if (found) return found;
  const held = [...new Set((history ?? []).map((record) => record.release))];
  throw new Error(
    `${where} has no record of release ${release} to roll back to` +
      (held.length === 0 ? ' (its history is empty)' : ` (its history holds ${held.join(', ')})`),
  );
}

// ---------------------------------------------------------------------------------------------
// The gate between environments

export interface Gate {
  bakeSeconds: number;
  approval: boolean;
  approvalTimeoutSeconds: number;
  next: string;
  since: number;
}

/**
 * The gate before `next`: its bake time (how long the release must have run in the environment
 * just done, its alarms quiet) and its approval, with the approval's deadline.
 */
export function gateBefore(
  next: Pick<Environment, 'name' | 'bakeTimeMinutes' | 'approval'>,
  now: number,
): Gate {
  return {
    bakeSeconds: next.bakeTimeMinutes * 60,
    approval: next.approval.required,
    approvalTimeoutSeconds: next.approval.timeoutMinutes * 60,
    next: next.name,
    since: now,
  };
}

// ---------------------------------------------------------------------------------------------
// How a rollout ends

export type RolloutEnding =
  | 'succeeded'
  | 'rolled-back'
  | 'rollback-failed'
  | 'failed'
  | 'approval-timed-out'
  | 'approval-refused'
  | 'aborted';

/**
 * The deployment's final status for each ending. A rollback that found nothing to undo is a
 * failure, not a rollback; a refused or timed-out approval ends the deployment aborted (nothing
 * in the next environment moved).
 */
export function finalStatusOf(ending: RolloutEnding, nothingUndone = false): DeploymentStatus {
  switch (ending) {
    case 'succeeded':
      return 'succeeded';
    case 'rolled-back':
      return nothingUndone ? 'failed' : 'rolled-back';
    case 'rollback-failed':
    case 'failed':
      return 'failed';
    case 'approval-timed-out':
    case 'approval-refused':
    case 'aborted':
      return 'aborted';
  }
}

/**
 * The moves from `current` to `final` (the store moves one step at a time): a deployment that
 * never reached rolling-out goes there first when it succeeds (a rollout with no environment to
 * roll), and one rolling out goes through rolling-back to rolled-back.
 */
export function movesTo(current: DeploymentStatus, final: DeploymentStatus): DeploymentStatus[] {
  if (current === final) return [];
  if (FINAL.includes(current)) return [];
  if (final === 'succeeded') {
    if (current === 'queued' || current === 'baking') return ['rolling-out', 'succeeded'];
    if (current === 'waiting-approval') return ['rolling-out', 'succeeded'];
    return ['succeeded'];
  }
  if (final === 'rolled-back') {
    return current === 'rolling-back' ? ['rolled-back'] : ['rolling-back', 'rolled-back'];
  }
  if (final === 'aborted' && current === 'rolling-back') return ['failed'];
  return [final];
}

/**
 * What a caught step error says, in words: the step's message (which starts with what the step
 * was doing) and the error's name. A Lambda error's Cause is JSON ({ errorType, errorMessage }).
 */
export function stepFailure(error: { Error?: string; Cause?: string } | undefined): string {
  const name = error?.Error ?? 'an unknown error';
  let cause = error?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // A plain-text cause stays as it is.
  }
  return (cause === '' ? name : `${cause} (${name})`).slice(0, 900);
}
