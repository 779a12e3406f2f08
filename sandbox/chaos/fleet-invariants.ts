/**
 * The chaos invariants read from the run's record and the watch (pure: no API call): lifecycle
 * waits and completions, and each environment's healthy capacity against its floor.
 */
import type { TimedEntry } from '../core/timeline';
import type { RunRecord } from '../observe/record';
import { fleetSeries, healthyIn } from '../observe/series';
import type { RegionWatch } from './watch';

export type InvariantName =
  | 'lifecycle-wait'
  | 'lifecycle-once'
  | 'healthy-capacity'
  | 'deployment-outcome'
  | 'locks-released'
  | 'audited'
  | 'bake-cleanup'
  | 'run';

export interface Violation {
  invariant: InvariantName;
  detail: string;
}

const TRANSITION_OF_WAIT: Record<string, string> = {
  'Pending:Wait': 'autoscaling:EC2_INSTANCE_LAUNCHING',
  'Terminating:Wait': 'autoscaling:EC2_INSTANCE_TERMINATING',
};

/** A completion Kiln's audit log records (`lifecycle.launch`/`.terminate`; `.drift` names neither). */
export interface AuditedCompletion {
  t: number;
  transition: 'launch' | 'terminate' | undefined;
}

/** One stay of an instance in a lifecycle wait, from the timeline. */
export interface LifecycleWait {
  group: string;
  instanceId: string;
  state: 'Pending:Wait' | 'Terminating:Wait';
  start: number;
  /** Undefined while it still waits. */
  end?: number;
  /** The state it left for. */
  next?: string;
}

/** Every lifecycle wait of every group, in timeline order. */
export function lifecycleWaits(entries: readonly TimedEntry[]): LifecycleWait[] {
  const open = new Map<string, LifecycleWait>();
  const waits: LifecycleWait[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'state' || !entry.resource.startsWith('autoscaling:')) continue;
    if (entry.resource.includes('#') || entry.resource.includes('/traffic-source:')) continue;
    const slash = entry.resource.lastIndexOf('/');
    if (slash < 0) continue;
    const key = entry.resource;
    const current = open.get(key);
    if (current !== undefined) {
      current.end = entry.t;
      current.next = entry.to;
      open.delete(key);
    }
    if (entry.to === 'Pending:Wait' || entry.to === 'Terminating:Wait') {
      const wait: LifecycleWait = {
        group: entry.resource.slice('autoscaling:'.length, slash),
        instanceId: entry.resource.slice(slash + 1),
        state: entry.to,
        start: entry.t,
      };
      open.set(key, wait);
      waits.push(wait);
    }
  }
  return waits;
}

/**
 * No instance waits in a lifecycle hook past its timeout, and Kiln completes every action exactly
 * once: a wait that ends because the hook's timeout applied its DefaultResult was left to the
 * timeout; a wait still open at the end has outlived its heartbeat timeout; two accepted
 * completions of one wait, or an audit count that differs from what Auto Scaling accepted, break
 * "exactly once".
 */
export function checkLifecycle(
  record: RunRecord,
  watch: Pick<RegionWatch, 'completions' | 'heartbeatTimeout'>,
  audited: ReadonlyMap<string, readonly AuditedCompletion[]>,
  now: number,
): Violation[] {
  const violations: Violation[] = [];
  const waits = lifecycleWaits(record.entries);
  for (const [index, wait] of waits.entries()) {
    const transition = TRANSITION_OF_WAIT[wait.state] ?? '?';
    const timeout = watch.heartbeatTimeout(wait.group, transition);
    const where = `${wait.instanceId} (${wait.group}) in ${wait.state} from ${wait.start} s`;
    const within = (t: number): boolean => t >= wait.start && t <= (wait.end ?? now);
    const accepted = watch.completions.filter(
      (c) => c.instanceId === wait.instanceId && c.group === wait.group && within(c.t),
    );
    if (wait.end === undefined) {
      const waited = now - wait.start;
      if (timeout === undefined || waited > timeout) {
        violations.push({
          invariant: 'lifecycle-wait',
          detail: `${where} still waits after ${round(waited)} s (heartbeat timeout ${timeout ?? '?'} s)`,
        });
      }
      continue;
    }
    // Left for anything but X:Proceed, AWS ended the wait itself (the instance was terminated).
    if (!wait.next?.endsWith(':Proceed')) continue;
    if (accepted.length === 0) {
      violations.push({
        invariant: 'lifecycle-wait',
        detail: `${where} was left to its hook's timeout: Kiln never completed it (it ended after ${round(wait.end - wait.start)} s)`,
      });
    } else if (accepted.length > 1) {
      violations.push({
        invariant: 'lifecycle-once',
        detail: `${where}: Auto Scaling accepted ${accepted.length} completions`,
      });
    }
    // Kiln audits after Auto Scaling answered, so an entry belongs to the wait until the same
    // instance's next wait of the same kind.
    const nextStart =
      waits.slice(index + 1).find((w) => w.instanceId === wait.instanceId && w.state === wait.state)?.start ??
      Infinity;
    const kind = wait.state === 'Pending:Wait' ? 'launch' : 'terminate';
    const inAudit = (audited.get(wait.instanceId) ?? []).filter(
      (a) => (a.transition === undefined || a.transition === kind) && a.t >= wait.start && a.t < nextStart,
    ).length;
    if (inAudit !== accepted.length) {
      violations.push({
        invariant: 'lifecycle-once',
        detail: `${where}: Kiln's audit log records ${inAudit} completion(s), Auto Scaling accepted ${accepted.length}`,
      });
    }
  }
  return violations;
}

