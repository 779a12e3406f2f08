/**
 * The blue/green half of `rollback-environment` and `check-rollback` (issue 10, item 6).
 *
 * It reads AWS rather than trusting `$.env` alone: a step may have failed halfway (blue detached
 * from one target group of two), so what is undone is what AWS shows.
 *
 * - `nothing`: green was never made and blue never left a target group; only blue's processes
 *   are resumed (the deployment then ends `failed`: nothing was rolled out).
 * - `discard-green` (before the switch: blue serves in every target group): green leaves the
 *   target groups, drains, and is deleted (ForceDelete) — or, for `kiln rollback`, whose green is
 *   a kept group, scaled back to zero and kept; done when it is gone (or at zero).
 * - `restore-blue` (after the switch, or partway through it): blue back to its recorded capacity,
 *   its instances InService, reattached, every blue target healthy; only then green leaves the
 *   target groups (no unhealthy cut-over, no cold boot: blue's launch template and instances'
 *   image are those recorded), and green is discarded as above.
 * Every check moves it one phase on from what AWS shows and is safe to repeat; the switch's
 * processes are resumed on both groups at the end (and on the `nothing` path at once).
 */
import {
  GROUP_TAGS,
  describeUnhealthy,
  groupReadiness,
  retiredTags,
  rollbackDeadline,
  unhealthyTargets,
} from '../../../domain/blue-green';
import type { CheckOutcome, EnvironmentRun, GroupDescription, RolloutDeps, RolloutState } from '../deps';
import { recordProgress, renewLease } from '../progress';
import { type BlueGreenContext, contextOf, isDeleting, resumeSwitchProcesses, switchGroups } from './context';
import { deleteKilnGroup } from './policies';
import { groupTargetHealth } from './switch';

type RollbackKind = 'nothing' | 'discard-green' | 'restore-blue';

/** `rollback-environment` for blue/green → `$.env` with `rollback` set (what it undoes, and when it started). */
export async function rollbackBlueGreen(
  state: RolloutState,
  reason: string,
  deps: RolloutDeps,
): Promise<EnvironmentRun> {
  const context = await contextOf(state, deps);
  const { run, asg, blue, green } = context;
  const blueGroup = await asg.describeGroup(blue);
  if (blueGroup === undefined) throw new Error(`blue group ${blue} does not exist: nothing to restore`);
  const greenGroup = green === blue ? undefined : await asg.describeGroup(green);
  const kind = kindOf(context, blueGroup, greenGroup);
  const startedAt = run.rollback?.startedAt ?? deps.now();
  if (kind === 'nothing') {
    await resumeSwitchProcesses(asg, switchGroups(context));
    return { ...run, target: { ...run.target, group: green }, rollback: { kind, reason, startedAt } };
  }
  const next: EnvironmentRun = {
    ...run,
    target: { ...run.target, group: green },
    rollback: {
      kind,
      reason,
      startedAt,
      deadline: run.rollback?.deadline ?? (await deadlineOf(context, kind, deps)),
    },
  };
  await recordProgress(state, deps, {
    phase: 'rolling-back',
    detail: kind === 'restore-blue' ? `restoring ${blue}` : `discarding ${green}`,
    fromGroup: green,
    toGroup: blue,
  });
  // The first move now (the rest at each check): blue's capacity, or green out of the target groups.
  await advance({ ...context, run: next }, state, deps, kind);
  return next;
}

/** `check-rollback` for blue/green → `done` | `waiting` | `failed`. */
export async function checkBlueGreenRollback(state: RolloutState, deps: RolloutDeps): Promise<CheckOutcome> {
  const context = await contextOf(state, deps);
  const kind = context.run.rollback?.kind;
  if (kind === 'nothing' || kind === undefined) return { outcome: 'done' };
  if (kind !== 'discard-green' && kind !== 'restore-blue') {
    throw new Error(`rollback ${kind} is not a blue/green rollback`);
  }
  await renewLease(state, deps);
  return advance(context, state, deps, kind);
}

function kindOf(
  context: BlueGreenContext,
  blue: GroupDescription,
  green: GroupDescription | undefined,
): RollbackKind {
  const { run } = context;
  const blueLeft = run.targetGroupArns.some((arn) => !blue.targetGroupArns.includes(arn));
  const blueRetired = blue.tags[GROUP_TAGS.role] === 'retired';
  if (run.switchedAt !== undefined || blueLeft || blueRetired) return 'restore-blue';
  return green === undefined || isDeleting(green) ? 'nothing' : 'discard-green';
}

