import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  type AlarmHistoryItem,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { Alarms } from '../../../shared/aws/cloudwatch';
import { TransientAwsError } from '../../../shared/domain/step-errors';

const cwMock = mockClient(CloudWatchClient);

function stateUpdate(
  name: string,
  at: number,
  from: string,
  to: string,
  reason = `${from} to ${to}`,
): AlarmHistoryItem {
  return {
    AlarmName: name,
    AlarmType: 'MetricAlarm',
    Timestamp: new Date(at),
    HistoryItemType: 'StateUpdate',
    HistorySummary: `Alarm updated from ${from} to ${to}`,
    HistoryData: JSON.stringify({
      version: '1.0',
      oldState: { stateValue: from, stateReason: 'before' },
      newState: { stateValue: to, stateReason: reason },
    }),
  };
}

describe('Alarms', () => {
  let alarms: Alarms;
  beforeEach(() => {
    cwMock.reset();
    alarms = new Alarms(new CloudWatchClient({ region: 'us-east-1', maxAttempts: 1 }));
  });

  describe('states', () => {
    it('answers metric and composite alarms (naming which) through every page, leaving out the missing', async () => {
      cwMock
        .on(DescribeAlarmsCommand)
        .resolvesOnce({
          MetricAlarms: [
            {
              AlarmName: 'web-5xx',
              StateValue: 'ALARM',
              StateReason: 'Threshold Crossed',
              StateUpdatedTimestamp: new Date(1_000),
            },
          ],
          NextToken: 'next',
        })
        .resolvesOnce({ CompositeAlarms: [{ AlarmName: 'web-health', StateValue: 'OK' }] });

      expect(await alarms.states(['web-5xx', 'web-health', 'missing'])).toEqual([
        { name: 'web-5xx', kind: 'metric', state: 'ALARM', reason: 'Threshold Crossed', updatedAt: 1_000 },
        { name: 'web-health', kind: 'composite', state: 'OK' },
      ]);
      expect(cwMock.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input)).toEqual([
        { AlarmNames: ['web-5xx', 'web-health', 'missing'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
        {
          AlarmNames: ['web-5xx', 'web-health', 'missing'],
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken: 'next',
        },
      ]);
    });

    it('asks for at most 100 names per call', async () => {
      cwMock.on(DescribeAlarmsCommand).resolves({});
      const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
      await alarms.states(names);
      expect(
        cwMock.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.AlarmNames?.length),
      ).toEqual([100, 50]);
    });

    it('asks nothing for no names (DescribeAlarms without names answers every alarm)', async () => {
      expect(await alarms.states([])).toEqual([]);
      expect(cwMock.calls()).toHaveLength(0);
    });

    it('turns throttling into TransientAwsError', async () => {
      cwMock.on(DescribeAlarmsCommand).rejects(
        new CloudWatchServiceException({
          name: 'Throttling',
          $fault: 'client',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 400 },
        }),
      );
      await expect(alarms.states(['web-5xx'])).rejects.toBeInstanceOf(TransientAwsError);
    });
  });

  describe('wentIntoAlarm', () => {
    it('answers the moves into ALARM since the moment, oldest first, across alarms and pages', async () => {
      cwMock
        .on(DescribeAlarmHistoryCommand, { AlarmName: 'web-5xx' })
        .resolvesOnce({
          AlarmHistoryItems: [stateUpdate('web-5xx', 2_000, 'OK', 'ALARM', '5xx above 10')],
          NextToken: 'p2',
        })
        .resolvesOnce({ AlarmHistoryItems: [stateUpdate('web-5xx', 3_000, 'ALARM', 'OK')] })
        .on(DescribeAlarmHistoryCommand, { AlarmName: 'web-latency' })
        .resolves({ AlarmHistoryItems: [stateUpdate('web-latency', 1_500, 'INSUFFICIENT_DATA', 'ALARM')] });

      expect(await alarms.wentIntoAlarm(['web-5xx', 'web-latency'], 1_000)).toEqual([
        { name: 'web-latency', at: 1_500, reason: 'INSUFFICIENT_DATA to ALARM' },
        { name: 'web-5xx', at: 2_000, reason: '5xx above 10' },
      ]);
      expect(cwMock.commandCalls(DescribeAlarmHistoryCommand).map((call) => call.args[0].input)).toEqual([
        {
          AlarmName: 'web-5xx',
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          HistoryItemType: 'StateUpdate',
          StartDate: new Date(1_000),
          ScanBy: 'TimestampAscending',
        },
        {
          AlarmName: 'web-5xx',
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          HistoryItemType: 'StateUpdate',
          StartDate: new Date(1_000),
          ScanBy: 'TimestampAscending',
          NextToken: 'p2',
        },
        {
          AlarmName: 'web-latency',
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          HistoryItemType: 'StateUpdate',
          StartDate: new Date(1_000),
          ScanBy: 'TimestampAscending',
        },
      ]);
    });

    it('skips items before the moment and items whose HistoryData does not parse', async () => {
      cwMock.on(DescribeAlarmHistoryCommand).resolves({
        AlarmHistoryItems: [
          stateUpdate('web-5xx', 500, 'OK', 'ALARM'),
          { ...stateUpdate('web-5xx', 1_200, 'OK', 'ALARM'), HistoryData: 'not json' },
          { ...stateUpdate('web-5xx', 1_300, 'OK', 'ALARM'), HistoryData: '{"newState":{}}' },
          stateUpdate('web-5xx', 1_400, 'OK', 'ALARM'),
        ],
      });
      expect(await alarms.wentIntoAlarm(['web-5xx'], 1_000)).toEqual([
        { name: 'web-5xx', at: 1_400, reason: 'OK to ALARM' },
      ]);
    });
  });
});
