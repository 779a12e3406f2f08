/**
 * Making green ready: `create-green`, `check-green`, `attach-green` (statemachines/deploy.asl.json).
 *
 * Course of create-green:
 * 1. Settle green's name (shared/domain/blue-green.ts greenGroupName) unless prepare-environment
 *    already did.
 * 2. Suspend the switch's processes on blue (noting what blue had suspended itself).
 * 3. Make green as a clone of blue, or keep/adopt/recreate the group found under its name
 *    (existingGreen): lifecycle hooks created with the group, no target groups, blue's capacity
 *    (rollback mode: the recorded one).
 * 4. Suspend the same processes on green and copy blue's scaling policies onto it.
 * Every step of it is safe to run again: a retried create finds what the first attempt made.
 */
import { SWITCH_PROCESSES, existingGreen, greenTags, groupReadiness } from '../../../domain/blue-green';
import type { CheckOutcome, EnvironmentRun, GroupDescription, RolloutDeps, RolloutState } from '../deps';
import { abortRequest, recordProgress, renewLease } from '../progress';
import { type BlueGreenContext, contextOf } from './context';
import { copyPolicies, deleteKilnGroup } from './policies';

export async function createGreen(state: RolloutState, deps: RolloutDeps): Promise<EnvironmentRun> {
  const context = await contextOf(state, deps);
  const { run, asg, blue, green } = context;
  const blueGroup = await describeBlue(context);
  // What blue had suspended before Kiln first touched it (a retry sees Kiln's own suspension).
  const blueSuspended =
    run.blueSuspended ?? SWITCH_PROCESSES.filter((process) => blueGroup.suspendedProcesses.includes(process));
  await asg.suspendProcesses(blue, SWITCH_PROCESSES);
  const capacity = context.mode === 'rollback' ? run.target.capacity : blueGroup.capacity;
  const next: EnvironmentRun = {
    ...run,
    target: { ...run.target, group: green, capacity },
    greenCreatedAt: run.greenCreatedAt ?? deps.now(),
    blueSuspended,
  };
  await recordProgress(state, deps, {
    phase: 'creating-green',
    detail: `${context.mode === 'rollback' ? 'restoring' : 'creating'} ${green} (${capacity.desired} instances of ${run.target.release})`,
    fromGroup: blue,
    toGroup: green,
  });
  await ensureGreen({ ...context, run: next, green }, state, deps, { blue: blueGroup, finishIfOurs: true });
  return next;
}

/** `check-green`: green InService at its capacity, or failed after the health gate's timeout. */
export async function checkGreen(state: RolloutState, deps: RolloutDeps): Promise<CheckOutcome> {
  const context = await contextOf(state, deps);
  const { run, green } = context;
  const abort = await abortRequest(state, deps);
  if (abort)
    return {
      outcome: 'abort',
      reason: `aborted by ${abort.actor}${abort.reason ? `: ${abort.reason}` : ''}`,
    };
  await renewLease(state, deps);
  const group = await ensureGreen(context, state, deps);
  const timeoutSeconds = context.strategy.healthGate.timeoutSeconds;
  const createdAt = run.greenCreatedAt ?? run.startedAt;
  const overdue = deps.now() - createdAt >= timeoutSeconds * 1000;
  if (group === undefined) {
    if (overdue) {
      return {
        outcome: 'failed',
        reason: `green group ${green} could not be created within ${timeoutSeconds} s`,
      };
    }
    await recordProgress(state, deps, {
      phase: 'creating-green',
      detail: `waiting to create ${green}`,
      fromGroup: context.blue,
      toGroup: green,
    });
    return { outcome: 'waiting' };
  }
  const readiness = groupReadiness(group);
  if (readiness.ready) {
    await recordProgress(state, deps, {
      phase: 'green-ready',
      detail: `${readiness.inService} of ${readiness.desired} green instances in service`,
      fromGroup: context.blue,
      toGroup: green,
    });
    return { outcome: 'ready' };
  }
  if (overdue) {
    return {
      outcome: 'failed',
      reason: `green group ${green}: ${readiness.inService} of ${readiness.desired} instances in service after ${timeoutSeconds} s (${readiness.launched} launched, ${readiness.pending} pending)`,
    };
  }
  await recordProgress(state, deps, {
    phase: 'green-launching',
    detail: `${readiness.inService} of ${readiness.desired} green instances in service, ${readiness.pending} pending`,
    fromGroup: context.blue,
    toGroup: green,
  });
  return { outcome: 'waiting' };
}

