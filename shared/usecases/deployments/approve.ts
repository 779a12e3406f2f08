/**
 * `kiln approve DEPLOYMENT` (chat later): resumes the deployment's approval wait (task token,
 * waitKind `approval`, key = deployment id) with `{ approved, actor, reason }`.
 *
 * CONTRACT STUB: the CLI helper implements it.
 */
import type { SfnTasks } from '../../aws/sfn';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';

export interface ApproveInput {
  deploymentId: string;
  actor: string;
  approved: boolean;
  reason?: string;
}

export async function approveDeployment(
  _input: ApproveInput,
  _deps: { store: KilnStore<ServiceManifest>; tasks: SfnTasks },
): Promise<{ outcome: 'approved' | 'refused' }> {
  throw new Error('approveDeployment is not implemented yet');
}
