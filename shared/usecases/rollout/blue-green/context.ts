/**
 * What every blue/green step reads first: the environment's manifest settings, the two groups'
 * names, and the Region's ports. Also the one place that resumes the switch's processes.
 */
import { SWITCH_PROCESSES, greenGroupName } from '../../../domain/blue-green';
import type { Environment } from '../../../domain/manifest/schema';
import type { AutoScalingPort, EnvironmentRun, RolloutDeps, RolloutState } from '../deps';
import { runOf } from '../progress';

type BlueGreenStrategy = Extract<Environment['strategy'], { type: 'blue-green' }>;

export interface BlueGreenContext {
  run: EnvironmentRun;
  environment: Environment;
  strategy: BlueGreenStrategy;
  /** The group serving before this rollout (the before record's). */
  blue: string;
  /**
   * The group the rollout moves to: `$.env.target.group` when prepare-environment named one other
   * than blue, else greenGroupName (create-green then writes it into `$.env`). Computed the same
   * way by every step, so a rollback after a create-green that crashed before returning still finds it.
   */
  green: string;
  mode: 'deploy' | 'rollback';
  asg: AutoScalingPort;
}

/** The manifest the deployment runs with (its version is fixed in the execution input). */
export async function contextOf(state: RolloutState, deps: RolloutDeps): Promise<BlueGreenContext> {
  const run = runOf(state);
  const record = await deps.store.getService(state.service, { version: state.manifestVersion });
  if (!record) throw new Error(`manifest ${state.service} v${state.manifestVersion} does not exist`);
  const environment = record.manifest.environments.find((env) => env.name === run.name);
  if (!environment) {
    throw new Error(`manifest ${state.service} v${state.manifestVersion} has no environment ${run.name}`);
  }
  if (environment.strategy.type !== 'blue-green') {
    throw new Error(`environment ${run.name} rolls out ${environment.strategy.type}, not blue-green`);
  }
  return {
    run,
    environment,
    strategy: environment.strategy,
    blue: run.before.group,
    green:
      run.target.group !== run.before.group
        ? run.target.group
        : greenGroupName({
            baseGroup: environment.autoScalingGroup,
            release: run.target.release,
            blueGroup: run.before.group,
          }),
    mode: state.mode ?? state.rollout?.mode ?? 'deploy',
    asg: deps.autoScaling(run.region),
  };
}

/** `Delete in progress` (DescribeAutoScalingGroups' Status, set only while a group is deleted). */
export const isDeleting = (group: { status?: string | undefined }): boolean =>
  group.status !== undefined && /delete/i.test(group.status);

/**
 * The groups whose switch processes Kiln resumes, for the one that serves at the end (`blue` after
 * a rollback, `green` after a retire) or both (a step that failed: the rollback that follows parks
 * what it must). Blue keeps what it had suspended itself.
 *
 * A group parked at zero (retired blue, or a kept group a rollback put back) stays suspended on
 * purpose: a scheduled action or a scaling policy whose alarm watches a shared metric (the load
 * balancer's) would otherwise scale a group that no target group routes to. Reviving it (kiln
 * rollback, or the rollback of a switch) suspends and then resumes them like any green.
 */
export function switchGroups(
  context: Pick<BlueGreenContext, 'run' | 'blue' | 'green'>,
  serving: 'blue' | 'green' | 'both' = 'both',
) {
  const blue = { name: context.blue, keepSuspended: context.run.blueSuspended };
  const green = { name: context.green };
  if (context.green === context.blue || serving === 'blue') return [blue];
  return serving === 'green' ? [green] : [blue, green];
}

/**
 * Resumes the switch's processes on every named group that still exists. Each group is tried even
 * when another fails (the first failure is thrown afterwards, so the step retries): processes left
 * suspended would silently stop a group from scaling on its alarms.
 */
export async function resumeSwitchProcesses(
  asg: AutoScalingPort,
  groups: ReadonlyArray<{ name: string; keepSuspended?: readonly string[] | undefined }>,
): Promise<void> {
  let failure: unknown;
  for (const { name, keepSuspended = [] } of groups) {
    try {
      const group = await asg.describeGroup(name);
      if (group === undefined || isDeleting(group)) continue;
      const resume = SWITCH_PROCESSES.filter(
        (process) => group.suspendedProcesses.includes(process) && !keepSuspended.includes(process),
      );
      if (resume.length > 0) await asg.resumeProcesses(name, resume);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}
