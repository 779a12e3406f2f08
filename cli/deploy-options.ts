/**
 * What the deployment commands (`deploy`, `rollback`, `approve`, `abort`, `status`) share beyond
 * the store commands' options: the Step Functions and Auto Scaling clients (made only when a
 * command needs them, each call's failure explained for its own service), the state machine
 * ARN, `--actor`, `--reason`, and how a use case's refusal names the command's own argument.
 * Tests pass their own `DeployCommandIo`.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import type { DeployExecutions, SfnTasks } from '../shared/aws/sfn';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import type { IdSource } from '../shared/runtime/ids';
import { randomIds } from '../shared/runtime/ids';
import type { GroupDescription } from '../shared/usecases/rollout/deps';
import type { KilnStore } from '../shared/store';
import type { Deployment } from '../shared/store/schemas';
import type { StartDeploymentInput } from '../shared/usecases/deployments/start';
import { DeploymentRequestError } from '../shared/usecases/deployments/errors';
import {
  countByVersion,
  followDeployment,
  groupsOf,
  type ExecutionState,
  type FollowResult,
  type VersionCount,
} from './follow';
import { AUTO_SCALING, explainingFailures, STEP_FUNCTIONS, type AwsResource } from './environment-errors';
import {
  clientSettings,
  CliUsageError,
  CONNECT_TIMEOUT_MS,
  defaultActor,
  processIo,
  runReported,
  withStore,
  withStoreOptions,
  type ClientSettings,
  type StoreCommandIo,
  type StoreOptions,
} from './store-options';

/** Reads one Auto Scaling group (`--wait`'s instance counts). */
export interface GroupReader {
  describeGroup(name: string): Promise<GroupDescription | undefined>;
  close(): void;
}

export interface DeployCommandIo extends StoreCommandIo {
  /** Makes the Step Functions client for `settings` (its region: the state machine's). */
  createSfn: (settings: ClientSettings) => Promise<SFNClient>;
  /** Makes a reader of the Auto Scaling groups in one region. */
  createGroups: (settings: ClientSettings & { region: string }) => Promise<GroupReader>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  ids: IdSource;
  /** Whether stdout is a terminal: `--wait` redraws one line there, else prints one per change. */
  isTTY: boolean;
  /** The terminal's width, when known (a redrawn line must not wrap). */
  columns?: number;
}

/**
 * The clients, configured like the store commands' (`--region`, `--profile`, the SDK's chain, a
 * connect timeout) and redirected by AWS_ENDPOINT_URL_SFN / AWS_ENDPOINT_URL_AUTO_SCALING /
 * AWS_ENDPOINT_URL: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 * Loaded only when the command runs, so `kiln --help` and the other commands start fast.
 */
export async function createSfnClient(settings: ClientSettings): Promise<SFNClient> {
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  return new SFNClient({ ...settings, requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS } });
}

export async function createGroupReader(settings: ClientSettings & { region: string }): Promise<GroupReader> {
  const [{ AutoScalingClient }, { AutoScalingGroups }] = await Promise.all([
    import('@aws-sdk/client-auto-scaling'),
    import('../shared/aws/autoscaling'),
  ]);
  const client = new AutoScalingClient({
    ...settings,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
  });
  const groups = new AutoScalingGroups(client);
  return { describeGroup: (name) => groups.describeGroup(name), close: () => client.destroy() };
}

export const processDeployIo: DeployCommandIo = {
  ...processIo,
  createSfn: createSfnClient,
  createGroups: createGroupReader,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ids: randomIds,
  get isTTY() {
    return process.stdout.isTTY === true;
  },
  get columns() {
    return process.stdout.columns;
  },
};

export interface ActorOptions {
  actor?: string;
  reason?: string;
}

/** `--actor` and `--reason`: who acts and why, for the audit log. */
export function withActorOptions(command: Command): Command {
  return command
    .option('--actor <name>', 'who is acting, for the audit log (default: cli:$USER)')
    .option('--reason <text>', 'why, for the audit log and the deployment record');
}