/** How long after AWS removed an instance the environment may stay short of its floor. */
export const AWS_REMOVAL_GRACE_SECONDS = 900;

/**
 * Healthy capacity never below the manifest's minimum, except where AWS itself removed it.
 * The floor at a moment is ⌈minHealthy% × size⌉, size being the environment's desired capacity
 * (its largest group's: blue/green runs two) but never more than it has been seen to serve since
 * its size last changed, so a fleet coming up or scaling out is not held to capacity it never had.
 * A shortfall is excused while it is no larger than the instances AWS took away (failed to boot,
 * or found unhealthy by Auto Scaling's health checks) within AWS_REMOVAL_GRACE_SECONDS.
 */
export function checkHealthyCapacity(record: RunRecord, watch: Pick<RegionWatch, 'capacity'>): Violation[] {
  const violations: Violation[] = [];
  // Kiln's own groups (blue/green's greens) serve through their target groups too.
  const widened: RunRecord = {
    ...record,
    environments: record.environments.map((env) => ({
      ...env,
      targetGroupArns: [
        ...new Set([
          ...env.targetGroupArns,
          ...env.groups.flatMap((g) => record.groups.get(g)?.targetGroupArns ?? []),
        ]),
      ],
    })),
  };
  for (const { environment, samples } of fleetSeries(widened)) {
    const percent = environment.minHealthyPercentage;
    if (percent === undefined) continue;
    const groups = new Set(environment.groups);
    const removals = awsRemovals(record, groups);
    const changes = watch.capacity.filter((c) => groups.has(c.group));
    const desired = new Map<string, number>();
    let size = 0;
    let seen = 0;
    let changeAt = 0;
    let reported = false;
    const times = [...new Set([...samples.map((s) => s.t), ...changes.map((c) => c.t)])].sort(
      (a, b) => a - b,
    );
    let sampleAt = -1;
    for (const t of times) {
      let resized = false;
      while (changeAt < changes.length && (changes[changeAt]?.t ?? Infinity) <= t) {
        const change = changes[changeAt++];
        if (change === undefined) break;
        desired.set(change.group, change.desired);
        resized = true;
      }
      while (sampleAt + 1 < samples.length && (samples[sampleAt + 1]?.t ?? Infinity) <= t) sampleAt++;
      const sample = samples[sampleAt];
      const healthy = sample === undefined ? 0 : healthyIn(sample);
      if (resized) {
        const next = Math.max(0, ...desired.values());
        if (next !== size) {
          size = next;
          seen = healthy;
        }
      }
      seen = Math.max(seen, healthy);
      const floor = Math.ceil((percent * Math.min(size, seen)) / 100);
      if (healthy >= floor || reported) continue;
      const removed = removals.filter((r) => r <= t && r > t - AWS_REMOVAL_GRACE_SECONDS).length;
      if (floor - healthy <= removed) continue;
      reported = true; // one line per environment: the first moment says where to look
      violations.push({
        invariant: 'healthy-capacity',
        detail:
          `${environment.service}/${environment.environment} at ${t} s: ${healthy} healthy, below its floor ` +
          `${floor} (${percent}% of ${Math.min(size, seen)})` +
          (removed > 0
            ? `; AWS removed only ${removed} instance(s) in the ${AWS_REMOVAL_GRACE_SECONDS} s before`
            : ''),
      });
    }
  }
  return violations;
}

/** When AWS took an instance of these groups away: a failed boot, or an unhealthy verdict. */
function awsRemovals(record: RunRecord, groups: ReadonlySet<string>): number[] {
  const times: number[] = [];
  const started = new Set<string>();
  for (const entry of record.entries) {
    if (entry.kind !== 'state') continue;
    if (
      entry.resource.startsWith('autoscaling:') &&
      entry.resource.endsWith('#health') &&
      entry.to === 'Unhealthy'
    ) {
      const path = entry.resource.slice('autoscaling:'.length, -'#health'.length);
      if (groups.has(path.slice(0, path.lastIndexOf('/')))) times.push(entry.t);
    } else if (entry.resource.startsWith('i-')) {
      const group = record.instances.get(entry.resource)?.group;
      if (group === undefined || !groups.has(group)) continue;
      if (entry.to === 'running') started.add(entry.resource);
      // An instance that stops or terminates before it ever ran failed to boot.
      else if (entry.from === 'pending' && !started.has(entry.resource)) times.push(entry.t);
    }
  }
  return times.sort((a, b) => a - b);
}

function round(seconds: number): number {
  return Math.round(seconds);
}
