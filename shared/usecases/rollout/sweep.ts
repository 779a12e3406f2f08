/**
 * The rollout's part of the sweep (shared/usecases/bake/sweep.ts): a deploy execution that ended
 * without its own `finish` (StopExecution, an execution timeout, a failure outside every Catch)
 * may still hold an environment's lock. Its lease would free it within ROLLOUT_LEASE_MS; the
 * sweep frees it at once, wakes whoever waits for it, and records the deployment failed with the
 * reason, so the next rollout proceeds and `kiln status` says what happened.
 *
 * A rolling rollout that died while its instance refresh was still at work would otherwise leave
 * that refresh running to the end: the environment would end on the failed deployment's release
 * while Kiln records the previous one (found by `npm run chaos`, seed 7). So the sweep first rolls
 * the refresh back (RollbackInstanceRefresh: "Cancels an instance refresh that is in progress and
 * rolls back any changes that it made", returning the group to its configuration before the
 * refresh, https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RollbackInstanceRefresh.html),
 * only when the refresh at work is the deployment's own.
 *
 * A run that died after its refresh succeeded but before it recorded the environment (its
 * `environmentDone` step never ran) left the environment running the release with Kiln's record
 * still naming the previous one (`npm run chaos`, seed 174). AWS cannot roll back a finished
 * refresh (RollbackInstanceRefresh only acts on one in progress), and the release passed the
 * refresh's own health checks and alarms there, so the sweep records what runs: the environment
 * on the deployment's release, at the launch template version the group now names. Kiln's record
 * then matches the group, and `kiln rollback` restores the previous release exactly.
 */
import { isFinal } from '../../domain/deployment';
import type { Deployment } from '../../store';
import type { RolloutDeps } from './deps';
import { recordCurrent } from './environment-state';
import { moveOrAccept, wakeLockWaiters } from './lock';

export type RolloutSweepDeps = Pick<RolloutDeps, 'store' | 'actor' | 'wake' | 'autoScaling'> & {
  /** The clock the environment's record is stamped with (default: the process's). */
  now?: () => number;
};

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
  // Before the lock goes: nothing else may start on the group while its refresh is undone.
  const undone = isFinal(deployment.status) ? undefined : await settleRefresh(deployment, deps);
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
        (undone === undefined ? '' : `; ${undone}`) +
        (released.length > 0 ? `; the lock of ${released.join(', ')} released` : ''),
    });
    status = moved.status;
  }
  return { released, status };
}

/**
 * Settles the deployment's own instance refresh: rolled back if still at work, recorded if it had
 * completed (see the module comment); says what it did.
 */
async function settleRefresh(deployment: Deployment, deps: RolloutSweepDeps): Promise<string | undefined> {
  const { rollout } = deployment;
  const group = rollout?.toGroup;
  if (rollout?.strategy !== 'rolling' || rollout.refreshId === undefined || group === undefined)
    return undefined;
  const manifest = (await deps.store.getService(deployment.service))?.manifest;
  const region = manifest?.environments.find((e) => e.name === rollout.environment)?.region;
  if (region === undefined) return undefined;
  const autoScaling = deps.autoScaling(region);
  const active = await autoScaling.activeRefresh(group);
  const nothing = `no instance refresh of ${group} was at work to roll back`;
  if (active?.refreshId === rollout.refreshId) {
    if (active.status === 'RollbackInProgress') return nothing;
    const rolled = await autoScaling.rollbackRefresh(group);
    return rolled === 'none' ? nothing : `its instance refresh ${rolled.refreshId} of ${group} rolled back`;
  }
  const own = await autoScaling.describeRefresh(group, rollout.refreshId);
  if (own?.status !== 'Successful') return nothing;
  const described = await autoScaling.describeGroup(group);
  const version = Number(described?.launchTemplate?.version);
  if (described?.launchTemplate === undefined || !Number.isInteger(version) || version < 1) {
    return `its instance refresh ${rollout.refreshId} of ${group} had completed, but the group names no launch template version: not recorded`;
  }
  const state = await deps.store.getEnvironmentState(deployment.service, rollout.environment);
  // Every environment write needs this deployment's lease (environment-state.ts): a lock already
  // gone (its lease ended and another rollout may hold it) leaves the record to that rollout.
  if (state.lock?.holder !== deployment.id) {
    return `its instance refresh ${rollout.refreshId} of ${group} had completed, but ${rollout.environment}'s lock is no longer this deployment's: not recorded`;
  }
  const current = {
    release: deployment.releaseVersion,
    group,
    launchTemplate: { id: described.launchTemplate.id, version },
    capacity: described.capacity,
    since: new Date((deps.now ?? Date.now)()).toISOString(),
    deploymentId: deployment.id,
  };
  await recordCurrent(
    {
      service: deployment.service,
      environment: rollout.environment,
      deploymentId: deployment.id,
      current,
      previous: state.history?.[0] ?? current,
    },
    deps,
  );
  return (
    `its instance refresh ${rollout.refreshId} of ${group} had completed: ` +
    `${rollout.environment} recorded on ${deployment.releaseVersion} (launch template v${version})`
  );
}