export function actorOf(options: ActorOptions, env: NodeJS.ProcessEnv): string {
  if (options.actor !== undefined && options.actor.trim() === '')
    throw new CliUsageError('--actor must not be empty');
  return options.actor ?? defaultActor(env);
}

/** `--reason` as given; an empty one is refused rather than stored as a reason that says nothing. */
export function reasonOf(options: ActorOptions): string | undefined {
  if (options.reason !== undefined && options.reason.trim() === '')
    throw new CliUsageError('--reason must not be empty');
  return options.reason;
}

export interface MachineOptions extends StoreOptions {
  stateMachineArn?: string;
}

/** Adds the store options and `--state-machine-arn` (falls back to KILN_DEPLOY_STATE_MACHINE_ARN). */
export function withMachineOptions(command: Command): Command {
  return withStoreOptions(command).option(
    '--state-machine-arn <arn>',
    'the deploy state machine (default: $KILN_DEPLOY_STATE_MACHINE_ARN, the stack output KilnDeployStateMachineArn)',
  );
}

const MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[^:\s]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:execution:[^:\s]+:[^:\s]+$/;
const MACHINE_NAMED_BY =
  '--state-machine-arn or KILN_DEPLOY_STATE_MACHINE_ARN (the stack output KilnDeployStateMachineArn)';

/** The state machine ARN from the option or the environment, checked; its region. */
export function stateMachineOf(
  options: MachineOptions,
  env: NodeJS.ProcessEnv,
): { arn: string; region: string } {
  const arn = (options.stateMachineArn ?? env.KILN_DEPLOY_STATE_MACHINE_ARN)?.trim();
  if (arn === undefined || arn === '') {
    throw new CliUsageError(`no deploy state machine: pass ${MACHINE_NAMED_BY}`);
  }
  const region = MACHINE_ARN.exec(arn)?.[1];
  if (region === undefined) {
    throw new CliUsageError(
      `--state-machine-arn must be a state machine ARN such as arn:aws:states:REGION:ACCOUNT:stateMachine:NAME, got "${arn}"`,
    );
  }
  return { arn, region };
}

/** The region an execution ARN names, if it is one. */
export function regionOfExecution(executionArn: string | undefined): string | undefined {
  return executionArn === undefined ? undefined : EXECUTION_ARN.exec(executionArn)?.[1];
}

/**
 * Step Functions on the command's settings, in `region` (a state machine's or an execution's:
 * requests must go where it lives). Each call's environment failure is explained for Step
 * Functions and `resource`; `close` destroys the client.
 */
export async function openStepFunctions(
  options: ClientSettings,
  io: DeployCommandIo,
  region: string | undefined,
  resource: Omit<AwsResource, 'service'>,
) {
  const settings = { ...clientSettings(options), ...(region === undefined ? {} : { region }) };
  const client = await io.createSfn(settings);
  const { DeployExecutions, SfnTasks } = await import('../shared/aws/sfn');
  const using = {
    env: io.env,
    ...settings,
    resource: { service: STEP_FUNCTIONS, ...resource },
    resolvedRegion: () => client.config.region().catch(() => undefined),
  };
  const explained =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A) =>
      explainingFailures(using, () => call(...args));
  return {
    client,
    executions: (arn: string): Pick<DeployExecutions, 'executionArn' | 'start'> => {
      const executions = new DeployExecutions(client, arn);
      return {
        executionArn: (name) => executions.executionArn(name),
        start: explained((name, input) => executions.start(name, input)),
      };
    },
    tasks: ((): Pick<SfnTasks, 'succeed'> => {
      const tasks = new SfnTasks(client);
      return { succeed: explained((token: string, output: unknown) => tasks.succeed(token, output)) };
    })(),
    close: () => client.destroy(),
  };
}

