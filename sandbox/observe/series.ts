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
  const groupPrefixes = env.groups.map((g) => `autoscaling:${g}/`);
  const alarmNameOf = new Map(env.alarmArns.map((arn, i) => [arn, env.alarmNames[i] ?? arn]));
  const members = new Map<string, string>(); // instance → Auto Scaling lifecycle state
  const groupOf = new Map<string, string>(); // instance → its group in this environment
  const targets = new Map<string, string>(); // `${tg}/${instance}` → target state
  const alarms: Record<string, string> = {};
  const samples: FleetSample[] = [];
  let lastKey = '';

  const sampleAt = (t: number): void => {
    const sample = summarize(t, record, members, groupOf, targets, alarms);
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
    const { resource, to } = entry;
    let changed = false;
    if (resource.startsWith('autoscaling:')) {
      if (resource.includes('#') || resource.includes('/traffic-source:')) continue;
      if (!groupPrefixes.some((p) => resource.startsWith(p))) continue;
      const cut = resource.lastIndexOf('/');
      const instanceId = resource.slice(cut + 1);
      if (to === 'Terminated' || to === 'Detached') {
        members.delete(instanceId);
        groupOf.delete(instanceId);
      } else {
        members.set(instanceId, to);
        groupOf.set(instanceId, resource.slice('autoscaling:'.length, cut));
      }
      changed = true;
    } else if (resource.startsWith('arn:aws:elasticloadbalancing:')) {
      if (resource.includes('#')) continue;
      const cut = resource.lastIndexOf('/');
      if (!env.targetGroupArns.includes(resource.slice(0, cut))) continue;
      // `unused` is where a deregistered target ends (it has left the group); a target group no
      // load balancer uses also reports it, and such targets serve nothing either.
      if (to === 'unused') targets.delete(resource);
      else targets.set(resource, to);
      changed = true;
    } else if (alarmNameOf.has(resource)) {
      alarms[alarmNameOf.get(resource) ?? resource] = to;
      changed = true;
    }
    if (changed) pendingT = entry.t;
  }
  if (pendingT !== undefined) sampleAt(pendingT);
  return samples;
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
