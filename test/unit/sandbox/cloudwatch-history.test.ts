import type { DescribeAlarmHistoryOutput, PutMetricAlarmInput } from '@aws-sdk/client-cloudwatch';
import { createTestContext, SANDBOX_EPOCH } from '../../../sandbox/core/testing';
import { CloudWatchSim } from '../../../sandbox/services/cloudwatch';

const MINUTE = 60_000;

function alarmInput(name = 'web-5xx'): PutMetricAlarmInput {
  return {
    AlarmName: name,
    Namespace: 'Kiln/Test',
    MetricName: 'Errors',
    Statistic: 'Sum',
    // An hour: no evaluation comes between the state changes a test makes a minute apart.
    Period: 3600,
    EvaluationPeriods: 1,
    Threshold: 5,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  };
}

async function history(
  cw: CloudWatchSim,
  input: Record<string, unknown>,
): Promise<DescribeAlarmHistoryOutput> {
  return (await cw.handle('DescribeAlarmHistory', input)) as DescribeAlarmHistoryOutput;
}

function states(output: DescribeAlarmHistoryOutput): Array<[string, string, string]> {
  return (output.AlarmHistoryItems ?? []).map((item) => {
    const data = JSON.parse(item.HistoryData ?? '{}') as {
      oldState: { stateValue: string };
      newState: { stateValue: string };
    };
    return [item.AlarmName ?? '', data.oldState.stateValue, data.newState.stateValue];
  });
}

describe('CloudWatchSim DescribeAlarmHistory', () => {
  function setup() {
    const ctx = createTestContext(7);
    return { ctx, cw: new CloudWatchSim(ctx) };
  }

  it('records a StateUpdate item with oldState and newState on every state change', async () => {
    const { ctx, cw } = setup();
    await cw.handle('PutMetricAlarm', alarmInput());
    await ctx.fakeClock.tickAsync(MINUTE);
    await cw.handle('SetAlarmState', {
      AlarmName: 'web-5xx',
      StateValue: 'ALARM',
      StateReason: 'testing',
      StateReasonData: '{"version":"1.0"}',
    });

    const output = await history(cw, { AlarmName: 'web-5xx', HistoryItemType: 'StateUpdate' });

    expect(output.AlarmHistoryItems?.[0]).toEqual({
      AlarmName: 'web-5xx',
      AlarmType: 'MetricAlarm',
      Timestamp: new Date(SANDBOX_EPOCH + MINUTE),
      HistoryItemType: 'StateUpdate',
      HistorySummary: 'Alarm updated from OK to ALARM',
      HistoryData: expect.any(String),
    });
    expect(JSON.parse(output.AlarmHistoryItems?.[0]?.HistoryData ?? '')).toMatchObject({
      version: '1.0',
      oldState: { stateValue: 'OK' },
      newState: { stateValue: 'ALARM', stateReason: 'testing', stateReasonData: { version: '1.0' } },
    });
    // Newest first by default; the creation's evaluation moved it from INSUFFICIENT_DATA to OK.
    expect(states(output)).toEqual([
      ['web-5xx', 'OK', 'ALARM'],
      ['web-5xx', 'INSUFFICIENT_DATA', 'OK'],
    ]);
  });

  it('answers oldest first with ScanBy TimestampAscending, from StartDate on', async () => {
    const { ctx, cw } = setup();
    await cw.handle('PutMetricAlarm', alarmInput());
    for (const state of ['ALARM', 'OK', 'ALARM']) {
      await ctx.fakeClock.tickAsync(MINUTE);
      await cw.handle('SetAlarmState', { AlarmName: 'web-5xx', StateValue: state, StateReason: 'test' });
    }

    const output = await history(cw, {
      AlarmName: 'web-5xx',
      StartDate: new Date(SANDBOX_EPOCH + 2 * MINUTE),
      ScanBy: 'TimestampAscending',
    });

    expect(states(output)).toEqual([
      ['web-5xx', 'ALARM', 'OK'],
      ['web-5xx', 'OK', 'ALARM'],
    ]);
  });

  it('keeps an alarm’s history after the alarm is deleted, and other alarms apart', async () => {
    const { cw } = setup();
    await cw.handle('PutMetricAlarm', alarmInput('a'));
    await cw.handle('PutMetricAlarm', alarmInput('b'));
    await cw.handle('DeleteAlarms', { AlarmNames: ['a'] });

    expect(states(await history(cw, { AlarmName: 'a' }))).toEqual([['a', 'INSUFFICIENT_DATA', 'OK']]);
    expect(states(await history(cw, {})).map(([name]) => name)).toEqual(['b', 'a']);
  });

  it('answers metric alarms only unless AlarmTypes asks for composite ones', async () => {
    const { cw } = setup();
    await cw.handle('PutMetricAlarm', alarmInput('child'));
    await cw.handle('PutCompositeAlarm', { AlarmName: 'parent', AlarmRule: 'ALARM("child")' });

    expect(states(await history(cw, {})).map(([name]) => name)).toEqual(['child']);
    expect(
      states(await history(cw, { AlarmTypes: ['CompositeAlarm'] })).map(([name, , to]) => [name, to]),
    ).toEqual([['parent', 'OK']]);
  });

  it('pages by MaxRecords', async () => {
    const { ctx, cw } = setup();
    await cw.handle('PutMetricAlarm', alarmInput());
    for (const state of ['ALARM', 'OK']) {
      await ctx.fakeClock.tickAsync(MINUTE);
      await cw.handle('SetAlarmState', { AlarmName: 'web-5xx', StateValue: state, StateReason: 'test' });
    }

    const first = await history(cw, { AlarmName: 'web-5xx', MaxRecords: 2 });
    const second = await history(cw, { AlarmName: 'web-5xx', MaxRecords: 2, NextToken: first.NextToken });

    expect(states(first).map(([, , to]) => to)).toEqual(['OK', 'ALARM']);
    expect(states(second).map(([, , to]) => to)).toEqual(['OK']);
    expect(second.NextToken).toBeUndefined();
  });
});
