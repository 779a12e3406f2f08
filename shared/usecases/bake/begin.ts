/**
 * The bake's first step. Course:
 * 1. read the manifest the deployment pins (manifestVersion);
 * 2. move the deployment queued → baking (a re-run finds it baking already);
 * 3. settle the base AMI (an SSM parameter is resolved once and recorded on the deployment, with
 *    the recipe hash and the deadline), so every later step and every re-run bakes the same thing;
 * 4. the bake cache: a release already recorded for this version with the same artifact digest,
 *    recipe hash and base AMI is reused; else an image of this account carrying that lineage (an
 *    earlier bake that timed out while EC2 was still creating it) is adopted; else bake.
 */
import { bakeDeadline, lineageTags, recipeHash } from '../../domain/bake';
import { imageName } from '../../domain/ids';
import { BakeFailedError } from '../../domain/step-errors';
import { StaleStatusError, type DeploymentBake } from '../../store';
import type { BakeDeps, BakePlan, BakeState } from './deps';

export async function beginBake(state: BakeState, deps: BakeDeps): Promise<BakePlan> {
  const { store } = deps;
  const service = await store.getService(state.service, { version: state.manifestVersion });
  if (!service) {
    throw new BakeFailedError(`service ${state.service} has no manifest version ${state.manifestVersion}`);
  }
  const { bake } = service.manifest;
  await moveToBaking(state.deploymentId, deps);

  const deployment = await store.getDeployment(state.deploymentId);
  if (!deployment) throw new BakeFailedError(`deployment ${state.deploymentId} does not exist`);
  let settled: DeploymentBake | undefined = deployment.bake;
  if (!settled) {
    const baseAmiId =
      bake.baseImage.amiId ??
      (await deps.ssm(bake.region).resolveImageParameter(bake.baseImage.ssmParameter ?? ''));
    await deps.ec2(bake.region).requireBaseImage(baseAmiId);
    settled = {
      baseAmiId,
      recipeHash: recipeHash(bake),
      deadline: bakeDeadline(deps.now(), bake.timeoutMinutes),
    };
    await store.updateDeployment(state.deploymentId, { bake: settled }, deployment.version, {
      actor: deps.actor,
    });
  }

  const plan: BakePlan = {
    region: bake.region,
    baseAmiId: settled.baseAmiId,
    recipeHash: settled.recipeHash,
    imageName: imageName({ service: state.service, version: state.version, digest: state.artifact.digest }),
    deadline: settled.deadline,
    copyToRegions: [...bake.copyToRegions],
    smokeCheck: bake.smokeCheck !== undefined,
    cache: 'none',
  };

  const release = await store.getRelease(state.service, state.version);
  if (release) {
    const same =
      release.artifact.digest === state.artifact.digest &&
      release.recipeHash === plan.recipeHash &&
      release.baseAmiId === plan.baseAmiId;
    if (!same) {
      // A release is one version of a service; baking it again from something else would give
      // one version two meanings (releases are recorded once, shared/store/releases.ts).
      throw new BakeFailedError(
        `release ${state.service}@${state.version} is already recorded from another bake ` +
          `(digest ${release.artifact.digest}, recipe ${release.recipeHash}, base ${release.baseAmiId}): ` +
          'publish the change as a new version',
      );
    }
    return { ...plan, cache: 'release', amis: { ...release.amis } };
  }

  const lineage = lineageTags({
    service: state.service,
    version: state.version,
    digest: state.artifact.digest,
    recipeHash: plan.recipeHash,
    baseAmiId: plan.baseAmiId,
  });
  const images = await deps.ec2(bake.region).findImagesByTags(lineage);
  // An available image is adopted as it is; a pending one (EC2 still creating it for a bake that
  // timed out) is adopted and waited for, instead of clashing on its name.
  const orphan =
    images.find((image) => image.state === 'available') ?? images.find((image) => image.state === 'pending');
  if (orphan) return { ...plan, cache: 'image', imageId: orphan.imageId };
  return plan;
}

async function moveToBaking(deploymentId: string, deps: BakeDeps): Promise<void> {
  try {
    await deps.store.moveDeployment(deploymentId, { from: 'queued', to: 'baking' }, { actor: deps.actor });
  } catch (error) {
    // A re-run of this step: the first run moved it.
    if (error instanceof StaleStatusError && error.actualStatus === 'baking') return;
    throw error;
  }
}
