/**
 * From the health gate to blue's retirement: `check-health-gate`, `switch-traffic`,
 * `watch-alarms`, `check-watch`, `retire-blue` (statemachines/deploy.asl.json).
 *
 * Never cut over to an unhealthy group (DESIGN.md rule 4): blue leaves the target groups only
 * after the gate saw every green target healthy long enough, and switch-traffic looks once more
 * right before it detaches blue.
 */
import {
  GROUP_TAGS,
  describeUnhealthy,
  groupsBeyondKeep,
  healthGate,
  inServiceIds,
  retiredTags,
  unhealthyTargets,
  watchSeconds,
} from '../../../domain/blue-green';
import type { CheckOutcome, EnvironmentRun, RolloutDeps, RolloutState } from '../deps';
import { tokenKeys } from '../deps';
import { abortRequest, recordProgress, renewLease, runOf } from '../progress';
import { type BlueGreenContext, contextOf, isDeleting, resumeSwitchProcesses, switchGroups } from './context';
import { deleteKilnGroup } from './policies';

/** Green's InService instances and every target group's health of them. */
export async function groupTargetHealth(
  context: Pick<BlueGreenContext, 'asg' | 'run'>,
  group: string,
  deps: RolloutDeps,
): Promise<
  | {
      instanceIds: string[];
      desired: number;
      health: Array<{ targetGroupArn: string; targets: Array<{ instanceId: string; state: string }> }>;
    }
  | undefined
> {
  const described = await context.asg.describeGroup(group);
  if (described === undefined) return undefined;
  const elb = deps.loadBalancing(context.run.region);
  const health = [];
  for (const targetGroupArn of context.run.targetGroupArns) {
    health.push({ targetGroupArn, targets: await elb.targetHealth(targetGroupArn) });
  }
  return { instanceIds: inServiceIds(described.instances), desired: described.capacity.desired, health };
}

const abortOutcome = (abort: { actor: string; reason?: string | undefined }): CheckOutcome => ({
  outcome: 'abort',
  reason: `aborted by ${abort.actor}${abort.reason ? `: ${abort.reason}` : ''}`,
});

/** `check-health-gate` → `healthy` | `waiting` (with `healthySince`) | `failed` | `abort`. */
export async function checkHealthGate(state: RolloutState, deps: RolloutDeps): Promise<CheckOutcome> {
  const context = await contextOf(state, deps);
  const abort = await abortRequest(state, deps);
  if (abort) return abortOutcome(abort);
  await renewLease(state, deps);
  const { run, green, strategy } = context;
  const seen = await groupTargetHealth(context, green, deps);
  if (seen === undefined) return { outcome: 'failed', reason: `green group ${green} is gone` };
  const verdict = healthGate({
    ...seen,
    now: deps.now(),
    healthySince: state.check?.healthySince,
    startedAt: run.attachedAt ?? deps.now(),
    healthyForSeconds: strategy.healthGate.healthyForSeconds,
    timeoutSeconds: strategy.healthGate.timeoutSeconds,
  });
  if (verdict.outcome === 'failed') return { outcome: 'failed', reason: verdict.reason };
  // Attached green takes its share of live traffic already: a release that fails its users
  // stops here, with blue still serving, however healthy its targets look.
  const alarmed = await rolloutAlarm(context, deps);
  if (alarmed !== undefined) return { outcome: 'failed', reason: alarmed };
  await recordProgress(state, deps, {
    phase: 'health-gate',
    detail: verdict.detail,
    fromGroup: context.blue,
    toGroup: green,
  });
  return verdict.healthySince === undefined
    ? { outcome: verdict.outcome }
    : { outcome: verdict.outcome, healthySince: verdict.healthySince };
}

/**
 * `switch-traffic`: one more look at green (every target healthy now), then blue leaves every
 * target group; its targets drain (ELB's deregistration delay) while green serves.
 */
