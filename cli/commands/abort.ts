import type { Command } from 'commander';
import {
  exitAfterFollowing,
  namingArguments,
  processDeployIo,
  waitForDeployment,
  withActorOptions,
  withDeploymentTasks,
  type ActorOptions,
  type DeployCommandIo,
} from '../deploy-options';
import { withStoreOptions, type StoreOptions } from '../store-options';

interface AbortOptions extends StoreOptions, ActorOptions {
  wait?: boolean;
}

/**
 * `kiln abort DEPLOYMENT [--reason R] [--wait]`: asks a deployment to stop safely. Its next step
 * (now: its waits are woken) stops it and restores the previous release of the environment in
 * progress; environments already done keep the release. With `--wait` it exits 0 once the
 * deployment has stopped (`aborted` or `rolled-back`), 1 if it ended otherwise (`failed`: the
 * restore failed; `succeeded`: the abort came too late). Audited with the actor.
 */
export function registerAbort(program: Command, io: DeployCommandIo = processDeployIo): void {
  withActorOptions(
    withStoreOptions(
      program
        .command('abort')
        .description('Stop a deployment safely: the environment in progress gets its previous release back.')
        .argument('<deployment>', 'deployment id (kiln status shows it)')
        .option('--wait', 'follow it until it has stopped; exit 1 unless it ends aborted or rolled back'),
    ),
  ).action(async (deploymentId: string, options: AbortOptions) => {
    await withDeploymentTasks(options, io, deploymentId, async ({ store, tasks, actor, reason }) => {
      const { abortDeployment } = await import('../../shared/usecases/deployments/abort');
      const { outcome } = await namingArguments({ deploymentId: 'DEPLOYMENT' }, () =>
        abortDeployment(
          { deploymentId, actor, ...(reason === undefined ? {} : { reason }) },
          { store, tasks, now: io.now },
        ),
      );
      const after = await store.getDeployment(deploymentId);
      if (outcome === 'requested')
        io.stdout(`abort requested: deployment ${deploymentId} stops at its next step\n`);
      else if (outcome === 'already-requested') {
        const by = after?.abort === undefined ? '' : ` by ${after.abort.actor} at ${after.abort.at}`;
        io.stdout(`abort already requested${by}: deployment ${deploymentId}'s waits woken again\n`);
      } else
        io.stdout(`deployment ${deploymentId} is ${after?.status ?? 'final'} already: nothing to abort\n`);
      if (options.wait === true) {
        exitAfterFollowing(
          await waitForDeployment(deploymentId, store, options, io, (d) =>
            ['aborted', 'rolled-back'].includes(d.status),
          ),
        );
      }
    });
  });
}
