/**
 * What Kiln does when a CloudWatch alarm changes state (issue 11, item 3): pure rules, no AWS.
 *
 * An alarm concerns an environment when the environment's manifest lists it (under
 * `alarms.rollout` or `alarms.watch`) and the alarm lives in the environment's Region: alarm names
 * are unique per account and Region only, so a `web-5xx` in eu-west-1 says nothing about an
 * environment in us-east-1 (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html,
 * "AlarmName … must be unique within the Region").
 *
 * For each such environment, an alarm that went into ALARM:
 * - during a rollout of the environment (its lock held by a deployment that is not final and not
 *   itself a rollback), and listed under `alarms.rollout` → **abort** that deployment: its next
 *   step stops it and restores the previous release;
 * - within `watchWindowMinutes` after the environment's current release became current by a
 *   deploy, and listed under `alarms.watch` → **roll back** the environment to its previous
 *   release, once per (service, environment, release): a flapping alarm rolls back once;
 * - otherwise → **notify** (with why nothing more was done).
 * OK and INSUFFICIENT_DATA change nothing (`ignore`).
 *
 * Times are the alarm's own state-change time, not when Kiln hears of it, so an event that arrives
 * late and the reconciler's DescribeAlarms (which finds the same alarm a minute later) decide alike.
 * An ALARM older than the rollout or the release is not the release's doing: a rollout that starts
 * while an alarm is already firing is not aborted for it (the rollout's own alarm checks decide).
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** A state change of one alarm, as on-alarm's event or the reconciler's DescribeAlarms gives it. */
export interface AlarmSignal {
  alarmName: string;
  region: string;
  /** 'composite' when the alarm has a rule (AlarmRule) rather than a metric. */
  kind: 'metric' | 'composite';
  state: AlarmState;
  previousState?: AlarmState;
  /** When the alarm entered `state` (epoch ms). */
  at: number;
  reason?: string;
}

/** The slice of a manifest the mapping reads. */
export interface AlarmedManifest {
  name: string;
  environments: ReadonlyArray<{
    name: string;
    region: string;
    alarms: { rollout: readonly string[]; watch: readonly string[]; watchWindowMinutes: number };
  }>;
}

/** An environment an alarm concerns, and as what. */
export interface AlarmWatcher {
  service: string;
  environment: string;
  region: string;
  rollout: boolean;
  watch: boolean;
  watchWindowMinutes: number;
}

/** Every environment of these manifests that lists the alarm, in its own Region. */
export function watchersOf(
  manifests: readonly AlarmedManifest[],
  alarm: Pick<AlarmSignal, 'alarmName' | 'region'>,
): AlarmWatcher[] {
  const found: AlarmWatcher[] = [];
  for (const manifest of manifests) {
    for (const env of manifest.environments) {
      if (env.region !== alarm.region) continue;
      const rollout = env.alarms.rollout.includes(alarm.alarmName);
      const watch = env.alarms.watch.includes(alarm.alarmName);
      if (!rollout && !watch) continue;
      found.push({
        service: manifest.name,
        environment: env.name,
        region: env.region,
        rollout,
        watch,
        watchWindowMinutes: env.alarms.watchWindowMinutes,
      });
    }
  }
  return found;
}

/** What the environment looks like when the alarm is judged (read from Kiln's store). */
export interface EnvironmentFacts {
  /** The deployment holding the environment's lock, if it is not final. */
  rollout?: {
    deploymentId: string;
    mode: 'deploy' | 'rollback';
    status: string;
    /** When it took the lock (epoch ms). */
    since: number;
  };
  /** The environment's current release, when it became current and by which kind of deployment. */
  current?: { release: string; since: number; mode?: 'deploy' | 'rollback' | undefined };
  /** The release a rollback would restore. */
  previousRelease?: string;
}

export type AlarmDecision =
  | { action: 'ignore'; reason: string }
  | { action: 'notify'; reason: string }
  | { action: 'abort'; deploymentId: string; reason: string }
  | { action: 'rollback'; release: string; toRelease: string; reason: string };

/** The actor Kiln records for what an alarm made it do. */
export const alarmActor = (alarmName: string): string => `alarm:${alarmName}`;

/** The claim key that makes a rollback happen once per release (scope `alarm-rollback`). */
export const rollbackClaimKey = (service: string, environment: string, release: string): string =>
  `${service}/${environment}/${release}`;

/** Decides what one alarm state change means for one environment (see the module comment). */
export function decideAlarm(
  signal: AlarmSignal,
  watcher: AlarmWatcher,
  facts: EnvironmentFacts,
): AlarmDecision {
  const where = `${watcher.service}/${watcher.environment}`;
  const what = `${signal.kind} alarm ${signal.alarmName}`;
  if (signal.state !== 'ALARM') return { action: 'ignore', reason: `${what} is ${signal.state}` };
  const why = signal.reason ? `: ${signal.reason}` : '';

  const { rollout } = facts;
  if (rollout !== undefined && signal.at < rollout.since) {
    // Firing before the rollout took the environment: not this rollout's doing, and the release
    // it would roll back is being replaced anyway. The rollout's own alarm checks decide.
    return {
      action: 'notify',
      reason: `${what} went into ALARM before rollout ${rollout.deploymentId} of ${where} began`,
    };
  }
  if (rollout !== undefined) {
    if (rollout.mode === 'rollback' || rollout.status === 'rolling-back') {
      return {
        action: 'notify',
        reason: `${what} went into ALARM while ${rollout.deploymentId} restores an earlier release of ${where}; it is left to finish`,
      };
    }
    if (!watcher.rollout) {
      return {
        action: 'notify',
        reason: `${what} went into ALARM during rollout ${rollout.deploymentId} of ${where}, but it is not one of the environment's rollout alarms`,
      };
    }
    return {
      action: 'abort',
      deploymentId: rollout.deploymentId,
      reason: `${what} went into ALARM during the rollout of ${where}${why}`,
    };
  }

  const { current } = facts;
  if (current === undefined) {
    return { action: 'notify', reason: `${what} went into ALARM; ${where} has no release recorded` };
  }
  const windowEnds = current.since + watcher.watchWindowMinutes * 60_000;
  if (signal.at < current.since || signal.at > windowEnds) {
    return {
      action: 'notify',
      reason: `${what} went into ALARM outside the ${watcher.watchWindowMinutes}-minute watch window of ${where}'s release ${current.release}`,
    };
  }
  if (!watcher.watch) {
    return {
      action: 'notify',
      reason: `${what} went into ALARM in the watch window of ${where}, but it is not one of the environment's watch alarms`,
    };
  }
  if (current.mode === 'rollback') {
    return {
      action: 'notify',
      reason: `${what} went into ALARM, but ${where} runs ${current.release} restored by a rollback: Kiln does not roll back a rollback`,
    };
  }
  if (facts.previousRelease === undefined || facts.previousRelease === current.release) {
    return {
      action: 'notify',
      reason: `${what} went into ALARM in the watch window of ${where}, which has no earlier release to restore`,
    };
  }
  return {
    action: 'rollback',
    release: current.release,
    toRelease: facts.previousRelease,
    reason: `${what} went into ALARM ${Math.round((signal.at - current.since) / 1000)} s after ${current.release} became current in ${where}${why}`,
  };
}
