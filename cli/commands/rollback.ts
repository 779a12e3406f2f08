import type { Command } from 'commander';
import {
  processDeployIo,
  startFromCli,
  withActorOptions,
  withMachineOptions,
  type ActorOptions,
  type DeployCommandIo,
  type MachineOptions,
} from '../deploy-options';

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
    await startFromCli(
      options,
      io,
      {
        service,
        ...(options.to === undefined ? {} : { version: options.to }),
        environments: [environment],
        mode: 'rollback',
      },
      { service: 'SERVICE', environments: 'ENV', version: '--to' },
      (deployment) =>
        `rollback ${deployment.id} started: ${service} ${environment} → ${deployment.releaseVersion}`,
    );
  });
}