export function machineResource(arn: string): Omit<AwsResource, 'service'> {
  return {
    kind: 'state machine',
    name: arn,
    namedBy: MACHINE_NAMED_BY,
    access: 'start executions of it (states:StartExecution)',
  };
}

export function taskResource(deploymentId: string): Omit<AwsResource, 'service'> {
  return {
    kind: 'execution of deployment',
    name: deploymentId,
    namedBy: 'the deployment',
    access: 'answer its waiting tasks (states:SendTaskSuccess)',
  };
}

/** Auto Scaling in `region`, each call's environment failure explained for the group it read. */
export async function openGroups(
  options: ClientSettings,
  io: DeployCommandIo,
  region: string,
): Promise<GroupReader> {
  const settings = { ...clientSettings(options), region };
  const reader = await io.createGroups(settings);
  return {
    describeGroup: (name) =>
      explainingFailures(
        {
          env: io.env,
          ...settings,
          resource: {
            service: AUTO_SCALING,
            kind: 'group',
            name,
            namedBy: "the service's manifest",
            access: 'describe it (autoscaling:DescribeAutoScalingGroups)',
          },
          resolvedRegion: async () => region,
        },
        () => reader.describeGroup(name),
      ),
    close: () => reader.close(),
  };
}

/**
 * Runs a use case; its refusal becomes a usage error naming this command's argument for the
 * field at fault (`--env`, `ENV`, `--to`, `DEPLOYMENT`, …).
 */
export async function namingArguments<T>(
  names: Partial<Record<DeploymentRequestError['field'], string>>,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof DeploymentRequestError)) throw error;
    const name = names[error.field];
    throw new CliUsageError(name === undefined ? error.message : `${name}: ${error.message}`, {
      cause: error,
    });
  }
}

/**
 * `--wait` on the store: follows `deploymentId` (cli/follow.ts), reading its environment's
 * groups through Auto Scaling in the environment's region and its execution through Step
 * Functions in the execution's. Neither is needed to follow the record: when one cannot be read
 * the line says why (instances) or the check is skipped (execution), and following goes on.
 */
