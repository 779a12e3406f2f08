/**
 * Putting an environment back on what it ran before (issue 10, item 6), exactly: the before
 * record's launch template version and capacity. Kiln's record then names the previous release as
 * current, so nothing can send the group back to the bad version (terraform-provider-aws#34189).
 *
 * - `recordRollback`: AWS's AutoRollback already did it (RollbackSuccessful): record that.
 * - `rollbackEnvironment` (the ASL's Catch target from PrepareEnvironment on, and the target of a
 *   failed refresh, an alarm at the gate or an abort) inspects AWS and undoes only what exists.
 *   Rolling: RollbackInstanceRefresh while a refresh is still at work; else, when instances or the
 *   group left the before version, a refresh to it (AutoRollback off and no alarms: a rollback
 *   that failed must not "roll back" to the bad version) with the capacity put back first;
 *   otherwise nothing. Blue/green: blue-green.ts.
 * - `checkRollback`/`waitForRollback`: follow it like a refresh (callback-first, 30 s poll).
 */
import {
  ACTIVE_REFRESH_STATUSES,
  rollbackRefreshPreferences,
  rollbackRefreshVerdict,
  stepFailure,
} from '../../domain/rollout';
import { checkBlueGreenRollback, rollbackBlueGreen } from './blue-green';
import { currentEnvironment, environmentIn, manifestOf } from './course';
import type { CheckOutcome, EnvironmentRun, RolloutDeps, RolloutState } from './deps';
import { recordCurrent } from './environment-state';
import { moveOrAccept } from './lock';
import { deploymentOf, recordProgress, renewLease, runOf } from './progress';
import { waitForRefreshId } from './rolling';

/** How long WaitRollback's task waits before it polls (its TimeoutSeconds in deploy.asl.json). */
export const ROLLBACK_WAIT_SECONDS = 30;

/**
 * What `rollback-environment` returns when the environment was never prepared (PrepareEnvironment
 * failed: no group, no launch template): nothing to undo. Only `rollback` is read downstream.
 */
export type UntouchedRun = Pick<EnvironmentRun, 'name' | 'region' | 'strategy' | 'startedAt'> & {
  rollback: NonNullable<EnvironmentRun['rollback']>;
};

/** AWS rolled the refresh back itself: the environment runs the before record again. */
export async function recordRollback(state: RolloutState, deps: RolloutDeps): Promise<EnvironmentRun> {
  const run = runOf(state);
  const reason = state.check?.reason ?? 'the instance refresh was rolled back';
  await recordRestored(state, run, deps);
  await recordProgress(state, deps, { phase: 'rolled-back', detail: reason });
  return {
    ...run,
    rollback: {
      kind: 'refresh-rollback',
      ...(run.refreshId === undefined ? {} : { refreshId: run.refreshId }),
      reason: `AWS rolled the instance refresh back: ${reason}`,
    },
  };
}

export async function rollbackEnvironment(
  state: RolloutState,
  deps: RolloutDeps,
): Promise<EnvironmentRun | UntouchedRun> {
  const reason = whyRollBack(state);
  const deployment = await deploymentOf(state, deps);
  if (deployment.status === 'rolling-out' || deployment.status === 'waiting-approval') {
    await moveOrAccept(deployment, 'rolling-back', deps, { reason });
  }
  if (!state.env) {
    const name = currentEnvironment(state);
    const env = environmentIn(await manifestOf(state, deps), name);
    return {
      name,
      region: env.region,
      strategy: env.strategy.type,
      startedAt: deps.now(),
      rollback: { kind: 'nothing', reason },
    };
  }
  const run = state.env;
  if (run.strategy === 'blue-green') return rollbackBlueGreen(state, reason, deps);

  const autoScaling = deps.autoScaling(run.region);
  const active = await autoScaling.activeRefresh(run.target.group);
  const ours =
    active !== undefined &&
    (active.refreshId === run.refreshId ||
      (active.desiredLaunchTemplate?.id === run.target.launchTemplate.id &&
        active.desiredLaunchTemplate.version === String(run.target.launchTemplate.version)));
  let rollback: NonNullable<EnvironmentRun['rollback']>;
  if (active && !ours) {
    // Someone else's refresh (a killed holder's, a person's): not this deployment's to undo.
    rollback = {
      kind: 'nothing',
      reason: `${reason} (instance refresh ${active.refreshId}, not this deployment's, left alone)`,
    };
  } else if (active && active.status === 'RollbackInProgress') {
    rollback = { kind: 'refresh-rollback', refreshId: active.refreshId, reason };
  } else if (active && ACTIVE_REFRESH_STATUSES.includes(active.status)) {
    const rolled = await autoScaling.rollbackRefresh(run.target.group);
    rollback =
      rolled === 'none'
        ? await refreshToBefore(state, run, reason, deps)
        : { kind: 'refresh-rollback', refreshId: rolled.refreshId, reason };
  } else {
    rollback = await refreshToBefore(state, run, reason, deps);
  }
  const rolled = { ...run, rollback };
  await recordProgress({ ...state, env: rolled }, deps, {
    phase: 'rolling-back',
    detail: `${describeRollback(rollback)} (${reason})`,
    ...(rollback.refreshId === undefined ? {} : { refreshId: rollback.refreshId }),
  });
  return rolled;
}

