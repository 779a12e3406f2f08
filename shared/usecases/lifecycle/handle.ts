/**
 * Handling one lifecycle action, one step at a time (statemachines/lifecycle.asl.json calls
 * `advanceLifecycle` until it says complete, sleeping between calls, then `completeLifecycle`).
 *
 * Terminate (drain), the course:
 *   1. read the hook (its heartbeat timeout sets the heartbeats and the deadline) and the group;
 *   2. deregister the instance from every target group of its group (attached to it, and the
 *      environment's `targetGroupArns`), and note each one's deregistration delay;
 *   3. wait until its targets have left `draining`, each bounded by its delay;
 *   4. run the environment's graceful-stop command through Run Command, bounded by its timeout;
 *   5. complete CONTINUE.
 * Launch (verify): CONTINUE once the instance runs the AMI of the environment's release (or of the
 * release a rollout is bringing) and is running within the warm-up; otherwise ABANDON with the
 * reason, a wrong AMI recorded as drift.
 *
 * Throughout: a heartbeat whenever half the hook's heartbeat timeout has passed, and the action is
 * completed by its deadline (before the global timeout) whatever is still running. A group that is
 * not Kiln's is left to whoever owns its hook.
 */
import {
  completeBy,
  DRAIN_GRACE_SECONDS,
  drainBound,
  heartbeatDue,
  isDraining,
  latestWake,
  launchVerdict,
  type ExpectedImage,
  type LifecycleAction,
} from '../../domain/lifecycle';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';
import type { LifecycleDeps, LifecycleProgress, TargetDrainState } from './deps';
import { environmentOfGroup } from './environments';

/** AWS's default heartbeat timeout when a hook is gone before Kiln reads it (API_PutLifecycleHook). */
const DEFAULT_HEARTBEAT_SECONDS = 3600;
/** How often a drain or a stop command is looked at again once it should be over. */
const POLL_SECONDS = 10;
/** Run Command keeps a command for an agent that is not online for this long (its minimum is 30 s). */
const STOP_DELIVERY_SECONDS = 30;

export const LIFECYCLE_ACTOR = 'kiln:lifecycle';

export async function advanceLifecycle(
  action: LifecycleAction,
  progress: LifecycleProgress,
  deps: LifecycleDeps,
): Promise<LifecycleProgress> {
  const now = deps.now();
  const p: LifecycleProgress = { ...progress, notes: [...(progress.notes ?? [])] };
  if (p.phase === 'begin') return begin(action, p, deps, now);
  if (p.deadline !== undefined && now >= p.deadline) {
    p.notes?.push(
      `completed at the deadline (${Math.round((p.deadline - action.startedAt) / 1000)} s after the action opened) while ${p.phase}`,
    );
    return complete(
      p,
      action.transition === 'launch' ? 'ABANDON' : 'CONTINUE',
      p.reason ?? `deadline reached while ${p.phase}`,
    );
  }
  if (
    p.heartbeatTimeoutSeconds !== undefined &&
    p.lastBeatAt !== undefined &&
    heartbeatDue(p.lastBeatAt, p.heartbeatTimeoutSeconds, now)
  ) {
    const beat = await deps.actions(action.region).heartbeat(action);
    if (beat === 'no-active-action') {
      p.notes?.push('the action ended before Kiln completed it (timed out or completed elsewhere)');
      return complete(p, 'CONTINUE', 'no active lifecycle action');
    }
    p.lastBeatAt = now;
    p.heartbeats = (p.heartbeats ?? 0) + 1;
  }
  if (p.phase === 'draining') return checkDrains(action, p, deps, now);
  if (p.phase === 'stopping') return checkStop(action, p, deps, now);
  if (p.phase === 'verifying') return verify(action, p, deps, now);
  return { ...p, next: 'complete' };
}

