/**
 * Strategy `rolling`: one instance refresh of the environment's group to the target launch
 * template version (issue 10, item 2), followed callback-first (DESIGN.md rule 5).
 *
 * - `startRefresh`: StartInstanceRefresh with DesiredConfiguration (template id + version number)
 *   and the manifest's preferences (shared/domain/rollout.ts `refreshPreferences`); a refresh
 *   already started to the same version (a retried step) is adopted by the adapter.
 * - `checkRefresh`: reads the refresh (the callback is only a wake-up), renews the lease, notes an
 *   abort request while it is still moving, records the progress (status, AWS's StatusReason,
 *   percentage) on the deployment.
 * - `waitForRefresh`: stores the token under the refresh id (on-progress wakes it on the refresh's
 *   events), then looks once and wakes itself if the refresh already settled.
 */
import { refreshPreferences, refreshVerdict } from '../../domain/rollout';
import { environmentIn, manifestOf } from './course';
import type { CheckOutcome, EnvironmentRun, RolloutDeps, RolloutState } from './deps';
import { abortRequest, recordProgress, renewLease, runOf } from './progress';
import { tokenKeys } from './deps';

/** How long WaitRefresh's task waits before it polls (its TimeoutSeconds in deploy.asl.json). */
export const REFRESH_WAIT_SECONDS = 300;

export async function startRefresh(state: RolloutState, deps: RolloutDeps): Promise<EnvironmentRun> {
  const run = runOf(state);
  const env = environmentIn(await manifestOf(state, deps), run.name);
  if (env.strategy.type !== 'rolling') throw new Error(`environment ${run.name} is not rolling`);
  const rollback = (state.rollout?.mode ?? state.mode) === 'rollback';
  // A rollback's refresh does not watch the rollout alarms: they measure the release it removes.
  // A rollback started because one went off (on-alarm) would otherwise find it still in ALARM and
  // have AWS's AutoRollback put the bad release straight back ("if any CloudWatch alarms you
  // specify go into the ALARM state", https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html).
  const preferences = refreshPreferences(env.strategy, rollback ? [] : env.alarms.rollout);
  const autoScaling = deps.autoScaling(run.region);
  if (rollback) {
    // A rollback restores the recorded capacity too (issue 10, item 6), before the refresh.
    const group = await autoScaling.describeGroup(run.target.group);
    const { capacity } = run.target;
    if (
      group &&
      (group.capacity.min !== capacity.min ||
        group.capacity.max !== capacity.max ||
        group.capacity.desired !== capacity.desired)
    ) {
      await autoScaling.updateGroup(run.target.group, { capacity });
    }
  }
  const { refreshId, outcome } = await autoScaling.startRefresh({
    group: run.target.group,
    launchTemplate: run.target.launchTemplate,
    preferences,
  });
  await recordProgress({ ...state, env: run }, deps, {
    phase: 'refreshing',
    detail: `instance refresh ${refreshId} ${outcome === 'started' ? 'started' : 'adopted'} to launch template version ${run.target.launchTemplate.version}`,
    refreshId,
    fromGroup: run.target.group,
    toGroup: run.target.group,
  });
  return { ...run, refreshId };
}

export async function checkRefresh(state: RolloutState, deps: RolloutDeps): Promise<CheckOutcome> {
  const run = runOf(state);
  const refreshId = refreshOf(run);
  await renewLease(state, deps);
  const refresh = await deps.autoScaling(run.region).describeRefresh(run.target.group, refreshId);
  if (!refresh) {
    return { outcome: 'failed', reason: `instance refresh ${refreshId} of ${run.target.group} is gone` };
  }
  const verdict = refreshVerdict(refresh.status);
  // After a rollback AWS's StatusReason only says it completed; RollbackReason says why.
  const why = [
    refresh.statusReason,
    refresh.rollbackReason === undefined ? undefined : `rolled back because: ${refresh.rollbackReason}`,
  ]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  const said = why === '' ? refresh.status : `${refresh.status}: ${why}`;
  const percentage = refresh.percentageComplete;
  await recordProgress(state, deps, {
    phase: verdict === 'waiting' ? 'refreshing' : `refresh-${verdict}`,
    detail: `instance refresh ${refreshId} ${said}${percentage === undefined ? '' : ` (${percentage}%)`}`,
    refreshId,
    fromGroup: run.target.group,
    toGroup: run.target.group,
  });
  const withPercentage = percentage === undefined ? {} : { percentage };
  if (verdict === 'waiting') {
    const abort = await abortRequest(state, deps);
    if (abort) return { outcome: 'abort', reason: abortReason(abort), ...withPercentage };
    return { outcome: 'waiting', reason: said, ...withPercentage };
  }
  // AWS's own words are the reason the deployment ends with (issue 10, item 2).
  const reason =
    verdict === 'succeeded' ? said : `instance refresh ${refreshId} of ${run.target.group} ended ${said}`;
  return { outcome: verdict, reason, ...withPercentage };
}

export async function waitForRefresh(
  state: RolloutState,
  taskToken: string,
  deps: RolloutDeps,
): Promise<void> {
  const run = runOf(state);
  const refreshId = refreshOf(run);
  await waitForRefreshId(
    { state, run, refreshId, taskToken, waitSeconds: REFRESH_WAIT_SECONDS, watchAbort: true },
    (status) => refreshVerdict(status) !== 'waiting',
    deps,
  );
}

/** Stores the token under the refresh id, then looks once: settled or an abort wakes the task at once. */
export async function waitForRefreshId(
  wait: {
    state: RolloutState;
    run: EnvironmentRun;
    refreshId: string;
    taskToken: string;
    waitSeconds: number;
    /** A rollback is not abortable (it would leave the group on neither release). */
    watchAbort: boolean;
  },
  settled: (status: string) => boolean,
  deps: RolloutDeps,
): Promise<void> {
  const { state, run, refreshId, taskToken, waitSeconds } = wait;
  const key = tokenKeys.refresh(refreshId);
  await deps.store.putTaskToken({
    waitKind: 'refresh',
    key,
    token: taskToken,
    deploymentId: state.deploymentId,
    expiresAt: deps.now() + waitSeconds * 1000,
  });
  const refresh = await deps.autoScaling(run.region).describeRefresh(run.target.group, refreshId);
  const aborted = wait.watchAbort && (await abortRequest(state, deps)) !== undefined;
  if (
    (refresh === undefined || settled(refresh.status) || aborted) &&
    (await deps.store.takeTaskToken('refresh', key))
  ) {
    await deps.wake(taskToken, { woken: aborted ? 'abort' : 'poll' });
  }
}

export function abortReason(abort: { actor: string; reason?: string | undefined }): string {
  return `aborted by ${abort.actor}${abort.reason === undefined ? '' : `: ${abort.reason}`}`;
}

function refreshOf(run: EnvironmentRun): string {
  if (run.refreshId === undefined)
    throw new Error(`no instance refresh in progress for ${run.name} ($.env.refreshId)`);
  return run.refreshId;
}
