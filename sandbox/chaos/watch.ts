/**
 * What a chaos run watches beyond the timeline: the timeline names each API call but not its input,
 * and the invariants need three facts only the calls carry: which lifecycle actions Auto Scaling
 * accepted as completed (instance, hook, when), each lifecycle hook's heartbeat timeout, and each
 * group's desired capacity over time (the size the healthy floor is a percentage of).
 *
 * The watch wraps the simulated Auto Scaling service's `handle` (the engine calls it for every
 * SDK request that reached it) and reads the outcome after the call: it changes no answer, draws
 * nothing from the seed and records nothing on the timeline, so a watched run is the same run.
 */
import type { Region } from '../region';

export interface LifecycleCompletion {
  /** Timeline `t` (virtual seconds since the epoch). */
  t: number;
  group: string;
  hook: string;
  instanceId: string;
  result: string;
}

export interface HookFacts {
  group: string;
  name: string;
  transition: string;
  heartbeatTimeoutSeconds: number;
}

export interface CapacityChange {
  t: number;
  group: string;
  desired: number;
}

/** PutLifecycleHook's default HeartbeatTimeout (API_PutLifecycleHook: "The default value is 3600 seconds"). */
const DEFAULT_HEARTBEAT_SECONDS = 3600;

interface GroupInput {
  AutoScalingGroupName?: string;
  LifecycleHookName?: string;
  LifecycleTransition?: string;
  HeartbeatTimeout?: number;
  InstanceId?: string;
  LifecycleActionResult?: string;
}

export class RegionWatch {
  readonly completions: LifecycleCompletion[] = [];
  readonly hooks = new Map<string, HookFacts>();
  readonly capacity: CapacityChange[] = [];
  private readonly lastDesired = new Map<string, number>();

  constructor(private readonly region: Region) {
    const sim = region.autoScaling;
    const handle = sim.handle.bind(sim);
    sim.handle = async (operation: string, input: unknown): Promise<object> => {
      const output = await handle(operation, input);
      this.observe(operation, (input ?? {}) as GroupInput);
      return output;
    };
  }

  private now(): number {
    const { engine } = this.region;
    return Math.round(engine.clock.now() - engine.timeline.epochMs) / 1000;
  }

  private observe(operation: string, input: GroupInput): void {
    const group = input.AutoScalingGroupName;
    if (group === undefined) return;
    const t = this.now();
    if (operation === 'CompleteLifecycleAction') {
      this.completions.push({
        t,
        group,
        hook: input.LifecycleHookName ?? '?',
        instanceId: input.InstanceId ?? '?',
        result: input.LifecycleActionResult ?? '?',
      });
    } else if (operation === 'PutLifecycleHook' && input.LifecycleHookName !== undefined) {
      const key = `${group}/${input.LifecycleHookName}`;
      const before = this.hooks.get(key);
      this.hooks.set(key, {
        group,
        name: input.LifecycleHookName,
        transition: input.LifecycleTransition ?? before?.transition ?? '?',
        heartbeatTimeoutSeconds:
          input.HeartbeatTimeout ?? before?.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
      });
    }
    // Any call on a group may have moved its size (Create/Update, SetDesiredCapacity, Terminate…
    // with decrement, standby); a deleted group's size is 0.
    const desired = this.region.autoScaling.peekDesiredCapacity(group) ?? 0;
    if (this.lastDesired.get(group) !== desired) {
      this.lastDesired.set(group, desired);
      this.capacity.push({ t, group, desired });
    }
  }

  /** The shortest heartbeat timeout of the group's hooks for a transition (`autoscaling:EC2_INSTANCE_…`). */
  heartbeatTimeout(group: string, transition: string): number | undefined {
    const timeouts = [...this.hooks.values()]
      .filter((h) => h.group === group && h.transition === transition)
      .map((h) => h.heartbeatTimeoutSeconds);
    return timeouts.length === 0 ? undefined : Math.min(...timeouts);
  }
}
