/**
 * Each environment's fleet over virtual time, replayed from a RunRecord's timeline: which releases
 * its instances run, how many of its targets serve healthy, which wait in a lifecycle hook, and its
 * alarms' states. One sample per instant at which any of these changed (a step function: a sample
 * holds until the next one). Pure: the same record gives the same series.
 *
 * Used by the HTML report (the charts), `kiln preview` (least healthy capacity, peak instance
 * count) and the chaos invariants (healthy capacity never below the floor).
 */
import type { EnvironmentView, RunRecord } from './record';

export interface FleetSample {
  /** Timeline `t` (virtual seconds since the epoch). */
  t: number;
  /** InService instances by release (`unknown` when the image carries no `kiln:version`). */
  inServiceByVersion: Record<string, number>;
  /** InService instances by Auto Scaling group (blue/green: blue beside green); groups with none are left out. */
  inServiceByGroup: Record<string, number>;
  /** Instances in any group of the environment that exist and are not yet terminated (what is paid for). */
  instances: number;
  /** Instances in Pending or Pending:Wait/Proceed. */
  launching: number;
  /** Instances in Terminating or Terminating:Wait/Proceed. */
  terminating: number;
  /** Instances waiting in a lifecycle hook (Pending:Wait or Terminating:Wait). */
  waiting: number;
  /** Targets by ELB state (healthy, unhealthy, initial, draining), over the environment's target groups. */
  targets: Record<string, number>;
  /** Alarm states by alarm name. */
  alarms: Record<string, string>;
}

export interface EnvironmentSeries {
  environment: EnvironmentView;
  samples: FleetSample[];
}

const UNKNOWN_VERSION = 'unknown';

/** The series of every environment the record declares, in the record's order. */
export function fleetSeries(record: RunRecord): EnvironmentSeries[] {
  return record.environments.map((environment) => ({
    environment,
    samples: environmentSamples(record, environment),
  }));
}

function environmentSamples(record: RunRecord, env: EnvironmentView): FleetSample[] {
  const fleet = new FleetReplay(env);
  const samples: FleetSample[] = [];
  let lastKey = '';

  const sampleAt = (t: number): void => {
    const sample = fleet.sampleAt(t, record);
    const { t: _t, ...rest } = sample;
    const key = JSON.stringify(rest);
    if (key === lastKey) return;
    lastKey = key;
    const last = samples[samples.length - 1];
    // Several changes at one instant make one sample: the state once they all happened.
    if (last !== undefined && last.t === t) samples[samples.length - 1] = sample;
    else samples.push(sample);
  };

  let pendingT: number | undefined;
  for (const entry of record.entries) {
    if (entry.kind !== 'state') continue;
    if (pendingT !== undefined && entry.t !== pendingT) {
      sampleAt(pendingT);
      pendingT = undefined;
    }
    if (fleet.apply(entry)) pendingT = entry.t;
  }
  if (pendingT !== undefined) sampleAt(pendingT);
  return samples;
}

/** One environment's fleet as the timeline's state entries, applied in order, leave it. */
class FleetReplay {
  private readonly groupPrefixes: string[];
  private readonly alarmNameOf: Map<string, string>;
  private readonly members = new Map<string, string>(); // instance → Auto Scaling lifecycle state
  private readonly groupOf = new Map<string, string>(); // instance → its group in this environment
  private readonly targets = new Map<string, string>(); // `${tg}/${instance}` → target state
  private readonly alarms: Record<string, string> = {};
  /** Whether any entry so far changed this environment's fleet. */
  changedAny = false;

  constructor(private readonly env: EnvironmentView) {
    this.groupPrefixes = env.groups.map((g) => `autoscaling:${g}/`);
    this.alarmNameOf = new Map(env.alarmArns.map((arn, i) => [arn, env.alarmNames[i] ?? arn]));
  }