export async function checkRollback(state: RolloutState, deps: RolloutDeps): Promise<CheckOutcome> {
  const run = state.env;
  const rollback = run?.rollback;
  if (!run || !rollback) throw new Error('no rollback in progress ($.env.rollback)');
  if (rollback.kind === 'nothing') return { outcome: 'done', reason: rollback.reason };
  if (run.strategy === 'blue-green') return checkBlueGreenRollback(state, deps);
  await renewLease(state, deps);
  if (rollback.refreshId === undefined) return { outcome: 'done', reason: rollback.reason };
  const refresh = await deps.autoScaling(run.region).describeRefresh(run.target.group, rollback.refreshId);
  if (!refresh)
    return { outcome: 'failed', reason: `the rollback's instance refresh ${rollback.refreshId} is gone` };
  const verdict = rollbackRefreshVerdict(refresh.status);
  const said =
    refresh.statusReason === undefined ? refresh.status : `${refresh.status}: ${refresh.statusReason}`;
  await recordProgress(state, deps, {
    phase: verdict === 'waiting' ? 'rolling-back' : `rollback-${verdict}`,
    detail: `${describeRollback(rollback)}: ${said}`,
    refreshId: rollback.refreshId,
  });
  if (verdict === 'waiting') return { outcome: 'waiting', reason: said };
  if (verdict === 'failed') {
    return {
      outcome: 'failed',
      reason: `the rollback's instance refresh ${rollback.refreshId} ended ${said}`,
    };
  }
  return { outcome: 'done', reason: rollback.reason };
}

export async function waitForRollback(
  state: RolloutState,
  taskToken: string,
  deps: RolloutDeps,
): Promise<void> {
  const run = runOf(state);
  const refreshId = run.rollback?.refreshId;
  if (run.strategy === 'blue-green' || refreshId === undefined) {
    // Nothing names a group coming back healthy: the task's 30 s timeout polls.
    return;
  }
  await waitForRefreshId(
    { state, run, refreshId, taskToken, waitSeconds: ROLLBACK_WAIT_SECONDS, watchAbort: false },
    (status) => rollbackRefreshVerdict(status) !== 'waiting',
    deps,
  );
}

/**
 * Records the environment back on its before record (idempotent; a rollback that undid nothing
 * records nothing: the record already says what runs).
 */
export async function recordRestored(
  state: RolloutState,
  run: EnvironmentRun,
  deps: RolloutDeps,
): Promise<void> {
  await recordCurrent(
    {
      service: state.service,
      environment: run.name,
      deploymentId: state.deploymentId,
      current: run.before,
      previous: run.before,
    },
    deps,
  );
}

/**
 * A refresh back to the before version, when the group or any instance left it; the capacity
 * put back first (UpdateAutoScalingGroup) so the refresh replaces toward the recorded size.
 */
async function refreshToBefore(
  state: RolloutState,
  run: EnvironmentRun,
  reason: string,
  deps: RolloutDeps,
): Promise<NonNullable<EnvironmentRun['rollback']>> {
  const autoScaling = deps.autoScaling(run.region);
  const { before } = run;
  const group = await autoScaling.describeGroup(before.group);
  if (!group) throw new Error(`group ${before.group} does not exist: nothing to roll back onto`);
  const onBefore = (version: string | undefined) => version === String(before.launchTemplate.version);
  const groupMoved =
    group.launchTemplate !== undefined &&
    (group.launchTemplate.id !== before.launchTemplate.id || !onBefore(group.launchTemplate.version));
  const instancesMoved = group.instances.some(
    (instance) => instance.launchTemplateVersion !== undefined && !onBefore(instance.launchTemplateVersion),
  );
  const capacityMoved =
    group.capacity.min !== before.capacity.min ||
    group.capacity.max !== before.capacity.max ||
    group.capacity.desired !== before.capacity.desired;
  if (!groupMoved && !instancesMoved && !capacityMoved) return { kind: 'nothing', reason };
  if (capacityMoved) await autoScaling.updateGroup(before.group, { capacity: before.capacity });
  if (!groupMoved && !instancesMoved) {
    return { kind: 'refresh-to-previous', reason };
  }
  const env = environmentIn(await manifestOf(state, deps), run.name);
  const strategy =
    env.strategy.type === 'rolling' ? env.strategy : { minHealthyPercentage: 90, maxHealthyPercentage: 100 };
  const { refreshId } = await autoScaling.startRefresh({
    group: before.group,
    launchTemplate: before.launchTemplate,
    preferences: rollbackRefreshPreferences(strategy),
  });
  return { kind: 'refresh-to-previous', refreshId, reason };
}

function whyRollBack(state: RolloutState): string {
  if (state.check && ['failed', 'alarm', 'abort'].includes(state.check.outcome) && state.check.reason) {
    return state.check.reason;
  }
  if (state.error) return stepFailure(state.error);
  return state.check?.reason ?? 'rolled back';
}

function describeRollback(rollback: NonNullable<EnvironmentRun['rollback']>): string {
  switch (rollback.kind) {
    case 'refresh-rollback':
      return `RollbackInstanceRefresh of ${rollback.refreshId ?? 'the refresh'}`;
    case 'refresh-to-previous':
      return rollback.refreshId === undefined
        ? 'capacity put back'
        : `instance refresh ${rollback.refreshId} back to the previous launch template version`;
    case 'nothing':
      return 'nothing to undo';
    default:
      return rollback.kind;
  }
}