export async function switchTraffic(state: RolloutState, deps: RolloutDeps): Promise<EnvironmentRun> {
  const context = await contextOf(state, deps);
  const { run, asg, blue, green } = context;
  const seen = await groupTargetHealth(context, green, deps);
  if (seen === undefined) throw new Error(`green group ${green} is gone`);
  const unhealthy = unhealthyTargets(seen.instanceIds, seen.health);
  if (unhealthy.length > 0 || seen.instanceIds.length < seen.desired) {
    const short = seen.desired - seen.instanceIds.length;
    throw new Error(
      `green ${green} is not healthy any more, traffic stays on ${blue}: ${[
        ...(short > 0 ? [`${short} of ${seen.desired} instances not in service`] : []),
        ...(unhealthy.length > 0 ? [describeUnhealthy(unhealthy)] : []),
      ].join('; ')}`,
    );
  }
  const blueGroup = await asg.describeGroup(blue);
  const attached = run.targetGroupArns.filter((arn) => blueGroup?.targetGroupArns.includes(arn));
  if (attached.length > 0) await asg.detachTargetGroups(blue, attached);
  const watch = watchSeconds(context.strategy.bakeTimeSeconds);
  const next: EnvironmentRun = {
    ...run,
    switchedAt: run.switchedAt ?? deps.now(),
    watchSeconds: watch,
    watchWaitSeconds: watch,
  };
  await recordProgress(state, deps, {
    phase: 'watching',
    detail: `traffic on ${green}; ${blue} draining; rollout alarms watched for ${next.watchSeconds} s`,
    fromGroup: blue,
    toGroup: green,
  });
  return next;
}

/**
 * The first move of a rollout alarm into ALARM since green took traffic, as a reason; none:
 * undefined. Green takes its share of live traffic from `attach-green` on (blue and green serve
 * side by side through the health gate), so that is where the window starts, not at the switch:
 * an alarm that went off during the gate may stay in ALARM through the switch, with no later move
 * into ALARM for the watch to see (CloudWatch's history records state changes only:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html).
 */
async function rolloutAlarm(context: BlueGreenContext, deps: RolloutDeps): Promise<string | undefined> {
  const { run, environment } = context;
  const alarms = environment.alarms.rollout;
  if (alarms.length === 0) return undefined;
  const since = run.attachedAt ?? run.switchedAt ?? run.startedAt;
  const [first] = await deps.alarms(run.region).wentIntoAlarm(alarms, since);
  if (first === undefined) return undefined;
  return `alarm ${first.name} went into ALARM ${Math.round((first.at - since) / 1000)} s after ${context.green} took traffic${first.reason ? `: ${first.reason}` : ''}`;
}

/** What check-watch decides, also used by watch-alarms to wake itself at once. */
async function watchVerdict(
  state: RolloutState,
  context: BlueGreenContext,
  deps: RolloutDeps,
): Promise<CheckOutcome> {
  const abort = await abortRequest(state, deps);
  if (abort) return abortOutcome(abort);
  const { run } = context;
  const alarmed = await rolloutAlarm(context, deps);
  if (alarmed !== undefined) return { outcome: 'alarm', reason: alarmed };
  const since = run.switchedAt ?? run.startedAt;
  const endsAt = since + (run.watchSeconds ?? watchSeconds(context.strategy.bakeTimeSeconds)) * 1000;
  const now = deps.now();
  if (now >= endsAt) return { outcome: 'clear' };
  // Woken early with nothing to act on: the next wait is for what is left of the watch, never a
  // whole bake time again (each early wake used to add one).
  return { outcome: 'waiting', remainingSeconds: Math.max(1, Math.ceil((endsAt - now) / 1000)) };
}

/**
 * `watch-alarms` (a callback wait): stores the token where on-alarm finds it (waitKind `alarm`),
 * then looks once, and wakes itself if the watch is already decided (an alarm fired before the
 * token was stored, an abort, or the watch is over).
 */
