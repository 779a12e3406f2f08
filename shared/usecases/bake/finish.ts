/**
 * How a bake ends. Success: the release recorded (AMI per Region) and linked on the deployment,
 * which stays `baking` until it holds its first environment's lock (the rollout's TakeLock moves it
 * to rolling-out), so one that waits behind another rollout can still be superseded. Failure (the ASL's catch-all): the builder
 * terminated, the bake's images deleted with their snapshots, the deployment moved to failed
 * with the reason in words.
 */
import { failureReason, TAG } from '../../domain/bake';
import { BakeFailedError } from '../../domain/step-errors';
import { StaleStatusError, type Release } from '../../store';
import type { DeploymentStatus } from '../../domain/deployment';
import { isFinal } from '../../domain/deployment';
import { planOf, type BakeDeps, type BakeState } from './deps';

export async function recordRelease(
  state: BakeState,
  deps: BakeDeps,
): Promise<{ version: string; amis: Record<string, string> }> {
  const plan = planOf(state);
  let amis: Record<string, string>;
  if (plan.cache === 'release' && plan.amis) {
    amis = plan.amis;
  } else {
    if (!state.image) throw new Error('no image in the state ($.image)');
    amis = { [plan.region]: state.image.imageId };
    for (const copy of state.copies ?? []) {
      if (!copy.copy) throw new BakeFailedError(`the copy to ${copy.region} did not finish`);
      amis[copy.region] = copy.copy.imageId;
    }
  }
  const release: Release = await deps.store.putRelease(
    {
      service: state.service,
      version: state.version,
      amis,
      artifact: { uri: state.artifact.uri, digest: state.artifact.digest },
      recipeHash: plan.recipeHash,
      baseAmiId: plan.baseAmiId,
    },
    { actor: deps.actor },
  );
  const link = { version: release.version, amis: release.amis };
  const deployment = await deps.store.getDeployment(state.deploymentId);
  if (!deployment) throw new BakeFailedError(`deployment ${state.deploymentId} does not exist`);
  if (deployment.release === undefined) {
    await deps.store.updateDeployment(state.deploymentId, { release: link }, deployment.version, {
      actor: deps.actor,
    });
  }
  return link;
}

/** Why the bake stopped, and whether the image should stay for the next bake to adopt. */
export interface Ending {
  status: Extract<DeploymentStatus, 'failed' | 'aborted'>;
  reason: string;
  /**
   * A timeout keeps the bake Region's image if EC2 is still creating it or has finished it: it
   * carries the lineage, so the next bake adopts it instead of clashing on its name.
   */
  keepImageForAdoption: boolean;
}

export function endingOf(error: BakeState['error']): Ending {
  const timedOut = error?.Error === 'BakeTimedOutError' || error?.Error === 'States.Timeout';
  return { status: 'failed', reason: failureReason(error ?? {}), keepImageForAdoption: timedOut };
}

/** What clean-up needs: the store, EC2 in each Region, and who acts (no Run Command, no wake). */
export type CleanUpDeps = Pick<BakeDeps, 'store' | 'ec2' | 'actor'>;

/**
 * Clean-up after a failed, timed-out or stopped bake; every part is idempotent, so the step can
 * be retried and the sweep can repeat it. Builders are found by their deployment tag (not only
 * by `$.builder`), so a builder whose launch answer was lost is terminated too.
 */
export async function cleanUpBake(
  input: { deploymentId: string; service: string; region: string; copyToRegions: readonly string[] },
  ending: Ending,
  deps: CleanUpDeps,
): Promise<{ terminated: string[]; deletedImages: string[]; keptImages: string[]; status: string }> {
  const byDeployment = { [TAG.deployment]: input.deploymentId };
  const ec2 = deps.ec2(input.region);
  const builders = await ec2.findLiveInstancesByTags(byDeployment);
  for (const builder of builders) await ec2.terminateInstance(builder.instanceId);

  const deletedImages: string[] = [];
  const keptImages: string[] = [];
  // Copies first: a copy is of no use without the release, and a pending copy is stopped by
  // deregistering it (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/CopyingAMIs.html).
  for (const region of [...input.copyToRegions, input.region]) {
    const regional = deps.ec2(region);
    for (const image of await regional.findImagesByTags(byDeployment)) {
      const keep =
        ending.keepImageForAdoption &&
        region === input.region &&
        (image.state === 'pending' || image.state === 'available');
      if (keep) {
        keptImages.push(image.imageId);
        continue;
      }
      await regional.deleteImage(image.imageId);
      deletedImages.push(image.imageId);
    }
  }
  const status = await recordEnding(input.deploymentId, ending, deps);
  return { terminated: builders.map((b) => b.instanceId), deletedImages, keptImages, status };
}

/** Moves the deployment to the ending's status from wherever it is (unless it already ended). */
async function recordEnding(deploymentId: string, ending: Ending, deps: CleanUpDeps): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const deployment = await deps.store.getDeployment(deploymentId);
    if (!deployment) return 'missing';
    if (isFinal(deployment.status)) return deployment.status;
    try {
      const moved = await deps.store.moveDeployment(
        deploymentId,
        { from: deployment.status, to: ending.status, outcome: ending.status, reason: ending.reason },
        { actor: deps.actor },
      );
      return moved.status;
    } catch (error) {
      if (!(error instanceof StaleStatusError)) throw error;
    }
  }
  throw new StaleStatusError(
    `deployment ${deploymentId} kept changing status while its bake was being recorded as ${ending.status}`,
    `deployment:${deploymentId}`,
    'any',
    'changing',
  );
}

/** The catch-all step: the execution's state carries the error the Catch put in `$.error`. */
export async function cleanUpAfterFailure(state: BakeState, deps: BakeDeps) {
  const ending = endingOf(state.error);
  let region = state.bake?.region;
  let copyToRegions = state.bake?.copyToRegions ?? [];
  if (region === undefined) {
    // Failed before the plan: the manifest still says where a builder would be.
    const service = await deps.store.getService(state.service, { version: state.manifestVersion });
    region = service?.manifest.bake.region;
    copyToRegions = service?.manifest.bake.copyToRegions ?? [];
  }
  if (region === undefined) {
    const status = await recordEnding(state.deploymentId, ending, deps);
    return { terminated: [], deletedImages: [], keptImages: [], status, reason: ending.reason };
  }
  const result = await cleanUpBake(
    { deploymentId: state.deploymentId, service: state.service, region, copyToRegions },
    ending,
    deps,
  );
  return { ...result, reason: ending.reason };
}
