/**
 * What every rollout step does besides its own work: record where the rollout stands on the
 * deployment (what `kiln status` and `--wait` show), keep the environment's lease alive while it
 * works, and notice an abort request. Shared by the rolling and blue/green steps.
 */
import type { Deployment, DeploymentRollout } from '../../store/schemas';
import type { EnvironmentRun, RolloutDeps, RolloutState } from './deps';

/**
 * The environment lock's lease (DESIGN.md rule 3). Every check step renews it, and no wait between
 * two checks is longer than 5 minutes (the ASL's TimeoutSeconds), so a live rollout never loses it;
 * a crashed or killed execution's lock frees itself this long after its last renewal.
 */
export const ROLLOUT_LEASE_MS = 15 * 60 * 1000;

/** The deployment, which must exist (every rollout step runs for one). */
export async function deploymentOf(
  state: Pick<RolloutState, 'deploymentId'>,
  deps: RolloutDeps,
): Promise<Deployment> {
  const deployment = await deps.store.getDeployment(state.deploymentId);
  if (!deployment) throw new Error(`deployment ${state.deploymentId} does not exist`);
  return deployment;
}

/** The environment run settled by `prepare-environment`. */
export function runOf(state: RolloutState): EnvironmentRun {
  if (!state.env) throw new Error('no environment in progress ($.env)');
  return state.env;
}

/**
 * Records the phase of the environment in progress on the deployment (optimistic: a concurrent
 * writer makes this a StaleVersionError, which the ASL retries).
 */
export async function recordProgress(
  state: RolloutState,
  deps: RolloutDeps,
  progress: Pick<DeploymentRollout, 'phase'> &
    Partial<Pick<DeploymentRollout, 'detail' | 'refreshId' | 'fromGroup' | 'toGroup'>>,
): Promise<Deployment> {
  const run = runOf(state);
  const deployment = await deploymentOf(state, deps);
  const rollout: DeploymentRollout = {
    environment: run.name,
    index: state.rollout?.index ?? 0,
    strategy: run.strategy,
    ...progress,
    at: new Date(deps.now()).toISOString(),
  };
  return deps.store.updateDeployment(state.deploymentId, { rollout }, deployment.version, {
    actor: deps.actor,
  });
}

/** Renews this deployment's lease on the environment in progress; LockNotHeldError if it was lost. */
export async function renewLease(state: RolloutState, deps: RolloutDeps): Promise<void> {
  const run = runOf(state);
  await deps.store.renewLock(state.service, run.name, {
    holder: state.deploymentId,
    leaseMs: ROLLOUT_LEASE_MS,
  });
}

/** The abort request on the deployment, if someone made one (`kiln abort`). */
export async function abortRequest(
  state: Pick<RolloutState, 'deploymentId'>,
  deps: RolloutDeps,
): Promise<Deployment['abort']> {
  return (await deploymentOf(state, deps)).abort;
}
