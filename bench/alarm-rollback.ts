/**
 * Alarm to rollback, in the sandbox on its virtual clock (`KILN_BENCH_SECTIONS=alarms`): the
 * `alarm-rollback` story (sandbox/stories/alarm-rollback.ts) — a release that starts serving 5xx
 * after it completed — with the real deploy state machine, on-alarm and rollout-steps.
 *
 * Figure: virtual seconds from the alarm's state change into ALARM (CloudWatch's, on the timeline)
 * to the rollback's StartExecution, and to the rollback's first API call to AWS outside Kiln's
 * table (rollout-steps touching the fleet), two ways:
 * - **event delivered**: CloudWatch's "Alarm State Change" reaches on-alarm through serverless.yml's rule;
 * - **event lost**: every such event is dropped (the sandbox's `event-loss` fault scoped to
 *   `aws.cloudwatch` / `CloudWatch Alarm State Change`), and `reconcileAlarms` runs on the
 *   reconciler's schedule, rate(1 minute). The reconciler function (issue 11, helper E) is not on
 *   this branch: the story drives the export every virtual minute from the region's start of the
 *   incident, as the schedule would.
 * Never passes or fails: a run whose checks fail is printed as such.
 */
import type { FaultPlan } from '../sandbox/core/faults';
import { createRegion } from '../sandbox/region';
import { alarmRollbackStory, runAlarmRollback } from '../sandbox/stories/alarm-rollback';
import { renderTable } from './paired';
import type { Headline, SectionResult } from './results';

export type AlarmCase = 'event delivered' | 'event lost, reconcile every minute';

export interface AlarmRollbackRow {
  fleet: number;
  case: AlarmCase;
  ok: boolean;
  startSeconds?: number;
  firstCallSeconds?: number;
}

const LOSE_ALARM_EVENTS: FaultPlan = [
  {
    kind: 'event-loss',
    source: 'aws.cloudwatch',
    detailType: 'CloudWatch Alarm State Change',
    probability: 1,
  },
];

export async function alarmRollbackRow(
  seed: number,
  fleet: number,
  which: AlarmCase,
): Promise<AlarmRollbackRow> {
  const lost = which !== 'event delivered';
  const region = await createRegion({ seed, ...(lost ? { faults: LOSE_ALARM_EVENTS } : {}) });
  try {
    const result = await region.engine.run(() =>
      runAlarmRollback(region, {
        fleet,
        print: () => undefined,
        settings: alarmRollbackStory.settings,
        declareEnvironment: () => undefined,
      }),
    );
    return {
      fleet,
      case: which,
      ok: result.checks.every((check) => check.ok),
      ...(result.latency === undefined
        ? {}
        : { startSeconds: result.latency.startSeconds, firstCallSeconds: result.latency.firstCallSeconds }),
    };
  } finally {
    await region.dispose();
  }
}

export async function alarmRollbackTable(
  seed: number,
  fleets: readonly number[],
): Promise<SectionResult<{ rows: AlarmRollbackRow[] }>> {
  const rows: AlarmRollbackRow[] = [];
  // Kiln's functions log at INFO; the table is what this prints.
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  try {
    for (const fleet of fleets) {
      for (const which of ['event delivered', 'event lost, reconcile every minute'] as const) {
        rows.push(await alarmRollbackRow(seed, fleet, which));
      }
    }
  } finally {
    if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  }
  const seconds = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1));
  const text = [
    `alarm to rollback (alarm-rollback story, seed ${seed}; virtual seconds from the alarm's move into ALARM)`,
    renderTable(
      ['instances', 'alarm event', 'checks', 'to StartExecution (s)', 'to first AWS call (s)'],
      rows.map((r) => [
        String(r.fleet),
        r.case,
        r.ok ? 'pass' : 'FAIL',
        seconds(r.startSeconds),
        seconds(r.firstCallSeconds),
      ]),
    ),
  ].join('\n');
  const largest = Math.max(...rows.map((r) => r.fleet));
  const headlines: Headline[] = rows
    .filter((r) => r.fleet === largest)
    .map((r) => ({
      figure: `alarm → rollback's StartExecution, ${r.fleet} instances, ${r.case}`,
      value: `${seconds(r.startSeconds)} s${r.ok ? '' : ' (checks FAILED)'}`,
    }));
  return { text, headlines, data: { rows } };
}
