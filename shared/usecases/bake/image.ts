/**
 * The image: created from the stopped builder under its deterministic name (a re-run answers with
 * the first image), waited for with a callback (DESIGN.md rule 5, keyed by the image id, resumed
 * by on-progress on "EC2 AMI State Change"), tagged with its lineage, then copied to every Region
 * the manifest names. Copies are waited for by polling (Wait states in the ASL): EC2 sends a
 * copy's AMI State Change event in the copy's Region, whose bus Kiln does not listen on.
 */
import { lineageTags, TAG, WAIT_POLL_SECONDS, type Lineage } from '../../domain/bake';
import { clientToken } from '../../domain/ids';
import { BakeFailedError } from '../../domain/step-errors';
import { checkDeadline } from './builder';
import { builderOf, imageOf, planOf, type BakeDeps, type BakeState, type CopyState } from './deps';

function lineageOf(state: BakeState | CopyState): Lineage {
  const plan = planOf(state);
  return {
    service: state.service,
    version: state.version,
    digest: state.artifact.digest,
    recipeHash: plan.recipeHash,
    baseAmiId: plan.baseAmiId,
  };
}

/** Lineage and deployment tags, as every image and snapshot of the bake carries them. */
function imageTags(state: BakeState | CopyState): Record<string, string> {
  return { ...lineageTags(lineageOf(state)), [TAG.deployment]: state.deploymentId };
}

export async function createImage(state: BakeState, deps: BakeDeps): Promise<{ imageId: string }> {
  const plan = planOf(state);
  const { imageId } = await deps.ec2(plan.region).createImage({
    instanceId: builderOf(state),
    name: plan.imageName,
    description: `Kiln: ${state.service} ${state.version} (${state.artifact.digest})`.slice(0, 255),
    // Image and snapshots tagged from creation: an image that outlives its bake (a timeout) can
    // still be adopted, and a pending or failed one deleted with its snapshots by Kiln's roles.
    tags: imageTags(state),
  });
  return { imageId };
}

/** Stores the task token under the image id, then looks once: settled already → wakes itself. */
export async function waitForImage(state: BakeState, taskToken: string, deps: BakeDeps): Promise<void> {
  const imageId = imageOf(state);
  await deps.store.putTaskToken({
    waitKind: 'image',
    key: imageId,
    token: taskToken,
    deploymentId: state.deploymentId,
    expiresAt: deps.now() + WAIT_POLL_SECONDS.image * 1000,
  });
  const image = await deps.ec2(planOf(state).region).describeImage(imageId);
  if (image?.state !== 'pending' && (await deps.store.takeTaskToken('image', imageId))) {
    await deps.wake(taskToken, { woken: 'poll' });
  }
}

/**
 * Available → tags the image and its snapshots with the lineage and says done; pending → not done
 * (unless past the deadline); anything else fails the bake. CreateImage already tagged both, so
 * the tagging repeats the same tags (CreateTags overwrites; harmless).
 */
export async function checkImage(state: BakeState, deps: BakeDeps): Promise<{ done: boolean }> {
  const imageId = imageOf(state);
  const ec2 = deps.ec2(planOf(state).region);
  const image = await ec2.describeImage(imageId);
  if (image?.state === 'available') {
    await ec2.tagImage(image, imageTags(state));
    return { done: true };
  }
  if (image?.state === 'pending') {
    checkDeadline(state, deps, `image ${imageId} was still pending`);
    return { done: false };
  }
  throw new BakeFailedError(
    `image ${imageId} ended ${image?.state ?? 'deregistered'}` +
      (image?.stateReason === undefined ? '' : ` (${image.stateReason})`),
  );
}

/** Starts one Region's copy; the client token makes a re-run answer with the first copy. */
export async function copyImage(state: CopyState, deps: BakeDeps): Promise<{ imageId: string }> {
  const plan = planOf(state);
  return deps.ec2(state.region).copyImage({
    sourceImageId: imageOf(state),
    sourceRegion: plan.region,
    name: plan.imageName,
    description: `Kiln: ${state.service} ${state.version}, copied from ${plan.region}`,
    clientToken: clientToken([state.deploymentId, 'copy-image', state.region]),
    tags: imageTags(state),
  });
}

/**
 * One Region's copy: available (tagged, with its snapshots, again: CopyImage tagged both) → done;
 * pending → not yet.
 */
export async function checkCopy(
  state: CopyState,
  deps: BakeDeps,
): Promise<{ imageId: string; done: boolean }> {
  if (!state.copy) throw new Error('no copy in the state ($.copy)');
  const { imageId } = state.copy;
  const ec2 = deps.ec2(state.region);
  const image = await ec2.describeImage(imageId);
  if (image?.state === 'available') {
    await ec2.tagImage(image, imageTags(state));
    return { imageId, done: true };
  }
  if (image?.state === 'pending') {
    checkDeadline(state, deps, `the copy ${imageId} in ${state.region} was still pending`);
    return { imageId, done: false };
  }
  throw new BakeFailedError(
    `the copy ${imageId} in ${state.region} ended ${image?.state ?? 'deregistered'}` +
      (image?.stateReason === undefined ? '' : ` (${image.stateReason})`),
  );
}
