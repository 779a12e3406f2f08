/**
 * What Kiln decides about a lifecycle action, with no AWS in it: the handling's execution name,
 * the deadlines a drain keeps (heartbeats, the action's global timeout, each target group's
 * deregistration delay) and the launch verdict. The use case (shared/usecases/lifecycle/handle.ts)
 * reads AWS and applies these.
 */

export type Transition = 'launch' | 'terminate';

/** One lifecycle action, as the handling's execution carries it (its input). */
export interface LifecycleAction {
  region: string;
  groupName: string;
  instanceId: string;
  transition: Transition;
  hookName: string;
  /** The event's token; the reconciler finds actions without one and completes by instance id. */
  token?: string;
  /** Epoch ms when the action opened (the event's time), or when the reconciler found it. */
  startedAt: number;
  /** Who started the handling. */
  source: 'event' | 'reconciler';
}

export const TRANSITIONS = {
  'autoscaling:EC2_INSTANCE_LAUNCHING': 'launch',
  'autoscaling:EC2_INSTANCE_TERMINATING': 'terminate',
} as const satisfies Record<string, Transition>;

/** Step Functions execution names: 1–80 characters, none of these (API_StartExecution, name). */
const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/g;
const NAME_MAX = 80;

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * The handling's execution name: the same for every delivery of the action's event and for the
 * reconciler finding it, so Step Functions starts it once (StartExecution refuses a second
 * execution of a name: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 * An instance launches once and terminates once, so instance + transition + hook is unique.
 */
export function lifecycleExecutionName(
  action: Pick<LifecycleAction, 'instanceId' | 'transition' | 'hookName'>,
): string {
  const hook = action.hookName.replace(NAME_FORBIDDEN, '_');
  const name = `${action.instanceId}-${action.transition}-${hook}`;
  if (name.length <= NAME_MAX) return name;
  const head = `${action.instanceId}-${action.transition}-`;
  const digest = fnv1a(action.hookName);
  return `${head}${hook.slice(0, NAME_MAX - head.length - digest.length - 1)}-${digest}`;
}

/**
 * How long a lifecycle action can wait: "the global timeout … is 172800 seconds (48 hours) or 100
 * times HeartbeatTimeout, whichever is smaller".
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LifecycleHook.html
 */
export function globalTimeoutSeconds(heartbeatTimeoutSeconds: number): number {
  return Math.min(172_800, 100 * heartbeatTimeoutSeconds);
}

/**
 * Kiln completes the action this long before its global timeout runs out, so the completion (and
 * its retries) lands in time whatever the drain still waits for.
 */
export const COMPLETION_MARGIN_SECONDS = 120;

/** When Kiln completes the action at the latest (epoch ms). */
export function completeBy(startedAt: number, heartbeatTimeoutSeconds: number): number {
  const global = globalTimeoutSeconds(heartbeatTimeoutSeconds);
  const margin = Math.min(COMPLETION_MARGIN_SECONDS, Math.floor(global / 4));
  return startedAt + (global - margin) * 1000;
}

/**
 * A heartbeat restarts the heartbeat timeout
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RecordLifecycleActionHeartbeat.html):
 * Kiln sends one once half of it has passed, and never sleeps past that point, so the action never
 * times out while Kiln still drains.
 */
export function heartbeatDue(lastBeatAt: number, heartbeatTimeoutSeconds: number, now: number): boolean {
  return now - lastBeatAt >= (heartbeatTimeoutSeconds * 1000) / 2;
}

/** The latest moment the next wake-up may come (epoch ms): the next heartbeat and the completion deadline. */
export function latestWake(lastBeatAt: number, heartbeatTimeoutSeconds: number, deadline: number): number {
  return Math.min(lastBeatAt + (heartbeatTimeoutSeconds * 1000) / 2, deadline);
}

/**
 * How long a drain waits for one target group at most: its deregistration delay
 * (`deregistration_delay.timeout_seconds`, 300 s unless set) from when Kiln deregistered the target
 * ("After the deregistration delay elapses, the deregistration process completes and the state of
 * the target is unused":
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay),
 * plus a short grace for DescribeTargetHealth to show it.
 */
export const DRAIN_GRACE_SECONDS = 15;
export function drainBound(deregisteredAt: number, delaySeconds: number): number {
  return deregisteredAt + (delaySeconds + DRAIN_GRACE_SECONDS) * 1000;
}

/** A target state that still counts as draining (ELB: TargetHealth.State). */
export function isDraining(state: string): boolean {
  return state === 'draining' || state === 'unhealthy.draining';
}

/** The AMIs a launching instance may run: the environment's release and, during a rollout, its target. */
export interface ExpectedImage {
  version: string;
  imageId: string;
}

export type LaunchVerdict =
  | { result: 'CONTINUE'; reason: string }
  | { result: 'ABANDON'; reason: string; drift?: { imageId: string; expected: ExpectedImage[] } }
  | { result: 'wait' };

/**
 * CONTINUE once the instance runs an expected AMI and is healthy (running) within the warm-up;
 * ABANDON on a wrong or stale AMI (drift: the group launches something no release of the
 * environment names) or when the warm-up ran out; wait otherwise. No release recorded yet (an
 * environment Kiln has not deployed): nothing to hold the instance to, so CONTINUE and say so.
 */
export function launchVerdict(input: {
  imageId: string | undefined;
  state: string | undefined;
  expected: ExpectedImage[];
  now: number;
  healthyBy: number;
}): LaunchVerdict {
  const { imageId, state, expected } = input;
  if (imageId !== undefined && expected.length > 0 && !expected.some((e) => e.imageId === imageId)) {
    const wanted = expected.map((e) => `${e.imageId} (${e.version})`).join(' or ');
    return {
      result: 'ABANDON',
      reason: `drift: the instance runs ${imageId}, the environment's release expects ${wanted}`,
      drift: { imageId, expected },
    };
  }
  if (state === 'running') {
    return {
      result: 'CONTINUE',
      reason:
        expected.length === 0
          ? 'running; not verified against a release (none recorded for the environment)'
          : `running the release's AMI ${imageId ?? ''}`,
    };
  }
  if (state === 'shutting-down' || state === 'terminated' || state === 'stopping' || state === 'stopped') {
    return { result: 'ABANDON', reason: `the instance is ${state}` };
  }
  if (input.now >= input.healthyBy) {
    return { result: 'ABANDON', reason: `not healthy within the warm-up (state ${state ?? 'unknown'})` };
  }
  return { result: 'wait' };
}
