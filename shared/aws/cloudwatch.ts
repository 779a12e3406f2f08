/**
 * The CloudWatch adapter of the rollout (AlarmPort, shared/usecases/rollout/deps.ts): the current
 * state of the rollout alarms, and which of them went into ALARM since a moment (a bake time or a
 * blue/green watch may miss a short ALARM that is already OK again when it looks).
 */
import {
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type CloudWatchClient,
  type MetricAlarm,
  type PutMetricAlarmInput,
} from '@aws-sdk/client-cloudwatch';
import * as z from '../domain/zod';
import type { AlarmPort, AlarmStatus } from '../usecases/rollout/deps';
import { callAws } from './aws-errors';

const SERVICE = 'CloudWatch';

/** DescribeAlarms takes at most 100 names per call. */
const NAMES_PER_CALL = 100;

/**
 * Both kinds: "If you omit this parameter, only metric alarms are returned, even if composite
 * alarms exist in the account"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html).
 */
const ALARM_TYPES = ['MetricAlarm', 'CompositeAlarm'] as const;

export class Alarms implements AlarmPort {
  constructor(readonly client: CloudWatchClient) {}

  /** Asks for nothing when given no names: DescribeAlarms without names answers every alarm. */
  async states(names: readonly string[]): Promise<AlarmStatus[]> {
    const found: AlarmStatus[] = [];
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      const batch = names.slice(i, i + NAMES_PER_CALL);
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await callAws(SERVICE, `describe alarms ${batch.join(', ')}`, () =>
          this.client.send(
            new DescribeAlarmsCommand({
              AlarmNames: batch,
              AlarmTypes: [...ALARM_TYPES],
              ...(token === undefined ? {} : { NextToken: token }),
            }),
          ),
        );
        const listed = [
          ...(page.MetricAlarms ?? []).map((alarm) => ({ alarm, kind: 'metric' as const })),
          ...(page.CompositeAlarms ?? []).map((alarm) => ({ alarm, kind: 'composite' as const })),
        ];
        for (const { alarm, kind } of listed) {
          if (alarm.AlarmName === undefined) continue;
          found.push({
            name: alarm.AlarmName,
            kind,
            state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
            ...(alarm.StateReason === undefined ? {} : { reason: alarm.StateReason }),
            ...(alarm.StateUpdatedTimestamp === undefined
              ? {}
              : { updatedAt: alarm.StateUpdatedTimestamp.getTime() }),
          });
        }
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
    }
    return found;
  }

  /**
   * Each alarm's StateUpdate history items since `since`, kept where the new state is ALARM. The
   * item's HistoryData is JSON with `oldState` and `newState` ({ stateValue, stateReason }), as
   * AWS's example shows
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html;
   * https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/describe-alarm-history.html);
   * an item whose data does not parse is skipped rather than guessed at.
   */
  async wentIntoAlarm(
    names: readonly string[],
    since: number,
  ): Promise<Array<{ name: string; at: number; reason?: string }>> {
    const moves: Array<{ name: string; at: number; reason?: string }> = [];
    for (const name of names) {
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await callAws(SERVICE, `describe the state history of alarm ${name}`, () =>
          this.client.send(
            new DescribeAlarmHistoryCommand({
              AlarmName: name,
              AlarmTypes: [...ALARM_TYPES],
              HistoryItemType: 'StateUpdate',
              StartDate: new Date(since),
              ScanBy: 'TimestampAscending',
              ...(token === undefined ? {} : { NextToken: token }),
            }),
          ),
        );
        for (const item of page.AlarmHistoryItems ?? []) {
          const at = item.Timestamp?.getTime();
          if (at === undefined || at < since || item.HistoryItemType !== 'StateUpdate') continue;
          const newState = parseNewState(item.HistoryData);
          if (newState?.stateValue !== 'ALARM') continue;
          moves.push({
            name: item.AlarmName ?? name,
            at,
            ...(newState.stateReason === undefined ? {} : { reason: newState.stateReason }),
          });
        }
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
    }
    return moves.sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
  }

  /**
   * DescribeAlarms' ActionPrefix narrows to alarms with an action starting with it; each is then
   * checked for the exact ARN (a prefix also matches longer ARNs). Metric alarms only: composite
   * alarms cannot invoke Auto Scaling
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/US_AlarmAutoScalingAction.html).
   */
  async alarmsWithAction(action: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await callAws(SERVICE, `describe alarms with action ${action}`, () =>
        this.client.send(
          new DescribeAlarmsCommand({
            ActionPrefix: action,
            AlarmTypes: ['MetricAlarm'],
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      for (const alarm of page.MetricAlarms ?? []) {
        if (alarm.AlarmName !== undefined && actionsOf(alarm).includes(action)) names.push(alarm.AlarmName);
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return names.sort();
  }

  async mirrorAlarmAction(alarmName: string, existing: string, added: string): Promise<void> {
    await this.rewriteActions(alarmName, (list) =>
      list.includes(existing) && !list.includes(added) ? [...list, added] : list,
    );
  }

  async removeAlarmAction(alarmName: string, action: string): Promise<void> {
    await this.rewriteActions(alarmName, (list) => list.filter((entry) => entry !== action));
  }

  /**
   * PutMetricAlarm replaces an alarm's whole configuration ("the update completely overwrites the
   * previous configuration of the alarm"), so the alarm is read and written back with only its
   * action lists changed; its state is left as it is. Nothing is written when nothing changes, and
   * an alarm that is gone is left gone.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
   */
  private async rewriteActions(alarmName: string, change: (list: string[]) => string[]): Promise<void> {
    const page = await callAws(SERVICE, `describe alarm ${alarmName}`, () =>
      this.client.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm'] })),
    );
    const alarm = page.MetricAlarms?.[0];
    if (alarm === undefined) return;
    const before = {
      ok: alarm.OKActions ?? [],
      alarm: alarm.AlarmActions ?? [],
      insufficient: alarm.InsufficientDataActions ?? [],
    };
    const after = {
      ok: change(before.ok),
      alarm: change(before.alarm),
      insufficient: change(before.insufficient),
    };
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    await callAws(SERVICE, `update the actions of alarm ${alarmName}`, () =>
      this.client.send(
        new PutMetricAlarmCommand({
          ...putInputOf(alarm, alarmName),
          OKActions: after.ok,
          AlarmActions: after.alarm,
          InsufficientDataActions: after.insufficient,
        }),
      ),
    );
  }
}

/** What of a StateUpdate item's HistoryData the adapter reads; the rest (stateReasonData, …) may vary. */
const historyData = z.object({
  newState: z.object({ stateValue: z.string(), stateReason: z.optional(z.string()) }),
});

function parseNewState(
  data: string | undefined,
): { stateValue: string; stateReason?: string | undefined } | undefined {
  if (data === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = historyData.safeParse(json);
  return parsed.success ? parsed.data.newState : undefined;
}

function actionsOf(alarm: MetricAlarm): string[] {
  return [
    ...(alarm.OKActions ?? []),
    ...(alarm.AlarmActions ?? []),
    ...(alarm.InsufficientDataActions ?? []),
  ];
}

/** PutMetricAlarm's input from DescribeAlarms' answer: every setting the alarm has, as it has it. */
function putInputOf(alarm: MetricAlarm, alarmName: string): PutMetricAlarmInput {
  return {
    AlarmName: alarmName,
    AlarmDescription: alarm.AlarmDescription,
    ActionsEnabled: alarm.ActionsEnabled,
    MetricName: alarm.MetricName,
    Namespace: alarm.Namespace,
    Statistic: alarm.Statistic,
    ExtendedStatistic: alarm.ExtendedStatistic,
    Dimensions: alarm.Dimensions,
    Period: alarm.Period,
    Unit: alarm.Unit,
    EvaluationPeriods: alarm.EvaluationPeriods,
    DatapointsToAlarm: alarm.DatapointsToAlarm,
    Threshold: alarm.Threshold,
    ComparisonOperator: alarm.ComparisonOperator,
    TreatMissingData: alarm.TreatMissingData,
    EvaluateLowSampleCountPercentile: alarm.EvaluateLowSampleCountPercentile,
    Metrics: alarm.Metrics,
    ThresholdMetricId: alarm.ThresholdMetricId,
  };
}
