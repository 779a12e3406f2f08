/**
 * The rollout's notifications (issue 11, item 5): deployment started (`take-lock` of the first
 * environment), waiting for approval (`wait-approval`), promoted (`pass-gate`) and the ending
 * (`finish`: succeeded, failed, rolled back). `rollout-begin` copies the manifest's
 * `notifications` block into the cursor only when it names a destination, so a service without
 * notifications pays no read and no call for them; each notice is sent at most once however
 * often its step is retried (its key is the `notification` claim's, shared/usecases/notify).
 *
 * A notice never fails its step: `deps.notify` catches everything itself, and the reads made here
 * to describe the change (environment record, group size) are best effort too.
 */
import {
  approvalNotice,
  endingNotice,
  promotedNotice,
  startedNotice,
  type DeploymentFacts,
  type EnvironmentSide,
  type Notice,
  type NotificationTarget,
} from '../../domain/notifications';
import { environmentIn, manifestOf } from './course';
import type { RolloutCursor, RolloutDeps, RolloutState } from './deps';
import { UNRECORDED_RELEASE } from './prepare';

/** The block to carry in `$.rollout`, or undefined when it sends nowhere. */
export function carriedTarget(target: NotificationTarget): NotificationTarget | undefined {
  return target.slackWebhookParameter === undefined && target.snsTopicArn === undefined ? undefined : target;
}

function factsOf(state: RolloutState): DeploymentFacts | undefined {
  const to = state.rollout?.notifications;
  if (to === undefined) return undefined;
  return {
    service: state.service,
    deploymentId: state.deploymentId,
    version: state.version,
    mode: state.rollout?.mode ?? state.mode ?? 'deploy',
    to,
  };
}

async function send(deps: RolloutDeps, build: () => Promise<Notice | undefined>): Promise<void> {
  if (deps.notify === undefined) return;
  let notice: Notice | undefined;
  try {
    notice = await build();
  } catch {
    // Describing the change failed (a read): the notice goes without it rather than not at all.
    return;
  }
  if (notice !== undefined && notice.to.events.includes(notice.kind)) await deps.notify(notice);
}

export function notifyStarted(state: RolloutState, cursor: RolloutCursor, deps: RolloutDeps): Promise<void> {
  return send(deps, async () => {
    const facts = factsOf({ ...state, rollout: cursor });
    return facts && startedNotice(facts, cursor.environments);
  });
}

export function notifyPromoted(
  state: RolloutState,
  from: string,
  next: string,
  deps: RolloutDeps,
): Promise<void> {
  return send(deps, async () => {
    const facts = factsOf(state);
    const approval = state.approval?.approved === true ? state.approval.actor : undefined;
    return facts && promotedNotice(facts, from, next, approval);
  });
}

export function notifyApproval(
  state: RolloutState,
  next: string,
  deadline: number,
  deps: RolloutDeps,
): Promise<void> {
  return send(deps, async () => {
    const facts = factsOf(state);
    const run = state.env;
    if (!facts || !run) return undefined;
    const done: EnvironmentSide = {
      name: run.name,
      release: run.target.release,
      instances: run.target.capacity.desired,
    };
    return approvalNotice(facts, done, await sideOf(state, next, deps), deadline);
  });
}

export function notifyEnding(
  state: RolloutState,
  status: string,
  reason: string,
  deps: RolloutDeps,
): Promise<void> {
  return send(deps, async () => {
    const facts = factsOf(state);
    // Superseded: a newer deployment took over before this one touched anything; its own news says so.
    if (!facts || status === 'superseded') return undefined;
    const kind = status === 'succeeded' ? 'succeeded' : status === 'rolled-back' ? 'rolled-back' : 'failed';
    if (kind === 'succeeded') {
      const cursor = state.rollout;
      const lastName = cursor?.environments[cursor.environments.length - 1];
      if (lastName !== undefined) {
        const recorded = await deps.store.getEnvironmentState(state.service, lastName);
        const side = await sideOf(state, lastName, deps);
        // What a rollback would restore: the record beneath the current one (a release Kiln did not
        // record is named by its exact launch template version, which is what a rollback restores).
        const before = recorded.history?.[1];
        const previous =
          before === undefined
            ? undefined
            : before.release === UNRECORDED_RELEASE
              ? `launch template version ${before.launchTemplate.version}`
              : before.release;
        return endingNotice(facts, kind, status, reason, {
          ...side,
          ...(previous === undefined ? {} : { previous }),
        });
      }
    }
    return endingNotice(facts, kind, status, reason);
  });
}

/** An environment as a person weighs a change to it: its release now and its group's size. */
async function sideOf(state: RolloutState, name: string, deps: RolloutDeps): Promise<EnvironmentSide> {
  const env = environmentIn(await manifestOf(state, deps), name);
  const recorded = await deps.store.getEnvironmentState(state.service, name);
  const group = await deps
    .autoScaling(env.region)
    .describeGroup(recorded.activeGroup ?? env.autoScalingGroup);
  return {
    name,
    release: recorded.currentRelease ?? UNRECORDED_RELEASE,
    instances: group?.capacity.desired ?? 0,
  };
}