async function begin(
  action: LifecycleAction,
  p: LifecycleProgress,
  deps: LifecycleDeps,
  now: number,
): Promise<LifecycleProgress> {
  const groups = deps.groups(action.region);
  const [hooks, group] = await Promise.all([
    groups.lifecycleHooks(action.groupName),
    groups.describeGroup(action.groupName),
  ]);
  if (group === undefined) return complete(p, 'CONTINUE', `group ${action.groupName} no longer exists`);
  const hook = hooks.find((h) => h.name === action.hookName);
  const env = await environmentOfGroup(deps.store, action.region, action.groupName, group.tags);
  if (env === undefined && group.tags['kiln:managed'] !== 'true') {
    return { ...p, phase: 'done', next: 'ignore', reason: `group ${action.groupName} is not one of Kiln's` };
  }
  const heartbeatTimeoutSeconds = hook?.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  // The reconciler finds an action without knowing when it opened: a heartbeat now restarts its
  // heartbeat timeout, and the deadline counts from the moment it was found.
  let lastBeatAt = action.startedAt;
  if (action.source === 'reconciler') {
    if ((await deps.actions(action.region).heartbeat(action)) === 'no-active-action') {
      return complete(p, 'CONTINUE', 'no active lifecycle action');
    }
    lastBeatAt = now;
  }
  Object.assign(p, {
    heartbeatTimeoutSeconds,
    lastBeatAt,
    deadline: completeBy(action.startedAt, heartbeatTimeoutSeconds),
    ...(env === undefined ? {} : { service: env.service, environment: env.environment.name }),
  });
  if (action.transition === 'launch') {
    if (env !== undefined && !env.environment.lifecycle.launch.verify) {
      return complete(p, 'CONTINUE', 'launch verification is off for the environment');
    }
    const warmup =
      env?.environment.lifecycle.launch.healthTimeoutSeconds ??
      group.defaultInstanceWarmup ??
      (group.healthCheckGracePeriod > 0 ? group.healthCheckGracePeriod : 300);
    p.expected =
      env === undefined
        ? []
        : await expectedImages(deps.store, env.service, env.environment.name, action.region);
    p.healthyBy = Math.min(action.startedAt + warmup * 1000, p.deadline ?? Infinity);
    return verify(action, { ...p, phase: 'verifying' }, deps, now);
  }
  const targetGroupArns = [
    ...new Set([...group.targetGroupArns, ...(env?.environment.targetGroupArns ?? [])]),
  ];
  const drain = deps.drain(action.region);
  const drains: TargetDrainState[] = [];
  for (const arn of targetGroupArns) {
    const outcome = await drain.deregister(arn, action.instanceId);
    const delay = outcome === 'not-registered' ? 0 : await drain.deregistrationDelaySeconds(arn);
    drains.push({
      targetGroupArn: arn,
      deregisteredAt: now,
      bound: drainBound(now, delay),
      state: outcome === 'not-registered' ? 'unused' : 'draining',
    });
  }
  const command = env?.environment.lifecycle.drain.stopCommand;
  if (command !== undefined) {
    p.stop = { command, timeoutSeconds: env?.environment.lifecycle.drain.stopTimeoutSeconds ?? 120 };
  }
  p.drains = drains;
  p.phase = 'draining';
  const pending = drains.filter((d) => isDraining(d.state));
  if (pending.length === 0) return afterDrain(action, p, deps, now);
  // Targets drain for the whole delay (the state stays `draining` until it elapses), so the first
  // look is when the shortest delay is over.
  const firstLook = Math.min(...pending.map((d) => d.bound)) - now;
  return sleep(p, now, firstLook);
}

