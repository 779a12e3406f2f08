/**
 * `kiln abort DEPLOYMENT` (chat later): records an abort request on the deployment (its next
 * step stops it safely and restores the previous release) and wakes every wait of the deployment
 * (`{ woken: 'abort' }`) so that step comes now, not at the next poll.
 *
 * Course:
 * 1. The deployment exists. A final one is left alone (`already-final`). One that is rolling back
 *    is refused: stopping a rollback half-way would leave the environment on neither release
 *    (shared/domain/deployment.ts), and it is already restoring the previous release.
 * 2. Set `abort: { actor, at, reason }` by a conditional update on the version read; a concurrent
 *    step's write makes it re-read and decide again. An abort already requested is kept as it was
 *    (`already-requested`: the first request's actor and time stand).
 * 3. Wake every task token of the deployment (lock, refresh, approval, watch, group waits) with
 *    `{ woken: 'abort' }`. Done on `already-requested` too, so a crash between 2 and 3 heals when
 *    the user asks again. A token taken meanwhile by an event is that event's to wake; a task that
 *    is gone has moved on; a transient failure puts the token back and is rethrown. The token
 *    listing is eventually consistent (the store's index): a wait stored a moment ago may be
 *    missed, and is then ended by its own deadline poll, whose step sees the abort request.
 * 4. Audited (`deployment.abort`) with the actor and the reason, once.
 */
import type { SfnTasks } from '../../aws/sfn';
import { isFinal } from '../../domain/deployment';
import type { ServiceManifest } from '../../domain/manifest/schema';
import { StaleVersionError, type KilnStore } from '../../store';
import { auditTarget, type AbortRequest, type Deployment, type TaskToken } from '../../store/schemas';
import type { WakeReason } from '../rollout/deps';
import { DeploymentRequestError } from './errors';

export interface AbortInput {
  deploymentId: string;
  actor: string;
  reason?: string;
}

/** How often a concurrent step's write may beat the abort's before it gives up (each re-reads). */
const MAX_ATTEMPTS = 5;

export async function abortDeployment(
  input: AbortInput,
  deps: { store: KilnStore<ServiceManifest>; tasks: Pick<SfnTasks, 'succeed'>; now: () => number },
): Promise<{ outcome: 'requested' | 'already-requested' | 'already-final' }> {
  const { store } = deps;
  const { deploymentId } = input;
  for (let attempt = 1; ; attempt++) {
    const deployment = await store.getDeployment(deploymentId);
    if (deployment === undefined) {
      throw new DeploymentRequestError(`no deployment ${deploymentId}`, 'deploymentId');
    }
    if (isFinal(deployment.status)) return { outcome: 'already-final' };
    if (deployment.status === 'rolling-back') {
      throw new DeploymentRequestError(
        `deployment ${deploymentId} is rolling back already: it cannot be stopped half-way, and it is restoring the previous release`,
        'deploymentId',
      );
    }
    if (deployment.abort !== undefined) {
      await wakeWaits(deployment, deps);
      return { outcome: 'already-requested' };
    }
    const abort: AbortRequest = {
      actor: input.actor,
      at: new Date(deps.now()).toISOString(),
      ...(input.reason === undefined ? {} : { reason: input.reason }),
    };
    try {
      await store.updateDeployment(deploymentId, { abort }, deployment.version, { actor: input.actor });
    } catch (error) {
      if (error instanceof StaleVersionError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    await store.audit({
      actor: input.actor,
      action: 'deployment.abort',
      target: auditTarget.deployment(deploymentId),
      service: deployment.service,
      deploymentId,
      before: { status: deployment.status },
      after: { abort },
      ...(input.reason === undefined ? {} : { reason: input.reason }),
    });
    await wakeWaits(deployment, deps);
    return { outcome: 'requested' };
  }
}

async function wakeWaits(
  deployment: Deployment,
  deps: { store: KilnStore<ServiceManifest>; tasks: Pick<SfnTasks, 'succeed'> },
): Promise<void> {
  const waiting: TaskToken[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listTaskTokens({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    waiting.push(...page.items.filter((token) => token.deploymentId === deployment.id));
    cursor = page.cursor;
  } while (cursor !== undefined);
  const output: WakeReason = { woken: 'abort' };
  for (const listed of waiting) {
    const token = await deps.store.takeTaskToken(listed.waitKind, listed.key);
    // Taken meanwhile: an event is waking that task, and its step will see the abort request.
    if (token === undefined) continue;
    try {
      await deps.tasks.succeed(token.token, output);
    } catch (error) {
      await deps.store.restoreTaskToken(token);
      throw error;
    }
  }
}
