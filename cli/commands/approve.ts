import type { Command } from 'commander';
import {
  namingArguments,
  processDeployIo,
  withActorOptions,
  withDeploymentTasks,
  type ActorOptions,
  type DeployCommandIo,
} from '../deploy-options';
import { withStoreOptions, type StoreOptions } from '../store-options';

interface ApproveOptions extends StoreOptions, ActorOptions {
  refuse?: boolean;
}

/**
 * `kiln approve DEPLOYMENT [--refuse] [--reason R]`: answers the deployment's approval wait
 * before its next environment. Approving continues the rollout; refusing ends it `aborted`, the
 * environments already done keeping the release. Audited with the actor (`--actor`, default
 * cli:$USER). The manifest's `access.approve` (Slack ids) is checked by chat; from the CLI, IAM
 * decides who may answer (states:SendTaskSuccess and the table).
 */
export function registerApprove(program: Command, io: DeployCommandIo = processDeployIo): void {
  withActorOptions(
    withStoreOptions(
      program
        .command('approve')
        .description('Approve (or --refuse) the next environment of a deployment waiting for approval.')
        .argument('<deployment>', 'deployment id (kiln status shows it)')
        .option('--refuse', 'refuse: the deployment ends aborted before the next environment'),
    ),
  ).action(async (deploymentId: string, options: ApproveOptions) => {
    await withDeploymentTasks(options, io, deploymentId, async ({ store, tasks, actor, reason }) => {
      const { approveDeployment } = await import('../../shared/usecases/deployments/approve');
      const { outcome } = await namingArguments({ deploymentId: 'DEPLOYMENT' }, () =>
        approveDeployment(
          {
            deploymentId,
            actor,
            approved: options.refuse !== true,
            ...(reason === undefined ? {} : { reason }),
          },
          { store, tasks },
        ),
      );
      io.stdout(
        outcome === 'approved'
          ? `approved deployment ${deploymentId}: the rollout goes on\n`
          : `refused deployment ${deploymentId}: it ends aborted\n`,
      );
    });
  });
}
