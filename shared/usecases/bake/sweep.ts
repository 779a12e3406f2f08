/**
 * The abort path. StopExecution ends an execution at once, without running its Catch
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html), and so
 * does an execution-level timeout: the catch-all clean-up never runs for them. This sweep does
 * its work instead, reconciler-style: it finds the bake's leftovers by their tags (live builders,
 * and images not yet part of a release), asks Step Functions how each one's execution (named by
 * its deployment id) ended, and for an execution that was ABORTED or TIMED_OUT and never recorded
 * a release it cleans up as the Catch would have: builder terminated, images deleted, deployment
 * `aborted` (stopped) or `failed` (timed out or failed). Idempotent; tests call it now, the
 * reconciler's schedule (issue "reconcile") will call it every minute.
 */
import { BUILDER_ROLE, IMAGE_ROLE, TAG } from '../../domain/bake';
import type { BakeDeps } from './deps';
import { cleanUpBake, type Ending } from './finish';

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface SweepDeps extends BakeDeps {
  /** How the deploy execution of this deployment stands; undefined when there is none. */
  executionStatus: (deploymentId: string) => Promise<ExecutionStatus | undefined>;
}

export interface SweepResult {
  deployments: Array<{
    deploymentId: string;
    execution: ExecutionStatus;
    terminated: string[];
    deletedImages: string[];
  }>;
}

export async function sweepAbandonedBakes(region: string, deps: SweepDeps): Promise<SweepResult> {
  const ec2 = deps.ec2(region);
  const candidates = new Set<string>();
  for (const builder of await ec2.findLiveInstancesByTags({ [TAG.role]: BUILDER_ROLE })) {
    const id = builder.tags[TAG.deployment];
    if (id !== undefined) candidates.add(id);
  }
  for (const image of await ec2.findImagesByTags({ [TAG.role]: IMAGE_ROLE })) {
    const id = image.tags[TAG.deployment];
    if (id !== undefined) candidates.add(id);
  }
  const result: SweepResult = { deployments: [] };
  for (const deploymentId of [...candidates].sort()) {
    const execution = await deps.executionStatus(deploymentId);
    // A FAILED execution ran the catch-all itself; only these two skip it.
    if (execution !== 'ABORTED' && execution !== 'TIMED_OUT') continue;
    const deployment = await deps.store.getDeployment(deploymentId);
    // Its release is recorded: the images are the release's, not leftovers.
    if (!deployment || deployment.release !== undefined) continue;
    const service = await deps.store.getService(deployment.service);
    const ending: Ending =
      execution === 'ABORTED'
        ? {
            status: 'aborted',
            reason: 'bake stopped (the deploy execution was aborted); builder and images cleaned up',
            keepImageForAdoption: false,
          }
        : {
            status: 'failed',
            reason: 'bake failed: the deploy execution timed out; builder and images cleaned up',
            keepImageForAdoption: execution === 'TIMED_OUT',
          };
    const cleaned = await cleanUpBake(
      {
        deploymentId,
        service: deployment.service,
        region,
        copyToRegions: service?.manifest.bake.copyToRegions ?? [],
      },
      ending,
      deps,
    );
    result.deployments.push({
      deploymentId,
      execution,
      terminated: cleaned.terminated,
      deletedImages: cleaned.deletedImages,
    });
  }
  return result;
}