async function checkDrains(
  action: LifecycleAction,
  p: LifecycleProgress,
  deps: LifecycleDeps,
  now: number,
): Promise<LifecycleProgress> {
  const drain = deps.drain(action.region);
  const drains: TargetDrainState[] = [];
  for (const d of p.drains ?? []) {
    // Targets show `draining` until the delay has passed, so there is nothing to learn before then
    // (and ELB's Describe calls share one small bucket: elb-api-throttling.html).
    if (!isDraining(d.state) || now < d.bound - DRAIN_GRACE_SECONDS * 1000) {
      drains.push(d);
      continue;
    }
    const state = await drain.targetState(d.targetGroupArn, action.instanceId);
    if (isDraining(state) && now >= d.bound) {
      p.notes?.push(`${d.targetGroupArn}: still ${state} past its deregistration delay; drain bounded there`);
      drains.push({ ...d, state: `${state} (bounded)` });
    } else {
      drains.push({ ...d, state });
    }
  }
  p.drains = drains;
  const pending = drains.filter((d) => isDraining(d.state));
  if (pending.length > 0) {
    const expectedEnd = Math.min(...pending.map((d) => d.bound - DRAIN_GRACE_SECONDS * 1000));
    return sleep(
      p,
      now,
      Math.max(
        expectedEnd - now,
        Math.min(POLL_SECONDS * 1000, Math.min(...pending.map((d) => d.bound)) - now),
      ),
    );
  }
  return afterDrain(action, p, deps, now);
}

async function afterDrain(
  action: LifecycleAction,
  p: LifecycleProgress,
  deps: LifecycleDeps,
  now: number,
): Promise<LifecycleProgress> {
  if (p.stop === undefined) return complete(p, 'CONTINUE', 'drained');
  const { commandId } = await deps.commands(action.region).sendOnce({
    instanceId: action.instanceId,
    comment: `kiln graceful stop ${action.instanceId}`,
    documentName: 'AWS-RunShellScript',
    parameters: { commands: [p.stop.command], executionTimeout: [String(p.stop.timeoutSeconds)] },
    deliveryTimeoutSeconds: STOP_DELIVERY_SECONDS,
  });
  p.stop = { ...p.stop, commandId, until: now + (p.stop.timeoutSeconds + STOP_DELIVERY_SECONDS) * 1000 };
  p.phase = 'stopping';
  return sleep(p, now, Math.min(POLL_SECONDS * 1000, p.stop.timeoutSeconds * 1000));
}

async function checkStop(
  action: LifecycleAction,
  p: LifecycleProgress,
  deps: LifecycleDeps,
  now: number,
): Promise<LifecycleProgress> {
  const stop = p.stop;
  if (stop?.commandId === undefined) return complete(p, 'CONTINUE', 'drained');
  const result = await deps.commands(action.region).commandResult(stop.commandId, action.instanceId);
  p.stop = { ...stop, status: result.status };
  if (result.state === 'running') {
    if (stop.until !== undefined && now >= stop.until) {
      p.notes?.push(`the graceful-stop command ${stop.commandId} still ran after ${stop.timeoutSeconds} s`);
      return complete(p, 'CONTINUE', 'drained; graceful stop timed out');
    }
    return sleep(p, now, POLL_SECONDS * 1000);
  }
  if (result.state !== 'success') {
    p.notes?.push(
      `the graceful-stop command ${stop.commandId} ended ${result.status}${result.output ? `: ${result.output}` : ''}`,
    );
    return complete(p, 'CONTINUE', `drained; graceful stop ${result.state}`);
  }
  return complete(p, 'CONTINUE', 'drained and stopped');
}

async function verify(
  action: LifecycleAction,
  p: LifecycleProgress,
  deps: LifecycleDeps,
  now: number,
): Promise<LifecycleProgress> {
  const view = await deps.instances(action.region).describe(action.instanceId);
  const verdict = launchVerdict({
    imageId: view?.imageId,
    state: view === undefined ? 'terminated' : view.state,
    expected: p.expected ?? [],
    now,
    healthyBy: p.healthyBy ?? now,
  });
  if (verdict.result === 'wait') return sleep(p, now, POLL_SECONDS * 1000);
  if (verdict.result === 'ABANDON' && verdict.drift !== undefined) p.drift = true;
  return complete(p, verdict.result, verdict.reason);
}