export async function watchAlarms(state: RolloutState, taskToken: string, deps: RolloutDeps): Promise<void> {
  const run = runOf(state);
  const since = run.switchedAt ?? deps.now();
  await deps.store.putTaskToken({
    waitKind: 'alarm',
    key: tokenKeys.watch(state.deploymentId, run.name),
    token: taskToken,
    deploymentId: state.deploymentId,
    expiresAt: since + (run.watchSeconds ?? 1) * 1000,
  });
  const verdict = await watchVerdict(state, await contextOf(state, deps), deps);
  if (verdict.outcome === 'waiting') return;
  const token = await deps.store.takeTaskToken('alarm', tokenKeys.watch(state.deploymentId, run.name));
  if (token !== undefined)
    await deps.wake(token.token, { woken: verdict.outcome === 'abort' ? 'abort' : 'event' });
}

/** `check-watch` → `clear` | `alarm` | `abort` | `waiting`. */
export async function checkWatch(state: RolloutState, deps: RolloutDeps): Promise<CheckOutcome> {
  const context = await contextOf(state, deps);
  const verdict = await watchVerdict(state, context, deps);
  if (verdict.outcome === 'abort') return verdict;
  await renewLease(state, deps);
  if (verdict.outcome !== 'waiting') {
    // The wait is over: a token left behind would only be woken for nothing.
    await deps.store.takeTaskToken('alarm', tokenKeys.watch(state.deploymentId, context.run.name));
  }
  return verdict;
}

/**
 * `retire-blue`: blue to zero (min 0, desired 0; max kept so a rollback scales it straight back),
 * tagged `kiln:role=retired` and kept, its scheduled actions and alarm notifications left suspended
 * (parked); kept groups beyond `keepOldGroups` deleted, oldest first; the switch's processes
 * resumed on green, and on both groups when retiring fails (the rollback that follows parks green).
 */
export async function retireBlue(state: RolloutState, deps: RolloutDeps): Promise<EnvironmentRun> {
  const context = await contextOf(state, deps);
  const { run, asg } = context;
  try {
    await retire(context, state, deps);
  } catch (error) {
    // Resume anyway, then fail with what went wrong first (the rollback resumes again).
    await resumeSwitchProcesses(asg, switchGroups(context)).catch(() => undefined);
    throw error;
  }
  // Blue stays parked (suspended) at zero: see switchGroups.
  await resumeSwitchProcesses(asg, switchGroups(context, 'green'));
  return run;
}

async function retire(context: BlueGreenContext, state: RolloutState, deps: RolloutDeps): Promise<void> {
  const { run, asg, blue, green } = context;
  const blueGroup = await asg.describeGroup(blue);
  if (blueGroup !== undefined) {
    if (blueGroup.capacity.desired !== 0 || blueGroup.capacity.min !== 0) {
      await asg.updateGroup(blue, { capacity: { min: 0, max: blueGroup.capacity.max, desired: 0 } });
    }
    await asg.tagGroup(
      blue,
      retiredTags({
        service: state.service,
        environment: run.name,
        release: run.before.release,
        at: deps.now(),
      }),
    );
  }
  const kept = await asg.findGroupsByTags({
    [GROUP_TAGS.managed]: 'true',
    [GROUP_TAGS.service]: state.service,
    [GROUP_TAGS.environment]: run.name,
    [GROUP_TAGS.role]: 'retired',
  });
  // Never the group that now serves, whatever its tags say.
  const candidates = kept.filter((group) => group.name !== green && !isDeleting(group));
  for (const name of groupsBeyondKeep(candidates, context.strategy.keepOldGroups)) {
    await deleteKilnGroup(asg, { name, region: run.region }, deps);
  }
  await recordProgress(state, deps, {
    phase: 'retired',
    detail: `${blue} scaled to 0 and kept; ${green} serves`,
    fromGroup: blue,
    toGroup: green,
  });
}
