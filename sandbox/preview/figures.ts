/**
 * What a rollout of one environment was like for the people using it, measured from a run's
 * record (sandbox/observe/record.ts): how long it took, the least healthy capacity at any moment,
 * the most instances paid for at once, where it paused at checkpoints, and — for a rollback —
 * how long from the decision until no instance of the bad release was left and the previous one
 * served at full strength. Pure: the same record gives the same figures, so `kiln preview`'s
 * rehearsal and a full scenario run with the same settings are measured by the same code.
 */
import type { RunRecord } from '../observe/record';
import { fleetSeries, healthyIn, type FleetSample } from '../observe/series';

/** An environment's part of one deploy state machine execution, in timeline seconds. */
export interface EnvironmentSpan {
  /** The execution's name (Kiln names it after the deployment id). */
  execution: string;
  /** Position of the environment in the execution (0 for the first it rolls). */
  index: number;
  from: number;
  to: number;
  /** The state that ended the span (`EnvironmentDone`, or the execution's last state). */
  endedIn: string;
}

/**
 * Every environment span of every deploy execution on the record, in order: from the state
 * machine entering `PrepareEnvironment` to its `EnvironmentDone` (or, for a rollout that ended
 * otherwise, the execution's last state).
 */
export function environmentSpans(record: RunRecord): EnvironmentSpan[] {
  const spans: EnvironmentSpan[] = [];
  const open = new Map<string, EnvironmentSpan>();
  const counts = new Map<string, number>();
  const last = new Map<string, { t: number; state: string }>();
  for (const entry of record.entries) {
    if (entry.kind !== 'state' || !entry.resource.endsWith('#state')) continue;
    const arn = entry.resource.slice(0, -'#state'.length);
    const execution = arn.slice(arn.lastIndexOf(':') + 1);
    last.set(execution, { t: entry.t, state: entry.to });
    const current = open.get(execution);
    if (entry.to === 'PrepareEnvironment' && current === undefined) {
      const index = counts.get(execution) ?? 0;
      counts.set(execution, index + 1);
      const span = { execution, index, from: entry.t, to: entry.t, endedIn: 'PrepareEnvironment' };
      open.set(execution, span);
      spans.push(span);
    } else if (current !== undefined) {
      current.to = entry.t;
      current.endedIn = entry.to;
      if (entry.to === 'EnvironmentDone') open.delete(execution);
    }
  }
  for (const [execution, span] of open) {
    const end = last.get(execution);
    if (end !== undefined) {
      span.to = end.t;
      span.endedIn = end.state;
    }
  }
  return spans;
}

export interface CheckpointPause {
  /** Seconds into the rollout when the refresh reported the checkpoint. */
  at: number;
  /** InService instances on the new release then. */
  onRelease: number;
  /** Seconds until the fleet started changing again (or the rollout ended). */
  seconds: number;
}

export interface RolloutFigures {
  durationSeconds: number;
  /** Healthy targets at the worst moment, and when (seconds into the rollout). */
  leastHealthy: { count: number; at: number };
  /** Instances existing at once (what is paid for), at most, and when. */
  peakInstances: { count: number; at: number };
  checkpoints: CheckpointPause[];
  /** InService instances by release when the span ended. */
  endedWith: Record<string, number>;
}

const CHECKPOINT_EVENT = 'EC2 Auto Scaling Instance Refresh Checkpoint Reached';

/** The samples in effect during [from, to]: the one holding at `from`, then each change up to `to`. */
function samplesWithin(samples: readonly FleetSample[], from: number, to: number): FleetSample[] {
  const before = samples.filter((s) => s.t <= from);
  const holding = before[before.length - 1];
  const inside = samples.filter((s) => s.t > from && s.t <= to);
  return holding === undefined ? inside : [{ ...holding, t: from }, ...inside];
}

