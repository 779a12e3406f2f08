/**
 * The rollout's part of the sweep (shared/usecases/bake/sweep.ts): a deploy execution that ended
 * without its own `finish` (StopExecution, an execution timeout, a failure outside every Catch)
 * may still hold an environment's lock. Its lease would free it within ROLLOUT_LEASE_MS; the
 * sweep frees it at once, wakes whoever waits for it, and records the deployment failed with the
 * reason, so the next rollout proceeds and `kiln status` says what happened.
 */
import { isFinal } from '../../domain/deployment';
import type { Deployment } from '../../store';
import type { RolloutDeps } from './deps';
import { moveOrAccept, wakeLockWaiters } from './lock';

export type RolloutSweepDeps = Pick<RolloutDeps, 'store' | 'actor' | 'wake'>;

export interface RolloutSweep {
  /** The environments whose lock the deployment held and the sweep released. */
  released: string[];
  status: Deployment['status'];
}

export async function sweepRollout(
  deployment: Deployment,
  execution: 'ABORTED' | 'TIMED_OUT' | 'FAILED',
  deps: RolloutSweepDeps,
): Promise<RolloutSweep> {
  const released: string[] = [];
  for (const environment of deployment.environments) {
    const { lock } = await deps.store.getEnvironmentState(deployment.service, environment);
    if (lock?.holder !== deployment.id) continue;
    // Audited as the sweeper: the holder is dead and did not let go itself.
    await deps.store.releaseLock(deployment.service, environment, {
      holder: deployment.id,
      actor: deps.actor,
    });
    released.push(environment);
    await wakeLockWaiters(deployment.service, environment, deps);
  }
  let status = deployment.status;
  if (!isFinal(deployment.status)) {
    const where = deployment.rollout
      ? ` at ${deployment.rollout.environment} (${deployment.rollout.phase})`
      : '';
    const moved = await moveOrAccept(deployment, 'failed', deps, {
      outcome: `execution-${execution.toLowerCase().replace('_', '-')}`,
      reason:
        `the deploy execution ended ${execution} during the rollout${where}` +
        (released.length > 0 ? `; the lock of ${released.join(', ')} released` : ''),
    });
    status = moved.status;
  }
  return { released, status };
}
