/**
 * The catch-all clean-up for bakes whose execution ended without running its own `CleanUp`.
 * StopExecution ends an execution at once, without running its Catch
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html), and so
 * does an execution-level timeout; an execution can also fail outside every Catch (a
 * `States.Runtime` error in a Choice or Pass, or the `CleanUp` task itself failing after its
 * retries). Then a builder may still run and a half-made image may still exist.
 *
 * `sweepDeployment` cleans up one deployment, named by its execution (the deploy execution is
 * named after the deployment id). Course:
 * 1. The deployment, and how its execution ended, asked of Step Functions (never taken from an
 *    event alone, so a replayed or late event decides nothing).
 * 2. Nothing to do while it runs or once it succeeded, or when it FAILED and the deployment
 *    already ended (its `CleanUp` or the rollout's `finish` ran, and what they chose stands: a
 *    timed-out image kept for adoption, the lock of a failed rollback kept until its lease ends).
 *    Once its release is recorded the images are the release's: the execution died in the
 *    rollout, whose locks the sweep releases (waking their waiters) before it records the
 *    deployment failed (shared/usecases/rollout/sweep.ts).
 * 3. Otherwise the same clean-up as the Catch (builders by their deployment tag terminated, the
 *    bake's images deleted with their snapshots in every Region), the deployment moved to
 *    `aborted` (stopped) or `failed` (timed out, or failed outside the Catch) with the reason,
 *    and what was removed audited. Idempotent: a second run finds nothing and writes nothing.
 *
 * `sweepAbandonedBakes` is the fallback for lost events: it finds the bakes' leftovers by their
 * tags (live builders, images) in every Region the manifests bake in or copy to, and runs
 * `sweepDeployment` for each deployment they name. The reconciler runs it every quarter hour
 * (shared/usecases/reconcile/reconcile.ts), and `sweepDeployment` for every dead run it finds.
 */
import { BUILDER_ROLE, IMAGE_ROLE, TAG } from '../../domain/bake';
import { isFinal } from '../../domain/deployment';
import { auditTarget } from '../../store';
import { sweepRollout } from '../rollout/sweep';
import type { RolloutDeps } from '../rollout/deps';
import { cleanUpBake, type CleanUpDeps, type Ending } from './finish';

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface ExecutionReport {
  status: ExecutionStatus;
  error?: string;
  cause?: string;
  /** The execution's input (JSON): the manifest version the bake ran with. */
  input?: string;
}

export interface SweepDeps extends CleanUpDeps {
  /** How the deploy execution of this deployment stands; undefined when there is none. */
  describeExecution: (deploymentId: string) => Promise<ExecutionReport | undefined>;
  /** Wakes a task waiting for a lock the sweep released (SendTaskSuccess). */
  wake: RolloutDeps['wake'];
  /** Auto Scaling in a Region: a dead rollout's instance refresh still at work is rolled back. */
  autoScaling: RolloutDeps['autoScaling'];
}

export type SweepOutcome =
  | 'cleaned'
  | 'nothing-left'
  | 'no-deployment'
  | 'no-execution'
  | 'still-running'
  | 'succeeded'
  | 'released'
  | 'ended-by-catch'
  | 'rollout-swept';

export interface SweptDeployment {
  deploymentId: string;
  execution: ExecutionStatus | 'none';
  outcome: SweepOutcome;
  terminated: string[];
  deletedImages: string[];
  /** Environments whose lock the dead execution held, released by the sweep. */
  releasedLocks?: string[];
  /** The deployment's status afterwards (when there is one). */
  status?: string;
}

export interface SweepResult {
  deployments: SweptDeployment[];
}

