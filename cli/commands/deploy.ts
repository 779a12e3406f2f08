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

interface DeployOptions extends MachineOptions, ActorOptions {
  env?: string[];
  wait?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * `kiln deploy SERVICE VERSION --env ENV [--env ENV…] [--reason R] [--wait]`: rolls a release Kiln
 * has baked through the environments named, in the manifest's order (the bake is skipped). The
 * deployment is audited with the actor (`--actor`, default cli:$USER); `--wait` follows it live.
 */
export function registerDeploy(program: Command, io: DeployCommandIo = processDeployIo): void {
  withActorOptions(
    withMachineOptions(
      program
        .command('deploy')
        .description('Roll a baked release through environments (in the manifest order).')
        .argument('<service>', 'service name')
        .argument('<version>', 'release version (one Kiln has baked)')
        .option('--env <environment>', 'an environment to roll through (repeat for more)', collect)
        .option('--wait', 'follow the deployment until it ends; exit 1 unless it succeeds'),
    ),
  ).action(async (service: string, version: string, options: DeployOptions) => {
    await startFromCli(
      options,
      io,
      { service, version, environments: options.env ?? [], mode: 'deploy' },
      { service: 'SERVICE', version: 'VERSION', environments: '--env' },
      (deployment) =>
        `deployment ${deployment.id} started: ${service} ${deployment.releaseVersion} → ${deployment.environments.join(', ')}`,
    );
  });
}