  /** Applies one timeline entry; true when it changed this environment's fleet. */
  apply(entry: RunRecord['entries'][number]): boolean {
    if (entry.kind !== 'state') return false;
    const { resource, to } = entry;
    if (resource.startsWith('autoscaling:')) {
      if (resource.includes('#') || resource.includes('/traffic-source:')) return false;
      if (!this.groupPrefixes.some((p) => resource.startsWith(p))) return false;
      const cut = resource.lastIndexOf('/');
      const instanceId = resource.slice(cut + 1);
      if (to === 'Terminated' || to === 'Detached') {
        this.members.delete(instanceId);
        this.groupOf.delete(instanceId);
      } else {
        this.members.set(instanceId, to);
        this.groupOf.set(instanceId, resource.slice('autoscaling:'.length, cut));
      }
    } else if (resource.startsWith('arn:aws:elasticloadbalancing:')) {
      if (resource.includes('#')) return false;
      const cut = resource.lastIndexOf('/');
      if (!this.env.targetGroupArns.includes(resource.slice(0, cut))) return false;
      // `unused` is where a deregistered target ends (it has left the group); a target group no
      // load balancer uses also reports it, and such targets serve nothing either.
      if (to === 'unused') this.targets.delete(resource);
      else this.targets.set(resource, to);
    } else if (this.alarmNameOf.has(resource)) {
      this.alarms[this.alarmNameOf.get(resource) ?? resource] = to;
    } else return false;
    this.changedAny = true;
    return true;
  }

  sampleAt(t: number, record: RunRecord): FleetSample {
    return summarize(t, record, this.members, this.groupOf, this.targets, this.alarms);
  }
}

/**
 * Each declared environment's fleet as it is now: fleetSeries' last sample of it (undefined when
 * nothing changed it yet), but kept up to date as the timeline grows rather than replayed from its
 * start on every call (a story that tells its fleets every 15 virtual seconds made that quadratic).
 * An environment whose view changed (Kiln made a group, say) is replayed from the start once.
 * The sample's `t` is the time of the last change read, not the instant its state began.
 */
export class LatestFleets {
  private readonly replays = new Map<
    string,
    { view: string; replay: FleetReplay; read: number; t: number }
  >();

  latest(record: RunRecord): Map<string, FleetSample | undefined> {
    const out = new Map<string, FleetSample | undefined>();
    for (const env of record.environments) {
      const view = JSON.stringify([env.groups, env.targetGroupArns, env.alarmArns, env.alarmNames]);
      const key = `${env.service}/${env.environment}`;
      let kept = this.replays.get(key);
      if (kept === undefined || kept.view !== view) {
        kept = { view, replay: new FleetReplay(env), read: 0, t: 0 };
        this.replays.set(key, kept);
      }
      const { entries } = record;
      for (; kept.read < entries.length; kept.read++) {
        const entry = entries[kept.read]!;
        if (kept.replay.apply(entry)) kept.t = entry.t;
      }
      out.set(env.environment, kept.replay.changedAny ? kept.replay.sampleAt(kept.t, record) : undefined);
    }
    return out;
  }
}

function summarize(
  t: number,
  record: RunRecord,
  members: ReadonlyMap<string, string>,
  groupOf: ReadonlyMap<string, string>,
  targets: ReadonlyMap<string, string>,
  alarms: Record<string, string>,
): FleetSample {
  const inServiceByVersion: Record<string, number> = {};
  const inServiceByGroup: Record<string, number> = {};
  let launching = 0;
  let terminating = 0;
  let waiting = 0;
  for (const [instanceId, state] of members) {
    if (state === 'InService') {
      const version = record.instances.get(instanceId)?.version ?? UNKNOWN_VERSION;
      inServiceByVersion[version] = (inServiceByVersion[version] ?? 0) + 1;
      const group = groupOf.get(instanceId) ?? UNKNOWN_VERSION;
      inServiceByGroup[group] = (inServiceByGroup[group] ?? 0) + 1;
    } else if (state.startsWith('Pending')) launching += 1;
    else if (state.startsWith('Terminating')) terminating += 1;
    if (state.endsWith(':Wait')) waiting += 1;
  }
  const targetCounts: Record<string, number> = {};
  for (const state of targets.values()) targetCounts[state] = (targetCounts[state] ?? 0) + 1;
  return {
    t,
    inServiceByVersion: sortedKeys(inServiceByVersion),
    inServiceByGroup: sortedKeys(inServiceByGroup),
    instances: members.size,
    launching,
    terminating,
    waiting,
    targets: sortedKeys(targetCounts),
    alarms: sortedKeys({ ...alarms }),
  };
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key] as T;
  return out;
}

/** Healthy targets in a sample. */
export function healthyIn(sample: FleetSample): number {
  return sample.targets.healthy ?? 0;
}
