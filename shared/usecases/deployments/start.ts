/**
 * Starting a deployment of a release that exists (`kiln deploy`, `kiln rollback`; chat later):
 * creates the deployment record, then starts the deploy state machine without an artifact, so it
 * skips the bake (shared/domain/deploy-execution.ts).
 *
 * CONTRACT STUB: the CLI helper implements it.
 */
import type { DeployExecutions } from '../../aws/sfn';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { IdSource } from '../../runtime/ids';
import type { KilnStore } from '../../store';
import type { Deployment, DeploymentTrigger } from '../../store/schemas';

export interface StartDeploymentInput {
  service: string;
  /** The release to deploy; for a rollback without `--to`, the environment's previous release. */
  version?: string;
  environments: string[];
  mode: 'deploy' | 'rollback';
  trigger: DeploymentTrigger;
  actor: string;
  reason?: string;
}

export interface StartDeploymentDeps {
  store: KilnStore<ServiceManifest>;
  executions: DeployExecutions;
  ids: IdSource;
  now: () => number;
}

export async function startDeployment(
  _input: StartDeploymentInput,
  _deps: StartDeploymentDeps,
): Promise<{ deployment: Deployment; executionArn: string }> {
  throw new Error('startDeployment is not implemented yet');
}