/** One move towards the restored environment, from what AWS shows now. */
async function advance(
  context: BlueGreenContext,
  state: RolloutState,
  deps: RolloutDeps,
  kind: 'discard-green' | 'restore-blue',
): Promise<CheckOutcome> {
  const { run, asg, blue, green } = context;
  const startedAt = run.rollback?.startedAt ?? deps.now();
  // A rollback started before the deadline was recorded gets it now.
  const deadline = run.rollback?.deadline ?? (await deadlineOf(context, kind, deps));
  const overdue = deps.now() - startedAt >= deadline.seconds * 1000;
  const waiting = async (detail: string): Promise<CheckOutcome> => {
    if (overdue) {
      return {
        outcome: 'failed',
        reason: `rollback not done within ${deadline.seconds} s (${deadline.why}): ${detail}`,
      };
    }
    await recordProgress(state, deps, { phase: 'rolling-back', detail, fromGroup: green, toGroup: blue });
    return { outcome: 'waiting' };
  };

  if (kind === 'restore-blue') {
    const blueGroup = await asg.describeGroup(blue);
    if (blueGroup === undefined) return { outcome: 'failed', reason: `blue group ${blue} is gone` };
    const want = run.before.capacity;
    const have = blueGroup.capacity;
    if (have.min !== want.min || have.max !== want.max || have.desired !== want.desired) {
      await asg.updateGroup(blue, { capacity: want });
      return waiting(`scaling ${blue} back to ${want.desired} instances`);
    }
    if (blueGroup.tags[GROUP_TAGS.role] === 'retired') {
      // It serves again: a later retire must not take it for a kept group. kiln:managed goes with
      // every tag request: Kiln's role may tag only with it (serverless.yml, aws:RequestTag).
      await asg.tagGroup(blue, { [GROUP_TAGS.managed]: 'true', [GROUP_TAGS.role]: 'green' });
    }
    const readiness = groupReadiness(blueGroup);
    if (!readiness.ready) {
      return waiting(`${readiness.inService} of ${readiness.desired} ${blue} instances in service`);
    }
    const missing = run.targetGroupArns.filter((arn) => !blueGroup.targetGroupArns.includes(arn));
    if (missing.length > 0) {
      await asg.attachTargetGroups(blue, missing);
      return waiting(`${blue} reattached to ${missing.length} target group(s)`);
    }
    const seen = await groupTargetHealth(context, blue, deps);
    const unhealthy = seen === undefined ? [] : unhealthyTargets(seen.instanceIds, seen.health);
    if (unhealthy.length > 0) return waiting(`${blue} not healthy yet: ${describeUnhealthy(unhealthy)}`);
  }

  const greenGroup = green === blue ? undefined : await asg.describeGroup(green);
  if (greenGroup !== undefined && !isDeleting(greenGroup)) {
    const attached = run.targetGroupArns.filter((arn) => greenGroup.targetGroupArns.includes(arn));
    if (attached.length > 0) {
      await asg.detachTargetGroups(green, attached);
      return waiting(`${green} leaving the target groups`);
    }
    // Its targets drain (ELB's deregistration delay) before the instances go.
    const draining = await stillRegistered(context, greenGroup, deps);
    if (draining > 0) return waiting(`${draining} ${green} target(s) draining`);
    if (keepsGreen(context)) {
      if (greenGroup.capacity.desired !== 0 || greenGroup.capacity.min !== 0) {
        await asg.updateGroup(green, { capacity: { min: 0, max: greenGroup.capacity.max, desired: 0 } });
        await asg.tagGroup(
          green,
          retiredTags({
            service: state.service,
            environment: run.name,
            release: run.target.release,
            at: deps.now(),
          }),
        );
      }
    } else {
      await deleteKilnGroup(asg, { name: green, region: run.region }, deps);
      return waiting(`deleting ${green}`);
    }
  } else if (greenGroup !== undefined) {
    return waiting(`deleting ${green}`);
  }
  // Blue serves again; a kept group put back to zero stays parked (switchGroups).
  await resumeSwitchProcesses(asg, switchGroups(context, keepsGreen(context) ? 'blue' : 'both'));
  await recordProgress(state, deps, {
    phase: 'rolled-back',
    detail: `${blue} serves ${run.before.release}`,
    fromGroup: green,
    toGroup: blue,
  });
  return { outcome: 'done' };
}

/**
 * How long the rollback may take: from what it waits on (green's targets draining for their target
 * groups' deregistration delays; blue back in service first after the switch), read from AWS once
 * when it starts. Never the health gate's timeout alone: a 120 s gate with ELB's default 300 s
 * delay failed every rollback, kept the lock and hid why the rollout stopped.
 */
async function deadlineOf(
  context: BlueGreenContext,
  kind: 'discard-green' | 'restore-blue',
  deps: RolloutDeps,
): Promise<{ seconds: number; why: string }> {
  const elb = deps.loadBalancing(context.run.region);
  const delays: number[] = [];
  for (const arn of context.run.targetGroupArns) delays.push(await elb.deregistrationDelaySeconds(arn));
  return rollbackDeadline({
    kind,
    healthGateTimeoutSeconds: context.strategy.healthGate.timeoutSeconds,
    deregistrationDelaysSeconds: delays,
  });
}

/**
 * `kiln rollback`'s green is the kept group of a release in the environment's history: it goes
 * back to being kept. A deployment's own green is deleted (its release failed; history never names it).
 */
const keepsGreen = (context: BlueGreenContext): boolean => context.mode === 'rollback';

/** How many of green's instances a target group still lists (any state: draining still serves in-flight requests). */
async function stillRegistered(
  context: BlueGreenContext,
  green: GroupDescription,
  deps: RolloutDeps,
): Promise<number> {
  const ids = new Set(green.instances.map((instance) => instance.instanceId));
  if (ids.size === 0) return 0;
  const elb = deps.loadBalancing(context.run.region);
  let count = 0;
  for (const arn of context.run.targetGroupArns) {
    for (const target of await elb.targetHealth(arn)) if (ids.has(target.instanceId)) count += 1;
  }
  return count;
}
