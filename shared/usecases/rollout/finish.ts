/**
 * `finish`: every way a rollout ends (the ASL's RolloutSucceeded, RolledBack, RollbackFailed,
 * RolloutFailed, ApprovalTimedOut, ApprovalRefused, Aborted).
 *
 * Course:
 * 1. The final status (shared/domain/rollout.ts `finalStatusOf`): a rollback that undid nothing
 *    is `failed`; a refused or timed-out approval is `aborted`.
 * 2. A rollback recorded: the environment state names the before record (the previous release)
 *    as current, so no later step or rollout can loop back to the bad version.
 * 3. The deployment moved there, with the reason in words: AWS's StatusReason for a refresh, the
 *    alarm, the approver, or the failed step's message, and where the rollout stopped (earlier
 *    environments passed their gates and keep the release).
 * 4. The lock released and its waiters woken, except after a failed rollback (its reason names
 *    the first cause, then how the rollback failed): the environment is
 *    then on neither release for sure, so the lock stays until its lease ends and a person looks.
 */
import { finalStatusOf, movesTo, stepFailure, type RolloutEnding } from '../../domain/rollout';
import type { RolloutDeps, RolloutState } from './deps';
import { moveOrAccept, releaseLock } from './lock';
import { notifyEnding } from './notices';
import { deploymentOf } from './progress';
import { UNRECORDED_RELEASE } from './prepare';
import { recordRestored } from './rollback';

export async function finish(
  state: RolloutState,
  ending: RolloutEnding,
  deps: RolloutDeps,
): Promise<{ status: string; reason: string }> {
  const run = state.env;
  const rollback = run?.rollback;
  const nothingUndone = rollback?.kind === 'nothing';
  const final = finalStatusOf(ending, nothingUndone);
  const cursor = state.rollout;
  const environment = cursor?.environments[cursor.index];

  if (ending === 'rolled-back' && run && !nothingUndone && 'before' in run && run.before !== undefined) {
    await recordRestored(state, run, deps);
  }

  const reason = reasonOf(state, ending);
  let deployment = await deploymentOf(state, deps);
  const moves = movesTo(deployment.status, final);
  for (const [index, to] of moves.entries()) {
    const last = index === moves.length - 1;
    deployment = await moveOrAccept(deployment, to, deps, last ? { outcome: ending, reason } : { reason });
  }

  if (ending !== 'rollback-failed' && environment !== undefined) {
    await releaseLock(state.service, environment, state.deploymentId, deps);
  }
  // Last: the news goes out once the records say what it says. (A deployment already final when
  // this ran, e.g. superseded, says its own status.)
  await notifyEnding(state, deployment.status, deployment.reason ?? reason, deps);
  return { status: deployment.status, reason };
}

function reasonOf(state: RolloutState, ending: RolloutEnding): string {
  const cursor = state.rollout;
  const environment = cursor?.environments[cursor.index];
  const where =
    cursor && environment !== undefined
      ? ` (stopped at ${environment}, environment ${cursor.index + 1} of ${cursor.environments.length}` +
        (cursor.index > 0
          ? `; ${cursor.environments.slice(0, cursor.index).join(', ')} keep ${state.version}`
          : '') +
        ')'
      : '';
  const run = state.env;
  switch (ending) {
    case 'succeeded':
      return cursor && cursor.environments.length > 0
        ? `${state.version} runs in ${cursor.environments.join(', ')}`
        : `${state.version} recorded; no environment to roll`;
    case 'rolled-back': {
      const why = run?.rollback?.reason ?? state.check?.reason ?? 'rolled back';
      if (run?.rollback?.kind === 'nothing') return `${why}; nothing had changed${where}`;
      const before = run && 'before' in run ? run.before : undefined;
      const restored = before
        ? `; ${before.release === UNRECORDED_RELEASE ? `launch template version ${before.launchTemplate.version}` : before.release} restored`
        : '';
      return `${why}${restored}${where}`;
    }
    case 'rollback-failed': {
      // The first cause leads: why the rollout was being rolled back is what a person must know
      // first. rollback-environment records it; when that step itself failed, $.check still holds it.
      const check = state.check;
      const cause =
        run?.rollback?.reason ??
        (check && ['failed', 'alarm', 'abort'].includes(check.outcome) ? check.reason : undefined);
      return (
        `${cause === undefined ? '' : `${cause}; then `}` +
        `the rollback failed: ${state.error ? stepFailure(state.error) : (state.check?.reason ?? 'unknown')}` +
        `${where}; the lock is kept until its lease ends`
      );
    }
    case 'failed':
      return `${stepFailure(state.error)}${where}`;
    case 'approval-timed-out':
      return `nobody approved the promotion to ${cursor?.gate?.next ?? 'the next environment'} within ${(cursor?.gate?.approvalTimeoutSeconds ?? 0) / 60} minutes${where}`;
    case 'approval-refused': {
      const approval = state.approval;
      const by =
        approval && typeof approval.actor === 'string'
          ? `refused by ${approval.actor}${approval.reason === undefined ? '' : `: ${approval.reason}`}`
          : 'aborted while waiting for approval';
      return `the promotion to ${cursor?.gate?.next ?? 'the next environment'} was ${by}${where}`;
    }
    case 'aborted':
      return `aborted before ${environment ?? 'the rollout'} was touched${where}`;
  }
}
