/**
 * `kiln abort DEPLOYMENT` (chat later): records an abort request on the deployment (its next
 * step stops it safely and restores the previous release) and wakes every wait of the deployment
 * (`{ woken: 'abort' }`) so that step comes now, not at the next poll.
 *
 * CONTRACT STUB: the CLI helper implements it.
 */
import type { SfnTasks } from '../../aws/sfn';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';

export interface AbortInput {
  deploymentId: string;
  actor: string;
  reason?: string;
}

export async function abortDeployment(
  _input: AbortInput,
  _deps: { store: KilnStore<ServiceManifest>; tasks: SfnTasks; now: () => number },
): Promise<{ outcome: 'requested' | 'already-requested' | 'already-final' }> {
  throw new Error('abortDeployment is not implemented yet');
}
