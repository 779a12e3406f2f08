/**
 * `kiln approve DEPLOYMENT` (chat later): resumes the deployment's approval wait (task token,
 * waitKind `approval`, key = deployment id) with `{ approved, actor, reason }`.
 *
 * Course:
 * 1. The deployment exists and is `waiting-approval`.
 * 2. Take its approval token (a conditional delete: of two approvers answering at once, exactly
 *    one answers). No token: the wait ended (timed out, answered, aborted) or has not stored its
 *    token yet; the error says which.
 * 3. SendTaskSuccess with the answer. A task that is gone (TaskTimedOut, InvalidToken,
 *    TaskDoesNotExist) is an error naming it; a transient failure puts the token back (unless a
 *    newer one is stored) and is rethrown, so trying again works.
 * 4. Audited (`deployment.approve` / `deployment.refuse`) with the actor and the reason.
 *
 * Who may approve: the manifest's `access.approve` lists Slack ids, which chat checks (the
 * reactions issue). The CLI's actor is the local user (`--actor`, default `cli:$USER`): whoever
 * can write Kiln's table and call SendTaskSuccess is trusted by IAM, and the audit log records
 * the name they gave.
 */
import type { SfnTasks } from '../../aws/sfn';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';
import { auditTarget } from '../../store/schemas';
import { tokenKeys } from '../rollout/deps';
import { DeploymentRequestError } from './errors';

export interface ApproveInput {
  deploymentId: string;
  actor: string;
  approved: boolean;
  reason?: string;
}

/** What `$.approval` receives (RolloutState.approval). */
export interface ApprovalAnswer {
  approved: boolean;
  actor: string;
  reason?: string;
}

export async function approveDeployment(
  input: ApproveInput,
  deps: { store: KilnStore<ServiceManifest>; tasks: Pick<SfnTasks, 'succeed'> },
): Promise<{ outcome: 'approved' | 'refused' }> {
  const { store } = deps;
  const { deploymentId } = input;
  const deployment = await store.getDeployment(deploymentId);
  if (deployment === undefined) {
    throw new DeploymentRequestError(`no deployment ${deploymentId}`, 'deploymentId');
  }
  if (deployment.status !== 'waiting-approval') {
    throw new DeploymentRequestError(
      `deployment ${deploymentId} is ${deployment.status}, not waiting for approval`,
      'deploymentId',
    );
  }
  const token = await store.takeTaskToken('approval', tokenKeys.approval(deploymentId));
  if (token === undefined) {
    throw new DeploymentRequestError(
      `deployment ${deploymentId} has no approval waiting: it was answered or timed out, or its wait is ` +
        'only starting (try again in a few seconds)',
      'deploymentId',
    );
  }
  const answer: ApprovalAnswer = {
    approved: input.approved,
    actor: input.actor,
    ...(input.reason === undefined ? {} : { reason: input.reason }),
  };
  let resumed;
  try {
    resumed = await deps.tasks.succeed(token.token, answer);
  } catch (error) {
    await store.restoreTaskToken(token);
    throw error;
  }
  if (resumed.outcome === 'gone') {
    throw new DeploymentRequestError(
      `the approval wait of deployment ${deploymentId} has ended (${resumed.code}): it timed out or its execution stopped`,
      'deploymentId',
    );
  }
  await store.audit({
    actor: input.actor,
    action: input.approved ? 'deployment.approve' : 'deployment.refuse',
    target: auditTarget.deployment(deploymentId),
    service: deployment.service,
    deploymentId,
    after: { approved: input.approved },
    ...(input.reason === undefined ? {} : { reason: input.reason }),
  });
  return { outcome: input.approved ? 'approved' : 'refused' };
}
