/**
 * The reconciler's part for alarms (issue 11, item 6): an "Alarm State Change" event that never
 * reached on-alarm must still stop a rollout or roll a release back. CloudWatch guarantees its
 * delivery to EventBridge (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html),
 * but EventBridge's delivery to the target is at least once with retries that can run out, and a
 * target can fail (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 *
 * Course:
 * 1. The environments that could act on an alarm now: a rollout in flight (rollout alarms) or the
 *    current release inside its watch window (watch alarms). Nothing else is described.
 * 2. DescribeAlarms for their alarms, once per Region (both kinds, at most 100 names a call). The
 *    caller's role needs cloudwatch:DescribeAlarms on `*`: composite alarms are answered only to a
 *    permission "scoped to *" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
 * 3. Each alarm in ALARM becomes the signal on-alarm would have had, with CloudWatch's
 *    StateUpdatedTimestamp as its time, and is decided and acted on by the same code
 *    (shared/usecases/alarms/handle.ts): the same `alarm-rollback` claim, so an event and this
 *    run roll back once between them, and the same abort (idempotent).
 * Notices are left to the event: an alarm that stays in ALARM would be noticed again every minute.
 */
import { decideAlarm, watchersOf, type AlarmSignal, type AlarmWatcher } from '../../domain/alarms';
import type { AlarmPort } from '../rollout/deps';
import { act, allManifests, environmentFacts, type AlarmDeps, type AlarmOutcome } from './handle';

export interface ReconcileAlarmsDeps extends AlarmDeps {
  /** CloudWatch in a Region (the reconciler's clients per Region). */
  alarms: (region: string) => Pick<AlarmPort, 'states'>;
}

export interface ReconcileAlarmsResult {
  /** Environments in a rollout or a watch window. */
  environments: number;
  /** Alarms described. */
  alarms: number;
  /** Of those, in ALARM. */
  inAlarm: number;
  /** What was done (abort, rollback, or found handled already), per environment. */
  acted: AlarmOutcome[];
}

export async function reconcileAlarms(deps: ReconcileAlarmsDeps): Promise<ReconcileAlarmsResult> {
  const manifests = await allManifests(deps.store);
  const now = deps.now();
  const watched: Array<{ watcher: AlarmWatcher; names: string[] }> = [];
  for (const manifest of manifests) {
    for (const env of manifest.environments) {
      const { rollout, watch, watchWindowMinutes } = env.alarms;
      if (rollout.length === 0 && watch.length === 0) continue;
      const facts = await environmentFacts({ service: manifest.name, environment: env.name }, deps);
      const names = new Set<string>();
      if (facts.rollout !== undefined) rollout.forEach((name) => names.add(name));
      else if (facts.current !== undefined && now <= facts.current.since + watchWindowMinutes * 60_000) {
        watch.forEach((name) => names.add(name));
      }
      if (names.size === 0) continue;
      const watcher: AlarmWatcher = {
        service: manifest.name,
        environment: env.name,
        region: env.region,
        rollout: rollout.length > 0,
        watch: watch.length > 0,
        watchWindowMinutes,
      };
      watched.push({ watcher, names: [...names].sort() });
    }
  }

  const byRegion = new Map<string, Set<string>>();
  for (const { watcher, names } of watched) {
    const set = byRegion.get(watcher.region) ?? new Set<string>();
    names.forEach((name) => set.add(name));
    byRegion.set(watcher.region, set);
  }
  const result: ReconcileAlarmsResult = { environments: watched.length, alarms: 0, inAlarm: 0, acted: [] };
  for (const [region, names] of [...byRegion].sort(([a], [b]) => a.localeCompare(b))) {
    const states = await deps.alarms(region).states([...names].sort());
    result.alarms += states.length;
    for (const status of states) {
      if (status.state !== 'ALARM') continue;
      result.inAlarm += 1;
      const signal: AlarmSignal = {
        alarmName: status.name,
        region,
        kind: status.kind ?? 'metric',
        state: 'ALARM',
        at: status.updatedAt ?? now,
        ...(status.reason === undefined ? {} : { reason: status.reason }),
      };
      // Decided per environment that lists it, from fresh facts: an earlier alarm of this run may
      // have changed them (an abort requested, a rollback started).
      for (const watcher of watchersOf(manifests, signal)) {
        if (
          !watched.some(
            (w) => w.watcher.service === watcher.service && w.watcher.environment === watcher.environment,
          )
        ) {
          continue;
        }
        const decision = decideAlarm(signal, watcher, await environmentFacts(watcher, deps));
        if (decision.action !== 'abort' && decision.action !== 'rollback') continue;
        result.acted.push(await act(signal, watcher, decision, deps));
      }
    }
  }
  return result;
}
