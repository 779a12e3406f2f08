/**
 * The builder instance: launched once per deployment (the client token is the deployment's),
 * waited for, stopped before imaging, terminated at the end whatever happened.
 */
import { builderTags } from '../../domain/bake';
import { clientToken } from '../../domain/ids';
import { BakeFailedError, BakeTimedOutError, InstanceNotReadyError } from '../../domain/step-errors';
import { builderOf, planOf, type BakeDeps, type BakeState } from './deps';

export async function launchBuilder(state: BakeState, deps: BakeDeps): Promise<{ instanceId: string }> {
  const plan = planOf(state);
  const service = await deps.store.getService(state.service, { version: state.manifestVersion });
  if (!service)
    throw new BakeFailedError(`service ${state.service} has no manifest version ${state.manifestVersion}`);
  const { bake } = service.manifest;
  return deps.ec2(plan.region).launchBuilder({
    imageId: plan.baseAmiId,
    instanceType: bake.instanceType,
    subnetId: bake.subnetId,
    securityGroupIds: bake.securityGroupIds,
    instanceProfile: bake.instanceProfile,
    volumeSizeGiB: bake.volumeSizeGiB,
    tags: builderTags({
      deploymentId: state.deploymentId,
      service: state.service,
      version: state.version,
      manifestTags: bake.tags,
    }),
    clientToken: clientToken([state.deploymentId, 'launch-builder', plan.region]),
  });
}

/** Throws the deadline error when the bake is past it: every wait of the bake checks. */
export function checkDeadline(
  state: { bake?: { deadline: number } },
  deps: Pick<BakeDeps, 'now'>,
  what: string,
): void {
  const plan = planOf(state as BakeState);
  if (deps.now() > plan.deadline) {
    throw new BakeTimedOutError(
      `the bake ran out of time (bake.timeoutMinutes, until ${new Date(plan.deadline).toISOString()}) while ${what}`,
    );
  }
}

/**
 * The builder is running: Run Command can be sent (Run Command itself waits, within its delivery
 * timeout, for the agent to register with Systems Manager). InstanceNotReadyError while pending
 * (the ASL retries it); a builder that stopped or went away on its own fails the bake.
 */
export async function builderReady(state: BakeState, deps: BakeDeps): Promise<{ state: string }> {
  const instanceId = builderOf(state);
  const current = await deps.ec2(planOf(state).region).instanceState(instanceId);
  if (current === 'running') return { state: current };
  if (current === 'pending') {
    checkDeadline(state, deps, `waiting for builder ${instanceId} to start`);
    throw new InstanceNotReadyError(`builder ${instanceId} is still pending`);
  }
  throw new BakeFailedError(`builder ${instanceId} is ${current ?? 'gone'} before the install ran`);
}

/** Stops the builder and reports when it has stopped (InstanceNotReadyError until then). */
export async function stopBuilder(state: BakeState, deps: BakeDeps): Promise<{ state: string }> {
  const instanceId = builderOf(state);
  const ec2 = deps.ec2(planOf(state).region);
  const current = await ec2.instanceState(instanceId);
  if (current === 'stopped') return { state: current };
  if (current === undefined || current === 'terminated' || current === 'shutting-down') {
    throw new BakeFailedError(`builder ${instanceId} is ${current ?? 'gone'} before it could be imaged`);
  }
  checkDeadline(state, deps, `stopping builder ${instanceId}`);
  if (current !== 'stopping') await ec2.stopInstance(instanceId);
  throw new InstanceNotReadyError(`builder ${instanceId} is stopping`);
}

/** Terminates the builder, if the bake launched one; one already gone is success. */
export async function terminateBuilder(state: BakeState, deps: BakeDeps): Promise<{ terminated: string[] }> {
  if (!state.builder) return { terminated: [] };
  await deps.ec2(planOf(state).region).terminateInstance(state.builder.instanceId);
  return { terminated: [state.builder.instanceId] };
}
