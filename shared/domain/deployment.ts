/**
 * A deployment's status and the moves it may make: the one definition (DESIGN.md, "Adding
 * things"). The store refuses any other move (shared/store/deployments.ts), and nothing else
 * lists statuses.
 *
 * One deployment carries one release of one service through the environments it names, in
 * promotion order. Its course:
 *
 * ```
 *            ┌──────────────► superseded   (a newer artifact arrived while this one waited
 *            │        ┌─────────► superseded    for the environment's lock)
 *   queued ──┼──► baking ──► rolling-out ◄──► waiting-approval
 *            │               │    │                 │
 *            └───────────────┘    ├──► succeeded    │
 *        (release already baked)  └──► rolling-back ◄┘ ──► rolled-back
 *
 *   from every status that is not final: ──► failed, ──► aborted (rolling-back: failed only)
 * ```
 *
 * - `queued`: created for an artifact, a chat command or the CLI; waits for the
 *   service+environment lock (DESIGN.md rule 3: the newest waits, older queued ones are
 *   superseded).
 * - `baking`: the release's AMI is being made (or found in the bake cache) and copied to every
 *   Region. A baked deployment stays `baking` until it holds the first environment's lock, so one
 *   that waits behind another rollout can still be superseded by a newer one (rule 3). A deployment of a release that already exists (a chat `deploy` of an old version)
 *   goes from `queued` straight to `rolling-out`.
 * - `rolling-out`: an environment is being moved to the release (instance refresh or
 *   blue/green), its alarms watched.
 * - `waiting-approval`: between two environments: the bake time, then a person's approval where
 *   the next environment requires one. Approving goes back to `rolling-out` for the next one.
 * - `rolling-back`: an alarm fired, or someone asked: the environments already moved are being
 *   put back on their previous release. It cannot be aborted (stopping half-way would leave an
 *   environment on neither release); it ends `rolled-back` or `failed`.
 * - Final: `succeeded` (every environment on the release), `failed` (something broke and no
 *   rollback was possible or needed: e.g. the bake failed, nothing had moved), `rolled-back`,
 *   `superseded`, `aborted` (someone stopped it before anything needed undoing, or while waiting
 *   for an approval that was refused). A rollback after a deployment succeeded (within its watch
 *   window) is a deployment of its own (trigger `alarm` or `chatops`), so history reads as it
 *   happened.
 */
import { KilnError } from '../runtime/errors';

export const DEPLOYMENT_STATUSES = [
  'queued',
  'baking',
  'rolling-out',
  'waiting-approval',
  'rolling-back',
  'succeeded',
  'failed',
  'rolled-back',
  'superseded',
  'aborted',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** Where every deployment starts. */
export const INITIAL_DEPLOYMENT_STATUS = 'queued' satisfies DeploymentStatus;

/** Each status and the statuses it may move to; a final status moves nowhere. */
const MOVES: { readonly [from in DeploymentStatus]: readonly DeploymentStatus[] } = {
  queued: ['baking', 'rolling-out', 'superseded', 'aborted', 'failed'],
  baking: ['rolling-out', 'superseded', 'aborted', 'failed'],
  'rolling-out': ['waiting-approval', 'succeeded', 'rolling-back', 'aborted', 'failed'],
  'waiting-approval': ['rolling-out', 'rolling-back', 'aborted', 'failed'],
  'rolling-back': ['rolled-back', 'failed'],
  succeeded: [],
  failed: [],
  'rolled-back': [],
  superseded: [],
  aborted: [],
};

export function isDeploymentStatus(value: string): value is DeploymentStatus {
  return (DEPLOYMENT_STATUSES as readonly string[]).includes(value);
}

/** True when a deployment in `status` will never change status again. */
export function isFinal(status: DeploymentStatus): boolean {
  return MOVES[status].length === 0;
}

/** Whether a deployment may move from `from` to `to`. Staying put is not a move. */
export function canTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return MOVES[from].includes(to);
}

/** The statuses from which a deployment may move to `to` (what a conditional write accepts). */
export function predecessorsOf(to: DeploymentStatus): DeploymentStatus[] {
  return DEPLOYMENT_STATUSES.filter((from) => canTransition(from, to));
}

/** The statuses a deployment in `from` may move to. */
export function successorsOf(from: DeploymentStatus): readonly DeploymentStatus[] {
  return MOVES[from];
}

/** A deployment was asked to move where its status does not allow. Nothing changed. */
export class IllegalTransitionError extends KilnError {
  constructor(
    readonly deploymentId: string | undefined,
    readonly from: DeploymentStatus,
    readonly to: DeploymentStatus,
    options?: { cause?: unknown },
  ) {
    const allowed = MOVES[from];
    super(
      `deployment${deploymentId === undefined ? '' : ` ${deploymentId}`} cannot move from ${from} to ${to}: ` +
        (allowed.length === 0 ? `${from} is final` : `from ${from} it may move to ${allowed.join(', ')}`),
      options,
    );
  }
}

/** Checks one move; throws IllegalTransitionError naming what is allowed instead. */
export function transition(
  from: DeploymentStatus,
  to: DeploymentStatus,
  deploymentId?: string,
): DeploymentStatus {
  if (!canTransition(from, to)) throw new IllegalTransitionError(deploymentId, from, to);
  return to;
}
