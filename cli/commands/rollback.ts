import type { Command } from 'commander';
import {
  actorOf,
  exitAfterFollowing,
  machineResource,
  namingArguments,
  openStepFunctions,
  processDeployIo,
  reasonOf,
  stateMachineOf,
  waitForDeployment,
  withActorOptions,
  withMachineOptions,
  type ActorOptions,
  type DeployCommandIo,
  type MachineOptions,
} from '../deploy-options';
import { runReported, withStore } from '../store-options';

interface RollbackOptions extends MachineOptions, ActorOptions {
  to?: string;
  wait?: boolean;
}

/**
 * `kiln rollback SERVICE ENV [--to VERSION] [--reason R] [--wait]`: restores a release the
 * environment ran before, exactly as its history records it (launch template version, capacity,
 * group): the previous one, or `--to` one of the history's. Audited with the actor.
 */
export function registerRollback(program: Command, io: DeployCommandIo = processDeployIo): void {
  withActorOptions(
    withMachineOptions(
      program
        .command('rollback')
        .description("Restore an environment's previous release (or --to one of its history) exactly.")
        .argument('<service>', 'service name')
        .argument('<env>', 'environment')
        .option('--to <version>', "a release from the environment's history (default: the previous one)")
        .option('--wait', 'follow the rollback until it ends; exit 1 unless it succeeds'),
    ),
  ).action(async (service: string, environment: string, options: RollbackOptions) => {
    await runReported(io, async () => {
      const actor = actorOf(options, io.env);
      const reason = reasonOf(options);
      const machine = stateMachineOf(options, io.env);
      await withStore(options, io, async (store) => {
        const sfn = await openStepFunctions(options, io, machine.region, machineResource(machine.arn));
        try {
          const { startDeployment } = await import('../../shared/usecases/deployments/start');
          const { deployment } = await namingArguments(
            { service: 'SERVICE', environments: 'ENV', version: '--to' },
            () =>
              startDeployment(
                {
                  service,
                  ...(options.to === undefined ? {} : { version: options.to }),
                  environments: [environment],
                  mode: 'rollback',
                  trigger: 'cli',
                  actor,
                  ...(reason === undefined ? {} : { reason }),
                },
                { store, executions: sfn.executions(machine.arn), ids: io.ids, now: io.now },
              ),
          );
          io.stdout(
            `rollback ${deployment.id} started: ${service} ${environment} → ${deployment.releaseVersion}\n`,
          );
          if (options.wait === true)
            exitAfterFollowing(await waitForDeployment(deployment.id, store, options, io));
          else io.stdout(`follow it with \`kiln status ${service}\`\n`);
        } finally {
          sfn.close();
        }
      });
    });
  });
}