/** The AMIs of the environment's release and of the release a rollout holding its lock brings. */
async function expectedImages(
  store: KilnStore<ServiceManifest>,
  service: string,
  environment: string,
  region: string,
): Promise<ExpectedImage[]> {
  const state = await store.getEnvironmentState(service, environment);
  const versions = new Set<string>();
  if (state.currentRelease !== undefined) versions.add(state.currentRelease);
  if (state.lock?.deploymentId !== undefined) {
    const deployment = await store.getDeployment(state.lock.deploymentId);
    if (deployment !== undefined) versions.add(deployment.releaseVersion);
  }
  const expected: ExpectedImage[] = [];
  for (const version of versions) {
    const release = await store.getRelease(service, version);
    const imageId = release?.amis[region];
    if (imageId !== undefined) expected.push({ version, imageId });
  }
  return expected;
}

function complete(p: LifecycleProgress, result: 'CONTINUE' | 'ABANDON', reason: string): LifecycleProgress {
  const { waitSeconds: _wait, ...rest } = p;
  return { ...rest, phase: 'done', next: 'complete', result, reason };
}

/** Sleep `ms` at most, never past the next heartbeat or the deadline; at least 1 s. */
function sleep(p: LifecycleProgress, now: number, ms: number): LifecycleProgress {
  const latest =
    p.lastBeatAt !== undefined && p.heartbeatTimeoutSeconds !== undefined && p.deadline !== undefined
      ? latestWake(p.lastBeatAt, p.heartbeatTimeoutSeconds, p.deadline)
      : Infinity;
  const until = Math.min(now + ms, latest);
  return { ...p, next: 'wait', waitSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
}

/** What the completion recorded. */
export interface CompletionReport {
  result: 'CONTINUE' | 'ABANDON';
  outcome: 'completed' | 'no-active-action';
  reason: string;
}

/**
 * Completes the action with the progress's result; after a failure (`error`, the ASL's Catch) with
 * CONTINUE for a terminating instance (it goes anyway; holding it only delays that) and ABANDON for
 * a launching one (unverified), the error recorded. "No active lifecycle action" counts as done.
 * Audited under the environment's service when there is one.
 */
export async function completeLifecycle(
  action: LifecycleAction,
  progress: LifecycleProgress,
  error: { Error?: string; Cause?: string } | undefined,
  deps: Pick<LifecycleDeps, 'actions' | 'store'>,
): Promise<CompletionReport> {
  const failed = error !== undefined;
  const result = failed
    ? action.transition === 'launch'
      ? 'ABANDON'
      : 'CONTINUE'
    : (progress.result ?? 'CONTINUE');
  const reason = failed
    ? `handling failed (${error.Error ?? 'error'}: ${errorMessage(error.Cause)}); completed ${result}`
    : (progress.reason ?? 'handled');
  const outcome = await deps.actions(action.region).complete(action, result);
  await deps.store.audit({
    actor: LIFECYCLE_ACTOR,
    action: progress.drift && !failed ? 'lifecycle.drift' : `lifecycle.${action.transition}`,
    target: `instance:${action.region}/${action.instanceId}`,
    ...(progress.service === undefined ? {} : { service: progress.service }),
    after: {
      result,
      outcome,
      group: action.groupName,
      hook: action.hookName,
      source: action.source,
      ...(progress.environment === undefined ? {} : { environment: progress.environment }),
      ...(progress.drains === undefined
        ? {}
        : { drains: progress.drains.map((d) => ({ targetGroupArn: d.targetGroupArn, state: d.state })) }),
      ...(progress.stop?.status === undefined ? {} : { stop: progress.stop.status }),
      ...(progress.heartbeats === undefined ? {} : { heartbeats: progress.heartbeats }),
      ...(progress.notes?.length ? { notes: progress.notes } : {}),
    },
    reason,
  });
  return { result, outcome, reason };
}

function errorMessage(cause: string | undefined): string {
  if (cause === undefined) return 'no cause';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not Lambda's JSON error: the cause as it is.
  }
  return cause.slice(0, 500);
}
