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
    await runReported(io, async () => {
      const actor = actorOf(options, io.env);
      const reason = reasonOf(options);
      const machine = stateMachineOf(options, io.env);
      await withStore(options, io, async (store) => {
        const sfn = await openStepFunctions(options, io, machine.region, machineResource(machine.arn));
        try {
          const { startDeployment } = await import('../../shared/usecases/deployments/start');
          const { deployment } = await namingArguments(
            { service: 'SERVICE', version: 'VERSION', environments: '--env' },
            () =>
              startDeployment(
                {
                  service,
                  version,
                  environments: options.env ?? [],
                  mode: 'deploy',
                  trigger: 'cli',
                  actor,
                  ...(reason === undefined ? {} : { reason }),
                },
                { store, executions: sfn.executions(machine.arn), ids: io.ids, now: io.now },
              ),
          );
          io.stdout(
            `deployment ${deployment.id} started: ${service} ${deployment.releaseVersion} → ${deployment.environments.join(', ')}\n`,
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
