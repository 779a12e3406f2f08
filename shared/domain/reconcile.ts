/**
 * The reconciler's judgement (issue 11, item 6), pure: what counts as stuck, and what is done
 * about it. The use case (shared/usecases/reconcile/) reads Kiln's records and AWS, asks these
 * functions, and acts; nothing here touches AWS or the store.
 *
 * Kiln never relies on an event alone (DESIGN.md rule 5: every wait has a deadline and polls), so
 * a live deployment heals itself at its next poll. What only the reconciler heals is what a dead
 * execution left behind, or a task that outlived its own deadline:
 * - a deployment whose execution ended (stopped, timed out, failed outside every Catch) while the
 *   record is not final, or whose execution never started: failed safely, its locks released;
 * - a lock whose lease ran out and whose holder is gone (final, or its execution not running): a
 *   live holder may still renew an expired lease nobody took over (shared/store/environments.ts),
 *   so its lock is left to it;
 * - a task token past its deadline: its execution not running → an orphan, deleted; running →
 *   the task should have polled on its own, so it is woken (`{ woken: 'poll' }`) and its step
 *   looks at AWS now. Approval waits are never woken: their answer is a person's, and their own
 *   timeout ends them.
 */
import type { DeploymentStatus } from './deployment';
import { isFinal } from './deployment';

/** How an execution stands as DescribeExecution says it, or `missing` (never started, or expired). */
export type ExecutionState =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'missing';

export interface ReconcileLimits {
  /**
   * A deployment is recorded before its execution starts (shared/usecases/deployments/start.ts):
   * one without an execution this long after it was created never will have one.
   */
  startGraceMs: number;
  /**
   * A deployment whose record changed this recently is making progress: its execution is not
   * even asked about (a DescribeExecution per running deployment per minute saved).
   */
  progressGraceMs: number;
  /**
   * A waiting task's own timeout fires at its deadline and polls; one still waiting this long
   * after it did not (or its token outlived its task).
   */
  tokenGraceMs: number;
  /** Deployments looked at per service (newest first: a stuck one is among the newest). */
  deploymentsPerService: number;
  /** Healing actions per run (each a few calls); the rest waits for the next minute. */
  actionsPerRun: number;
  /** Wall time a run may spend before it stops starting new work. */
  runBudgetMs: number;
}

export const RECONCILE_LIMITS: ReconcileLimits = {
  startGraceMs: 5 * 60_000,
  progressGraceMs: 5 * 60_000,
  tokenGraceMs: 2 * 60_000,
  deploymentsPerService: 25,
  actionsPerRun: 50,
  runBudgetMs: 40_000,
};

const running = (execution: ExecutionState): boolean =>
  execution === 'RUNNING' || execution === 'PENDING_REDRIVE';

export type DeploymentVerdict =
  | { action: 'leave'; why: 'final' | 'running' | 'starting' | 'execution-succeeded' }
  /** The execution ended without its own finish: the sweep cleans up and records it failed. */
  | { action: 'sweep' }
  /** No execution ever started: failed with this reason, its locks released. */
  | { action: 'fail'; reason: string };

/** Whether a non-final deployment has gone long enough without progress to be looked at. */
export function deploymentStalled(
  deployment: { status: DeploymentStatus; updatedAt: string },
  now: number,
  limits: Pick<ReconcileLimits, 'progressGraceMs'> = RECONCILE_LIMITS,
): boolean {
  return !isFinal(deployment.status) && now - Date.parse(deployment.updatedAt) >= limits.progressGraceMs;
}

export function judgeDeployment(
  deployment: { status: DeploymentStatus; createdAt: string },
  execution: ExecutionState,
  now: number,
  limits: Pick<ReconcileLimits, 'startGraceMs'> = RECONCILE_LIMITS,
): DeploymentVerdict {
  if (isFinal(deployment.status)) return { action: 'leave', why: 'final' };
  if (running(execution)) return { action: 'leave', why: 'running' };
  if (execution === 'missing') {
    const age = now - Date.parse(deployment.createdAt);
    if (age < limits.startGraceMs) return { action: 'leave', why: 'starting' };
    return {
      action: 'fail',
      reason: `its deploy execution never started (recorded ${Math.round(age / 60_000)} min ago); failed by the reconciler`,
    };
  }
  // A SUCCEEDED execution wrote its own final status before it ended; a record that says
  // otherwise is not the reconciler's to overwrite with a guess.
  if (execution === 'SUCCEEDED') return { action: 'leave', why: 'execution-succeeded' };
  return { action: 'sweep' };
}

export type LockVerdict =
  { action: 'leave'; why: 'live' | 'holder-running' } | { action: 'release'; reason: string };

export function judgeLock(
  lock: { holder: string; expiresAt: number },
  holder: { status?: DeploymentStatus; execution: ExecutionState },
  now: number,
): LockVerdict {
  if (lock.expiresAt > now) return { action: 'leave', why: 'live' };
  const final = holder.status !== undefined && isFinal(holder.status);
  if (!final && running(holder.execution)) return { action: 'leave', why: 'holder-running' };
  const who =
    holder.status === undefined ? `no deployment ${lock.holder}` : `${lock.holder} is ${holder.status}`;
  return {
    action: 'release',
    reason: `lease expired ${new Date(lock.expiresAt).toISOString()} and its holder is gone (${who}, execution ${holder.execution})`,
  };
}

export type TokenVerdict =
  | { action: 'leave'; why: 'not-due' | 'approval' }
  | { action: 'wake'; reason: string }
  | { action: 'delete'; reason: string };

/** Whether a token needs its execution looked up at all (saves a DescribeExecution per waiting task). */
export function tokenNeedsLook(
  token: { expiresAt: number },
  deploymentStatus: DeploymentStatus,
  now: number,
  limits: Pick<ReconcileLimits, 'tokenGraceMs'> = RECONCILE_LIMITS,
): boolean {
  return isFinal(deploymentStatus) || token.expiresAt + limits.tokenGraceMs <= now;
}

export function judgeToken(
  token: { waitKind: string; expiresAt: number },
  execution: ExecutionState,
  now: number,
  limits: Pick<ReconcileLimits, 'tokenGraceMs'> = RECONCILE_LIMITS,
): TokenVerdict {
  if (!running(execution)) {
    return { action: 'delete', reason: `its task is gone (execution ${execution})` };
  }
  if (token.expiresAt + limits.tokenGraceMs > now) return { action: 'leave', why: 'not-due' };
  if (token.waitKind === 'approval') return { action: 'leave', why: 'approval' };
  const late = Math.round((now - token.expiresAt) / 1000);
  return {
    action: 'wake',
    reason: `no progress ${late} s past the ${token.waitKind} wait's deadline: woken to poll`,
  };
}

/**
 * Deployments, locks and task tokens are looked at every fifth minute: a dead run is healed
 * within minutes either way (it must first go five minutes without progress), and the reads they
 * take (a listing per service, a read per environment, the token listing) are most of a run's
 * cost, which the minutes in between spend on the lifecycle hooks and alarms, whose lost events
 * must be healed within a minute.
 */
export function recordsScanDue(scheduledAt: number): boolean {
  return new Date(scheduledAt).getUTCMinutes() % 5 === 0;
}

/**
 * Builders and half-made images are found by a tag scan of every bake Region (a few Describe
 * calls each), which a lost event leaves nothing urgent for: every quarter hour, at the run
 * whose scheduled time falls on one.
 */
export function bakeSweepDue(scheduledAt: number): boolean {
  return new Date(scheduledAt).getUTCMinutes() % 15 === 0;
}