export async function sweepDeployment(deploymentId: string, deps: SweepDeps): Promise<SweptDeployment> {
  const skip = (execution: SweptDeployment['execution'], outcome: SweepOutcome, status?: string) => ({
    deploymentId,
    execution,
    outcome,
    terminated: [],
    deletedImages: [],
    ...(status === undefined ? {} : { status }),
  });
  const deployment = await deps.store.getDeployment(deploymentId);
  if (!deployment) return skip('none', 'no-deployment');
  // Past its bake: a release linked (the bake's, or a recorded one the rollout began with), or the
  // rollout already recording progress (a rollback deployment carries no new release).
  const inRollout = deployment.release !== undefined || deployment.rollout !== undefined;
  // A release's images are not leftovers, and a rollout that ended ran its own `finish`.
  if (inRollout && isFinal(deployment.status)) {
    return skip('none', 'released', deployment.status);
  }
  const execution = await deps.describeExecution(deploymentId);
  if (!execution) return skip('none', 'no-execution', deployment.status);
  const { status } = execution;
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE')
    return skip(status, 'still-running', deployment.status);
  if (status === 'SUCCEEDED') return skip(status, 'succeeded', deployment.status);
  if (status === 'FAILED' && isFinal(deployment.status))
    return skip(status, 'ended-by-catch', deployment.status);
  // Its release is recorded: the images are the release's, not leftovers; the rollout may have
  // died holding a lock, which the sweep frees (shared/usecases/rollout/sweep.ts).
  if (inRollout) {
    const swept = await sweepRollout(deployment, status, deps);
    if (swept.released.length === 0 && swept.status === deployment.status) {
      return skip(status, 'released', deployment.status);
    }
    return { ...skip(status, 'rollout-swept', swept.status), releasedLocks: swept.released };
  }

  const manifestVersion = manifestVersionOf(execution.input);
  const service = await deps.store.getService(
    deployment.service,
    manifestVersion === undefined ? {} : { version: manifestVersion },
  );
  if (!service) return skip(status, 'nothing-left', deployment.status);
  const ending = endingOf(execution);
  const cleaned = await cleanUpBake(
    {
      deploymentId,
      service: deployment.service,
      region: service.manifest.bake.region,
      copyToRegions: service.manifest.bake.copyToRegions,
    },
    ending,
    deps,
  );
  const removed = cleaned.terminated.length + cleaned.deletedImages.length > 0;
  if (removed) {
    // The status move is audited by the store; what was removed is audited here.
    await deps.store.audit({
      actor: deps.actor,
      action: 'bake.clean-up',
      target: auditTarget.deployment(deploymentId),
      service: deployment.service,
      deploymentId,
      before: { execution: status, deployment: deployment.status },
      after: {
        terminated: cleaned.terminated,
        deletedImages: cleaned.deletedImages,
        keptImages: cleaned.keptImages,
        deployment: cleaned.status,
      },
      reason: ending.reason,
    });
  }
  return {
    deploymentId,
    execution: status,
    outcome: removed || cleaned.status !== deployment.status ? 'cleaned' : 'nothing-left',
    terminated: cleaned.terminated,
    deletedImages: cleaned.deletedImages,
    status: cleaned.status,
  };
}

/** Every deployment that left a builder or an image behind in `regions`, swept one by one. */
export async function sweepAbandonedBakes(regions: readonly string[], deps: SweepDeps): Promise<SweepResult> {
  const candidates = new Set<string>();
  for (const region of [...new Set(regions)].sort()) {
    const ec2 = deps.ec2(region);
    for (const builder of await ec2.findLiveInstancesByTags({ [TAG.role]: BUILDER_ROLE })) {
      const id = builder.tags[TAG.deployment];
      if (id !== undefined) candidates.add(id);
    }
    for (const image of await ec2.findImagesByTags({ [TAG.role]: IMAGE_ROLE })) {
      const id = image.tags[TAG.deployment];
      if (id !== undefined) candidates.add(id);
    }
  }
  const result: SweepResult = { deployments: [] };
  for (const deploymentId of [...candidates].sort()) {
    const swept = await sweepDeployment(deploymentId, deps);
    if (swept.outcome === 'cleaned') result.deployments.push(swept);
  }
  return result;
}

/**
 * The reconciler's quarter-hour sweep: every Region a service's manifest bakes in or copies to
 * (the newest manifest of each; a Region dropped since keeps its leftovers).
 */
export async function sweepAllBakes(deps: SweepDeps): Promise<SweepResult & { regions: string[] }> {
  const regions = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.store.listServices({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    for (const record of page.items) {
      regions.add(record.manifest.bake.region);
      for (const region of record.manifest.bake.copyToRegions) regions.add(region);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  const sorted = [...regions].sort();
  return { ...(await sweepAbandonedBakes(sorted, deps)), regions: sorted };
}

function endingOf(execution: ExecutionReport): Ending {
  switch (execution.status) {
    case 'ABORTED':
      return {
        status: 'aborted',
        reason: 'bake stopped (the deploy execution was aborted); builder and images cleaned up',
        keepImageForAdoption: false,
      };
    case 'TIMED_OUT':
      return {
        status: 'failed',
        reason: 'bake failed: the deploy execution timed out; builder and images cleaned up',
        // Still carrying the lineage, the image is adopted by the next bake (as after BakeTimedOutError).
        keepImageForAdoption: true,
      };
    default: {
      const what = [execution.error, execution.cause].filter((part) => part !== undefined && part !== '');
      return {
        status: 'failed',
        reason: `bake failed: the deploy execution failed outside its clean-up${
          what.length > 0 ? ` (${what.join(': ')})` : ''
        }; builder and images cleaned up`,
        keepImageForAdoption: false,
      };
    }
  }
}

function manifestVersionOf(input: string | undefined): number | undefined {
  if (input === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(input);
    if (typeof parsed !== 'object' || parsed === null || !('manifestVersion' in parsed)) return undefined;
    const { manifestVersion } = parsed;
    return typeof manifestVersion === 'number' && Number.isInteger(manifestVersion)
      ? manifestVersion
      : undefined;
  } catch {
    return undefined;
  }
}