/** The series of the environment `key` (`service/environment`) on the record. */
export function environmentSamples(record: RunRecord, key: { service: string; environment: string }) {
  const series = fleetSeries(record).find(
    (s) => s.environment.service === key.service && s.environment.environment === key.environment,
  );
  if (series === undefined) {
    throw new Error(`the run's record declares no environment ${key.service}/${key.environment}`);
  }
  return series;
}

/** The figures of one environment's rollout over `span`; `release` is the release it rolls out. */
export function rolloutFigures(
  record: RunRecord,
  key: { service: string; environment: string },
  span: Pick<EnvironmentSpan, 'from' | 'to'>,
  release: string,
): RolloutFigures {
  const { samples } = environmentSamples(record, key);
  const within = samplesWithin(samples, span.from, span.to);
  if (within.length === 0) throw new Error(`no sample of ${key.service}/${key.environment} in the rollout`);
  let least = within[0] as FleetSample;
  let peak = within[0] as FleetSample;
  for (const sample of within) {
    if (healthyIn(sample) < healthyIn(least)) least = sample;
    if (sample.instances > peak.instances) peak = sample;
  }
  const checkpoints: CheckpointPause[] = [];
  for (const entry of record.entries) {
    if (entry.t < span.from || entry.t > span.to) continue;
    if (entry.kind !== 'event' || entry.detailType !== CHECKPOINT_EVENT) continue;
    const holding = samplesWithin(samples, entry.t, entry.t)[0];
    const resumed = samples.find(
      (s) =>
        s.t > entry.t &&
        (s.launching > (holding?.launching ?? 0) || s.terminating > (holding?.terminating ?? 0)),
    );
    checkpoints.push({
      at: entry.t - span.from,
      onRelease: holding?.inServiceByVersion[release] ?? 0,
      seconds: Math.min(resumed?.t ?? span.to, span.to) - entry.t,
    });
  }
  const end = within[within.length - 1] as FleetSample;
  return {
    durationSeconds: span.to - span.from,
    leastHealthy: { count: healthyIn(least), at: least.t - span.from },
    peakInstances: { count: peak.instances, at: peak.t - span.from },
    checkpoints,
    endedWith: { ...end.inServiceByVersion },
  };
}

export interface RestoreFigures {
  /** Seconds from `since` until the fleet was whole again on `previous` (undefined: never). */
  seconds: number | undefined;
  /** Timeline `t` at which it was. */
  at: number | undefined;
}

/**
 * How long after `since` (the decision to roll back) the environment was whole again: no
 * InService instance on any other release than `previous`, at least `size` of them, and at least
 * `size` healthy targets. What the people using the service wait for.
 */
export function restoredAfter(
  record: RunRecord,
  key: { service: string; environment: string },
  since: number,
  previous: string,
  size: number,
): RestoreFigures {
  const { samples } = environmentSamples(record, key);
  const whole = (s: FleetSample) =>
    Object.keys(s.inServiceByVersion).every((v) => v === previous) &&
    (s.inServiceByVersion[previous] ?? 0) >= size &&
    healthyIn(s) >= size;
  const candidates = samplesWithin(samples, since, Number.POSITIVE_INFINITY);
  // Whole from some moment on (a fleet whole at `since` that breaks later is not yet restored).
  let at: number | undefined;
  for (const sample of candidates) {
    if (whole(sample)) at ??= sample.t;
    else at = undefined;
  }
  return { seconds: at === undefined ? undefined : at - since, at };
}

/** When an alarm of the environment first went into ALARM at or after `from` (timeline `t`). */
export function firstAlarm(
  record: RunRecord,
  key: { service: string; environment: string },
  from: number,
): { t: number; alarm: string } | undefined {
  const { samples } = environmentSamples(record, key);
  for (const sample of samples) {
    if (sample.t < from) continue;
    const alarm = Object.entries(sample.alarms).find(([, state]) => state === 'ALARM');
    if (alarm !== undefined) return { t: sample.t, alarm: alarm[0] };
  }
  return undefined;
}