/** `attach-green`: green joins every target group beside blue (ELB sends traffic only to healthy targets). */
export async function attachGreen(state: RolloutState, deps: RolloutDeps): Promise<EnvironmentRun> {
  const context = await contextOf(state, deps);
  const { run, asg, green } = context;
  const group = await asg.describeGroup(green);
  if (group === undefined) throw new Error(`green group ${green} does not exist`);
  const missing = run.targetGroupArns.filter((arn) => !group.targetGroupArns.includes(arn));
  if (missing.length > 0) await asg.attachTargetGroups(green, missing);
  await recordProgress(state, deps, {
    phase: 'health-gate',
    detail: `${green} attached to ${run.targetGroupArns.length} target group(s) beside ${context.blue}`,
    fromGroup: context.blue,
    toGroup: green,
  });
  return { ...run, attachedAt: run.attachedAt ?? deps.now() };
}

async function describeBlue(context: BlueGreenContext): Promise<GroupDescription> {
  const blue = await context.asg.describeGroup(context.blue);
  if (blue === undefined) throw new Error(`blue group ${context.blue} does not exist`);
  return blue;
}

/**
 * Green as it should be, made or fixed up from what exists under its name: the group, or
 * undefined while a stale one is being deleted (it is created on a later check once gone).
 */
async function ensureGreen(
  context: BlueGreenContext,
  state: RolloutState,
  deps: RolloutDeps,
  options: { blue?: GroupDescription; finishIfOurs?: boolean } = {},
): Promise<GroupDescription | undefined> {
  const { asg, green, run } = context;
  const existing = await asg.describeGroup(green);
  const decision = existingGreen(existing, { deploymentId: state.deploymentId, mode: context.mode });
  switch (decision) {
    case 'foreign':
      throw new Error(
        `group ${green} exists and is not Kiln's (no kiln:managed=true tag): Kiln will not use or delete it`,
      );
    case 'wait-deleted':
      return undefined;
    case 'recreate':
      // A kept or abandoned group of this release from an earlier deployment: green must be a
      // clone of blue as it is now, so the old one goes and a new one is made once it is gone.
      await deleteKilnGroup(asg, { name: green, region: run.region }, deps);
      return undefined;
    case 'adopt': {
      // `kiln rollback`: the kept group of the release, at zero, already on its recorded version.
      await asg.updateGroup(green, {
        launchTemplate: run.target.launchTemplate,
        capacity: run.target.capacity,
      });
      await asg.tagGroup(green, tagsOf(context, state, existing?.tags ?? {}));
      await asg.suspendProcesses(green, SWITCH_PROCESSES);
      return asg.describeGroup(green);
    }
    case 'create': {
      const blue = options.blue ?? (await describeBlue(context));
      await asg.createGroup({
        name: green,
        launchTemplate: run.target.launchTemplate,
        capacity: run.target.capacity,
        subnets: blue.subnets,
        healthCheckType: blue.healthCheckType,
        healthCheckGracePeriod: blue.healthCheckGracePeriod,
        ...(blue.defaultInstanceWarmup !== undefined
          ? { defaultInstanceWarmup: blue.defaultInstanceWarmup }
          : {}),
        tags: tagsOf(context, state, blue.tags),
        lifecycleHooks: await asg.lifecycleHooks(context.blue),
        targetGroupArns: [],
      });
      await finishGreen(context, deps);
      return asg.describeGroup(green);
    }
    case 'ours':
      // create-green run again (a retry after a crash): what followed the create may not be done.
      if (options.finishIfOurs === true) await finishGreen(context, deps);
      return existing;
  }
}

/** Suspends the switch's processes on green and copies blue's scaling policies (policies.ts). */
async function finishGreen(context: BlueGreenContext, deps: RolloutDeps): Promise<void> {
  const { asg, green, blue, run } = context;
  await asg.suspendProcesses(green, SWITCH_PROCESSES);
  await copyPolicies(asg, { blue, green, region: run.region }, deps);
}

function tagsOf(context: BlueGreenContext, state: RolloutState, blueTags: Record<string, string>) {
  return greenTags({
    blueTags,
    service: state.service,
    environment: context.run.name,
    release: context.run.target.release,
    deploymentId: state.deploymentId,
  });
}
