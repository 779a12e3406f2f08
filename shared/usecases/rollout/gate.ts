/**
 * Between two environments (issue 10, item 4): the environment just done is recorded, and the
 * gate before the next is its bake time with no watched alarm of the done environment going into
 * ALARM, then an approval where the next environment asks for one. The lock of the done
 * environment is kept through the gate (its lease extended to cover it), so nothing else touches
 * that environment while its release is still being judged; `passGate` releases it.
 */
import { gateBefore } from '../../domain/rollout';
import { currentEnvironment, cursorOf, environmentIn, manifestOf } from './course';
import type { CheckOutcome, RolloutCursor, RolloutDeps, RolloutState } from './deps';
import { tokenKeys } from './deps';
import { recordCurrent } from './environment-state';
import { moveOrAccept, releaseLock } from './lock';
import { abortRequest, deploymentOf, recordProgress, ROLLOUT_LEASE_MS, runOf } from './progress';
import { notifyApproval, notifyPromoted } from './notices';
import { abortReason } from './rolling';

/**
 * Records the environment on the release (release, group, launch template version, capacity as
 * the group has it now; the history beneath), then settles the gate before the next environment.
 */
export async function environmentDone(state: RolloutState, deps: RolloutDeps): Promise<RolloutCursor> {
  const run = runOf(state);
  const cursor = cursorOf(state);
  const group = await deps.autoScaling(run.region).describeGroup(run.target.group);
  const now = deps.now();
  await recordCurrent(
    {
      service: state.service,
      environment: run.name,
      deploymentId: state.deploymentId,
      current: {
        release: run.target.release,
        group: run.target.group,
        launchTemplate: run.target.launchTemplate,
        capacity: group?.capacity ?? run.target.capacity,
        since: new Date(now).toISOString(),
        deploymentId: state.deploymentId,
      },
      previous: run.before,
    },
    deps,
  );
  const nextName = cursor.environments[cursor.index + 1];
  if (nextName === undefined) {
    await recordProgress(state, deps, { phase: 'done', detail: `${run.name} runs ${run.target.release}` });
    const { gate: _gate, ...rest } = cursor;
    return { ...rest, done: true };
  }
  const next = environmentIn(await manifestOf(state, deps), nextName);
  const gate = gateBefore(next, now);
  // The lease covers the whole gate: a renewal after the bake extends it over the approval.
  await deps.store.renewLock(state.service, run.name, {
    holder: state.deploymentId,
    leaseMs:
      ROLLOUT_LEASE_MS + gate.bakeSeconds * 1000 + (gate.approval ? gate.approvalTimeoutSeconds * 1000 : 0),
  });
  await recordProgress(state, deps, {
    phase: gate.bakeSeconds > 0 ? 'baking' : 'gate',
    detail:
      `${run.name} runs ${run.target.release}; ` +
      (gate.bakeSeconds > 0
        ? `baking ${gate.bakeSeconds / 60} min before ${next.name}`
        : `next: ${next.name}`) +
      (gate.approval ? ', then approval' : ''),
  });
  return { ...cursor, done: false, gate };
}

/** After the bake time: did a watched alarm of the done environment go into ALARM? An abort? */
export async function checkGate(state: RolloutState, deps: RolloutDeps): Promise<CheckOutcome> {
  const run = runOf(state);
  const gate = gateOf(state);
  await deps.store.renewLock(state.service, run.name, {
    holder: state.deploymentId,
    leaseMs: ROLLOUT_LEASE_MS + (gate.approval ? gate.approvalTimeoutSeconds * 1000 : 0),
  });
  const abort = await abortRequest(state, deps);
  if (abort) return { outcome: 'abort', reason: abortReason(abort) };
  const env = environmentIn(await manifestOf(state, deps), run.name);
  const watched = [...new Set([...env.alarms.rollout, ...env.alarms.watch])];
  if (watched.length > 0) {
    const fired = await deps.alarms(run.region).wentIntoAlarm(watched, gate.since);
    const first = fired[0];
    if (first) {
      return {
        outcome: 'alarm',
        reason:
          `alarm ${first.name} went into ALARM at ${new Date(first.at).toISOString()} while ${run.target.release} baked in ${run.name}` +
          (first.reason === undefined ? '' : `: ${first.reason}`),
      };
    }
  }
  return { outcome: 'clear' };
}

/**
 * Stores the approval token (key: deployment id, deadline: the approval's) for `kiln approve`,
 * then moves the deployment rolling-out → waiting-approval. An abort request found here wakes
 * the task at once, which ends the deployment aborted (`$.approval` without `approved: true`).
 */
export async function waitForApproval(
  state: RolloutState,
  taskToken: string,
  deps: RolloutDeps,
): Promise<void> {
  const gate = gateOf(state);
  const run = runOf(state);
  const now = deps.now();
  const deadline = now + gate.approvalTimeoutSeconds * 1000;
  await deps.store.putTaskToken({
    waitKind: 'approval',
    key: tokenKeys.approval(state.deploymentId),
    token: taskToken,
    deploymentId: state.deploymentId,
    expiresAt: deadline,
  });
  const deployment = await deploymentOf(state, deps);
  await moveOrAccept(deployment, 'waiting-approval', deps, {
    reason: `waiting for approval to promote to ${gate.next}`,
  });
  await recordProgress(state, deps, {
    phase: 'waiting-approval',
    detail: `${run.name} runs ${run.target.release}; approval for ${gate.next} until ${new Date(deadline).toISOString()}`,
  });
  if (!deployment.abort) await notifyApproval(state, gate.next, deadline, deps);
  if (
    deployment.abort &&
    (await deps.store.takeTaskToken('approval', tokenKeys.approval(state.deploymentId)))
  ) {
    await deps.wake(taskToken, { woken: 'abort' });
  }
}

/** Releases the done environment's lock (waking its waiters), back to rolling-out, on to the next. */
export async function passGate(state: RolloutState, deps: RolloutDeps): Promise<RolloutCursor> {
  const cursor = cursorOf(state);
  const done = currentEnvironment(state);
  await releaseLock(state.service, done, state.deploymentId, deps);
  const deployment = await deploymentOf(state, deps);
  if (deployment.status === 'waiting-approval') {
    const approval = state.approval;
    await moveOrAccept(deployment, 'rolling-out', deps, {
      reason:
        approval?.approved === true
          ? `approved by ${approval.actor}${approval.reason === undefined ? '' : `: ${approval.reason}`}`
          : `promoting to ${cursor.gate?.next ?? 'the next environment'}`,
    });
  }
  const next = cursor.environments[cursor.index + 1];
  if (next !== undefined) await notifyPromoted(state, done, next, deps);
  const { gate: _gate, ...rest } = cursor;
  return { ...rest, index: cursor.index + 1, done: false };
}

function gateOf(state: RolloutState): NonNullable<RolloutCursor['gate']> {
  const gate = cursorOf(state).gate;
  if (!gate) throw new Error('no gate in the rollout ($.rollout.gate)');
  return gate;
}