export async function waitForDeployment(
  deploymentId: string,
  store: KilnStore<ServiceManifest>,
  options: ClientSettings,
  io: DeployCommandIo,
  wanted?: (deployment: Deployment) => boolean,
): Promise<FollowResult> {
  const readers = new Map<string, Promise<GroupReader>>();
  const sfnClients = new Map<string, Promise<SFNClient>>();
  let manifest: ServiceManifest | undefined;
  const instances = async (deployment: Deployment): Promise<VersionCount[] | string | undefined> => {
    manifest ??= (await store.getService(deployment.service))?.manifest;
    if (manifest === undefined) return `${deployment.service} has no manifest`;
    const environment = deployment.rollout?.environment ?? deployment.environments[0] ?? '';
    const state = await store.getEnvironmentState(deployment.service, environment);
    const where = groupsOf(deployment, manifest, state);
    if (where === undefined) return undefined;
    try {
      let reader = readers.get(where.region);
      if (reader === undefined) {
        reader = openGroups(options, io, where.region);
        readers.set(where.region, reader);
      }
      const groups = await reader;
      const found = await Promise.all(where.groups.map((name) => groups.describeGroup(name)));
      // Blue/green's green group may not be there yet; none at all is worth saying.
      if (found.every((group) => group === undefined))
        return `no group ${where.groups.join(' or ')} in ${where.region}`;
      return countByVersion(found);
    } catch (error) {
      return (error instanceof Error ? error.message : String(error)).split('\n')[0];
    }
  };
  const execution = async (deployment: Deployment): Promise<ExecutionState | undefined> => {
    const region = regionOfExecution(deployment.executionArn);
    if (deployment.executionArn === undefined || region === undefined) return undefined;
    try {
      let client = sfnClients.get(region);
      if (client === undefined) {
        client = io.createSfn({ ...clientSettings(options), region });
        sfnClients.set(region, client);
      }
      const { DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
      const out = await (
        await client
      ).send(new DescribeExecutionCommand({ executionArn: deployment.executionArn }));
      return {
        status: out.status ?? 'RUNNING',
        ...(out.error === undefined ? {} : { error: out.error }),
        ...(out.cause === undefined ? {} : { cause: out.cause }),
      };
    } catch {
      // Not allowed to ask, or not reachable: the record is what --wait follows; skip the check.
      return undefined;
    }
  };
  try {
    return await followDeployment(
      deploymentId,
      {
        read: () => store.getDeployment(deploymentId),
        instances,
        execution,
        now: io.now,
        sleep: io.sleep,
        write: io.stdout,
        tty: io.isTTY,
        ...(io.columns === undefined ? {} : { columns: io.columns }),
      },
      wanted,
    );
  } finally {
    for (const reader of readers.values()) await reader.then((r) => r.close()).catch(() => undefined);
    for (const client of sfnClients.values()) await client.then((c) => c.destroy()).catch(() => undefined);
  }
}

/** The exit code after following: 0 when it ended as wanted, else 1 (the summary line says how). */
export function exitAfterFollowing(result: FollowResult): void {
  if (!result.ok) process.exitCode = 1;
}

/**
 * What `kiln deploy` and `kiln rollback` share: the actor, reason and state machine from the
 * options, `startDeployment` with its refusals named as the command's arguments, one line saying
 * what started, then `--wait` follows it (or the line says how to follow it).
 */
export async function startFromCli(
  options: MachineOptions & ActorOptions & { wait?: boolean },
  io: DeployCommandIo,
  request: Pick<StartDeploymentInput, 'service' | 'version' | 'environments' | 'mode'>,
  argumentNames: Partial<Record<DeploymentRequestError['field'], string>>,
  startedLine: (deployment: Deployment) => string,
): Promise<void> {
  await runReported(io, async () => {
    const actor = actorOf(options, io.env);
    const reason = reasonOf(options);
    const machine = stateMachineOf(options, io.env);
    await withStore(options, io, async (store) => {
      const sfn = await openStepFunctions(options, io, machine.region, machineResource(machine.arn));
      try {
        const { startDeployment } = await import('../shared/usecases/deployments/start');
        const { deployment } = await namingArguments(argumentNames, () =>
          startDeployment(
            { ...request, trigger: 'cli', actor, ...(reason === undefined ? {} : { reason }) },
            { store, executions: sfn.executions(machine.arn), ids: io.ids, now: io.now },
          ),
        );
        io.stdout(`${startedLine(deployment)}\n`);
        if (options.wait === true)
          exitAfterFollowing(await waitForDeployment(deployment.id, store, options, io));
        else io.stdout(`follow it with \`kiln status ${request.service}\`\n`);
      } finally {
        sfn.close();
      }
    });
  });
}

/**
 * What `kiln approve` and `kiln abort` share: the actor and reason from the options, the store,
 * and Step Functions in the Region of the deployment's execution (its task tokens are answered
 * there), closed whatever `act` does.
 */
export async function withDeploymentTasks(
  options: StoreOptions & ActorOptions,
  io: DeployCommandIo,
  deploymentId: string,
  act: (session: {
    store: KilnStore<ServiceManifest>;
    tasks: Pick<SfnTasks, 'succeed'>;
    actor: string;
    reason: string | undefined;
  }) => Promise<void>,
): Promise<void> {
  await runReported(io, async () => {
    const actor = actorOf(options, io.env);
    const reason = reasonOf(options);
    await withStore(options, io, async (store) => {
      const deployment = await store.getDeployment(deploymentId);
      const region = regionOfExecution(deployment?.executionArn);
      const sfn = await openStepFunctions(options, io, region, taskResource(deploymentId));
      try {
        await act({ store, tasks: sfn.tasks, actor, reason });
      } finally {
        sfn.close();
      }
    });
  });
}
