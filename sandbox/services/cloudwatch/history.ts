/**
 * Alarm history: a StateUpdate item for every state change, which DescribeAlarmHistory answers.
 * "CloudWatch retains the history of an alarm even if you delete the alarm": the items outlive the
 * alarm. HistoryData is JSON with `version`, `oldState` and `newState` ({ stateValue, stateReason,
 * stateReasonData }), HistorySummary "Alarm updated from OLD to NEW", as AWS's example shows
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html;
 * https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/describe-alarm-history.html).
 * Configuration updates and actions are not recorded.
 */
import {
  InvalidNextToken,
  type AlarmHistoryItem,
  type AlarmType,
  type DescribeAlarmHistoryInput,
  type DescribeAlarmHistoryOutput,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';

export interface AlarmStateSnapshot {
  value: StateValue;
  reason: string;
  /** JSON text, as SetAlarmState and the evaluator give it. */
  reasonData?: string;
}

/** At most 100 records per call; 50 when MaxRecords is omitted. */
const DEFAULT_RECORDS = 50;
const MAX_RECORDS = 100;

export class AlarmHistory {
  private readonly items: AlarmHistoryItem[] = [];

  /** Records a state change of `name` at `at` (epoch ms). */
  recordStateUpdate(
    name: string,
    type: AlarmType,
    at: number,
    from: AlarmStateSnapshot,
    to: AlarmStateSnapshot,
  ): void {
    this.items.push({
      AlarmName: name,
      AlarmType: type,
      Timestamp: new Date(at),
      HistoryItemType: 'StateUpdate',
      HistorySummary: `Alarm updated from ${from.value} to ${to.value}`,
      HistoryData: JSON.stringify({ version: '1.0', oldState: stateJson(from), newState: stateJson(to) }),
    });
  }

  /**
   * The items of one alarm (or of every alarm), of the given types (metric alarms only when
   * AlarmTypes is omitted: "If you omit this parameter, only metric alarms are returned") and item
   * type, between StartDate and EndDate, newest first unless ScanBy is TimestampAscending.
   */
  describe(input: DescribeAlarmHistoryInput): DescribeAlarmHistoryOutput {
    const types = new Set<string>(input.AlarmTypes?.length ? input.AlarmTypes : ['MetricAlarm']);
    const start = input.StartDate?.getTime() ?? -Infinity;
    const end = input.EndDate?.getTime() ?? Infinity;
    const selected = this.items.filter((item) => {
      const at = item.Timestamp?.getTime() ?? 0;
      return (
        (input.AlarmName === undefined || item.AlarmName === input.AlarmName) &&
        types.has(item.AlarmType ?? 'MetricAlarm') &&
        (input.HistoryItemType === undefined || item.HistoryItemType === input.HistoryItemType) &&
        at >= start &&
        at <= end
      );
    });
    // Recorded in time order; a stable sort keeps items of the same millisecond in that order.
    const ordered = input.ScanBy === 'TimestampAscending' ? selected : [...selected].reverse();
    const pageSize = Math.min(Math.max(input.MaxRecords ?? DEFAULT_RECORDS, 1), MAX_RECORDS);
    const offset = input.NextToken === undefined ? 0 : Number.parseInt(input.NextToken, 10);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new InvalidNextToken({
        message: 'The service found NextToken invalid.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const next = offset + pageSize < ordered.length ? String(offset + pageSize) : undefined;
    return {
      AlarmHistoryItems: ordered.slice(offset, offset + pageSize).map((item) => ({ ...item })),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  }
}

/** One side of HistoryData; stateReasonData is an object there, as in AWS's example. */
function stateJson(state: AlarmStateSnapshot): Record<string, unknown> {
  let reasonData: unknown;
  if (state.reasonData !== undefined) {
    try {
      reasonData = JSON.parse(state.reasonData);
    } catch {
      reasonData = undefined;
    }
  }
  return {
    stateValue: state.value,
    stateReason: state.reason,
    ...(reasonData === undefined ? {} : { stateReasonData: reasonData }),
  };
}
