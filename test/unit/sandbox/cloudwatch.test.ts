import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  MissingRequiredParameterException,
  ResourceNotFound,
} from '@aws-sdk/client-cloudwatch';
import type { PutMetricAlarmInput } from '@aws-sdk/client-cloudwatch';
import { CloudWatchSim } from '../../../sandbox/services/cloudwatch';
import { createTestContext, SANDBOX_EPOCH } from '../../../sandbox/core/testing';
import type { TestSimContext } from '../../../sandbox/core/testing';

const MINUTE = 60_000;
const sample = JSON.parse(
  readFileSync(
    join(__dirname, '../../fixtures/events/cloudwatch/alarm-state-change-metric-ok-to-alarm.json'),
    'utf8',
  ),
) as Record<string, unknown> & { detail: Record<string, Record<string, unknown>> };

function alarmInput(overrides: Partial<PutMetricAlarmInput> = {}): PutMetricAlarmInput {
  return {
    AlarmName: 'web-5xx',
    Namespace: 'Kiln/Test',
    MetricName: 'Errors',
    Dimensions: [{ Name: 'Service', Value: 'web' }],
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: 5,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    ...overrides,
  };
}

describe('CloudWatchSim', () => {
  let ctx: TestSimContext;
  let cw: CloudWatchSim;

  beforeEach(() => {
    ctx = createTestContext(7);
    cw = new CloudWatchSim(ctx);
  });

  /** Publishes one datapoint inside the given minute (minutes since the sandbox epoch). */
  function publish(minute: number, value: number): void {
    cw.ingest('Kiln/Test', [
      {
        MetricName: 'Errors',
        Dimensions: [{ Name: 'Service', Value: 'web' }],
        Timestamp: new Date(SANDBOX_EPOCH + minute * MINUTE + 5_000),
        Value: value,
      },
    ]);
  }

  describe('metrics', () => {
    it('aggregates PutMetricData values into period statistics', async () => {
      await cw.handle('PutMetricData', {
        Namespace: 'Kiln/Test',
        MetricData: [
          { MetricName: 'Latency', Value: 1, Timestamp: new Date(SANDBOX_EPOCH + 1_000) },
          { MetricName: 'Latency', Value: 3, Timestamp: new Date(SANDBOX_EPOCH + 2_000) },
        ],
      });
      const out = await cw.handle('GetMetricStatistics', {
        Namespace: 'Kiln/Test',
        MetricName: 'Latency',
        StartTime: new Date(SANDBOX_EPOCH),
        EndTime: new Date(SANDBOX_EPOCH + MINUTE),
        Period: 60,
        Statistics: ['Average', 'Sum', 'SampleCount', 'Maximum'],
      });
      expect(out).toEqual({
        Label: 'Latency',
        Datapoints: [{ Timestamp: new Date(SANDBOX_EPOCH), Average: 2, Sum: 4, SampleCount: 2, Maximum: 3 }],
      });
    });

    it('answers GetMetricData newest first', async () => {
      publish(0, 1);
      publish(1, 2);
      const out = await cw.handle('GetMetricData', {
        StartTime: new Date(SANDBOX_EPOCH),
        EndTime: new Date(SANDBOX_EPOCH + 2 * MINUTE),
        MetricDataQueries: [
          {
            Id: 'e',
            MetricStat: {
              Metric: {
                Namespace: 'Kiln/Test',
                MetricName: 'Errors',
                Dimensions: [{ Name: 'Service', Value: 'web' }],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      });
      expect(out).toMatchObject({ MetricDataResults: [{ Id: 'e', Values: [2, 1], StatusCode: 'Complete' }] });
    });

    it('rejects PutMetricData into a reserved AWS/ namespace', async () => {
      await expect(
        cw.handle('PutMetricData', { Namespace: 'AWS/EC2', MetricData: [{ MetricName: 'x', Value: 1 }] }),
      ).rejects.toBeInstanceOf(InvalidParameterValueException);
    });
  });

  describe('PutMetricAlarm validation', () => {
    it('rejects a Period that is not 10, 20, 30 or a multiple of 60', async () => {
      await expect(cw.handle('PutMetricAlarm', alarmInput({ Period: 45 }))).rejects.toThrow(/Period/);
    });

    it('rejects DatapointsToAlarm greater than EvaluationPeriods', async () => {
      await expect(cw.handle('PutMetricAlarm', alarmInput({ DatapointsToAlarm: 4 }))).rejects.toThrow(
        /DatapointsToAlarm/,
      );
    });

    it('rejects a sub-hour period whose evaluation window exceeds one day', async () => {
      await expect(
        cw.handle(
          'PutMetricAlarm',
          alarmInput({ Period: 60, EvaluationPeriods: 1441, DatapointsToAlarm: 1 }),
        ),
      ).rejects.toBeInstanceOf(InvalidParameterValueException);
    });

    it('rejects an alarm without a ComparisonOperator, naming the field', async () => {
      const input = alarmInput();
      delete input.ComparisonOperator;
      await expect(cw.handle('PutMetricAlarm', input)).rejects.toThrow(MissingRequiredParameterException);
      await expect(cw.handle('PutMetricAlarm', input)).rejects.toThrow(/ComparisonOperator/);
    });
  });

  describe('metric alarm evaluation', () => {
    it('starts in INSUFFICIENT_DATA and is evaluated at once on creation', async () => {
      await cw.handle('PutMetricAlarm', alarmInput());
      expect(ctx.entries.filter((e) => e.kind === 'state').map((e) => ('to' in e ? e.to : ''))).toEqual([
        'INSUFFICIENT_DATA',
        'OK',
      ]);
      expect(cw.alarmState('web-5xx')).toBe('OK');
    });

    it('goes to ALARM only once M of the last N periods breach (2 of 3)', async () => {
      await cw.handle('PutMetricAlarm', alarmInput());
      publish(0, 10);
      publish(1, 10);
      await ctx.fakeClock.tickAsync(2 * MINUTE + 9_999);
      expect(cw.alarmState('web-5xx')).toBe('OK');
      await ctx.fakeClock.tickAsync(1);
      expect(cw.alarmState('web-5xx')).toBe('ALARM');
    });

    it('stays OK when only one of the last three periods breaches', async () => {
      await cw.handle('PutMetricAlarm', alarmInput());
      publish(0, 10);
      publish(1, 1);
      publish(2, 1);
      await ctx.fakeClock.tickAsync(4 * MINUTE);
      expect(cw.alarmState('web-5xx')).toBe('OK');
    });

    it('evaluates once per period, not more often', async () => {
      await cw.handle(
        'PutMetricAlarm',
        alarmInput({ Period: 300, EvaluationPeriods: 1, DatapointsToAlarm: 1 }),
      );
      publish(0, 10);
      await ctx.fakeClock.tickAsync(5 * MINUTE + 9_999);
      expect(cw.alarmState('web-5xx')).toBe('OK');
      await ctx.fakeClock.tickAsync(1);
      expect(cw.alarmState('web-5xx')).toBe('ALARM');
    });

    it('treats missing data as breaching when told to', async () => {
      await cw.handle('PutMetricAlarm', alarmInput({ TreatMissingData: 'breaching' }));
      expect(cw.alarmState('web-5xx')).toBe('ALARM');
    });

    it('goes INSUFFICIENT_DATA when all data is missing and missing data is missing', async () => {
      await cw.handle('PutMetricAlarm', alarmInput({ TreatMissingData: 'missing' }));
      expect(cw.alarmState('web-5xx')).toBe('INSUFFICIENT_DATA');
      expect(ctx.events).toHaveLength(0);
    });

    it('keeps its state through missing data when missing data is ignored', async () => {
      await cw.handle('PutMetricAlarm', alarmInput({ TreatMissingData: 'ignore' }));
      publish(0, 10);
      publish(1, 10);
      await ctx.fakeClock.tickAsync(2 * MINUTE + 10_000);
      expect(cw.alarmState('web-5xx')).toBe('ALARM');
      await ctx.fakeClock.tickAsync(10 * MINUTE);
      expect(cw.alarmState('web-5xx')).toBe('ALARM');
    });

    it('keeps the state when an existing alarm is updated', async () => {
      await cw.handle('PutMetricAlarm', alarmInput({ TreatMissingData: 'breaching' }));
      await cw.handle(
        'PutMetricAlarm',
        alarmInput({ TreatMissingData: 'breaching', AlarmDescription: 'new' }),
      );
      const out = await cw.handle('DescribeAlarms', { AlarmNames: ['web-5xx'] });
      expect(out).toMatchObject({ MetricAlarms: [{ StateValue: 'ALARM', AlarmDescription: 'new' }] });
    });
  });

  describe('CloudWatch Alarm State Change events', () => {
    it('carry the documented sample shape for a metric alarm', async () => {
      await cw.handle('PutMetricAlarm', alarmInput({ AlarmDescription: 'too many 5xx' }));
      publish(0, 10);
      publish(1, 10);
      await ctx.fakeClock.tickAsync(2 * MINUTE + 10_000);
      const event = ctx.events.at(-1);
      if (!event) throw new Error('no event');
      expect(Object.keys(event).sort()).toEqual(Object.keys(sample).sort());
      expect(Object.keys(event.detail).sort()).toEqual(Object.keys(sample.detail).sort());
      for (const part of ['state', 'previousState', 'configuration'] as const) {
        expect([part, Object.keys(event.detail[part] as object).sort()]).toEqual([
          part,
          Object.keys(sample.detail[part] as object).sort(),
        ]);
      }
      expect(event).toMatchObject({
        'detail-type': 'CloudWatch Alarm State Change',
        source: 'aws.cloudwatch',
        resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx'],
        detail: {
          alarmName: 'web-5xx',
          previousState: { value: 'OK' },
          state: { value: 'ALARM' },
          configuration: {
            metrics: [
              {
                metricStat: {
                  metric: { dimensions: { Service: 'web' }, name: 'Errors', namespace: 'Kiln/Test' },
                  period: 60,
                  stat: 'Sum',
                },
                returnData: true,
              },
            ],
          },
        },
      });
      const state = event.detail.state as { reason: string; reasonData: string; timestamp: string };
      expect(state.reason).toMatch(
        /^Threshold Crossed: 2 out of the last 3 datapoints \[10 \(01\/01\/26 00:01:00\), 10 \(01\/01\/26 00:00:00\)\] was greater than the threshold \(5\.0\)/,
      );
      expect(state.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
      expect(JSON.parse(state.reasonData)).toMatchObject({
        version: '1.0',
        statistic: 'Sum',
        period: 60,
        threshold: 5,
      });
    });
  });

  describe('SetAlarmState', () => {
    it('holds a metric alarm only until its next evaluation', async () => {
      await cw.handle('PutMetricAlarm', alarmInput());
      await cw.handle('SetAlarmState', { AlarmName: 'web-5xx', StateValue: 'ALARM', StateReason: 'testing' });
      expect(cw.alarmState('web-5xx')).toBe('ALARM');
      await ctx.fakeClock.tickAsync(10_000);
      expect(cw.alarmState('web-5xx')).toBe('OK');
      expect(ctx.events.map((e) => (e.detail.state as { value: string }).value)).toEqual([
        'OK',
        'ALARM',
        'OK',
      ]);
    });

    it('rejects an unknown alarm with ResourceNotFound', async () => {
      await expect(
        cw.handle('SetAlarmState', { AlarmName: 'nope', StateValue: 'ALARM', StateReason: 'x' }),
      ).rejects.toBeInstanceOf(ResourceNotFound);
    });

    it('rejects StateReasonData that is not JSON', async () => {
      await cw.handle('PutMetricAlarm', alarmInput());
      await expect(
        cw.handle('SetAlarmState', {
          AlarmName: 'web-5xx',
          StateValue: 'ALARM',
          StateReason: 'x',
          StateReasonData: '{',
        }),
      ).rejects.toThrow(/StateReasonData/);
    });
  });

  describe('composite alarms', () => {
    beforeEach(async () => {
      await cw.handle('PutMetricAlarm', alarmInput({ AlarmName: 'errors' }));
      await cw.handle('PutMetricAlarm', alarmInput({ AlarmName: 'deploying' }));
    });

    it('goes to ALARM when its rule becomes true through a child state change', async () => {
      await cw.handle('PutCompositeAlarm', {
        AlarmName: 'rollback',
        AlarmRule: 'ALARM(errors) AND NOT ALARM(deploying)',
      });
      expect(cw.alarmState('rollback')).toBe('OK');
      await cw.handle('SetAlarmState', { AlarmName: 'errors', StateValue: 'ALARM', StateReason: 'test' });
      expect(cw.alarmState('rollback')).toBe('ALARM');
      const event = ctx.events.at(-1);
      expect(event?.detail).toMatchObject({
        alarmName: 'rollback',
        configuration: { alarmRule: 'ALARM(errors) AND NOT ALARM(deploying)' },
        state: { value: 'ALARM' },
      });
      expect(JSON.parse((event?.detail.state as { reasonData: string }).reasonData)).toEqual({
        triggeringAlarms: [
          {
            arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors',
            state: { value: 'ALARM', timestamp: expect.any(String) },
          },
        ],
      });
    });

    it('keeps a state set by SetAlarmState until a child changes state', async () => {
      await cw.handle('PutCompositeAlarm', { AlarmName: 'rollback', AlarmRule: 'ALARM(errors)' });
      await cw.handle('SetAlarmState', { AlarmName: 'rollback', StateValue: 'ALARM', StateReason: 'test' });
      await ctx.fakeClock.tickAsync(5 * MINUTE);
      expect(cw.alarmState('rollback')).toBe('ALARM');
      await cw.handle('SetAlarmState', { AlarmName: 'errors', StateValue: 'ALARM', StateReason: 'test' });
      await ctx.fakeClock.tickAsync(MINUTE);
      expect(cw.alarmState('rollback')).toBe('OK');
    });

    it('rejects a rule naming an alarm that does not exist', async () => {
      await expect(
        cw.handle('PutCompositeAlarm', { AlarmName: 'rollback', AlarmRule: 'ALARM(ghost)' }),
      ).rejects.toThrow(/ghost/);
    });

    it('rejects a rule with a syntax error, naming AlarmRule', async () => {
      await expect(
        cw.handle('PutCompositeAlarm', { AlarmName: 'rollback', AlarmRule: 'ALARM(errors) AND' }),
      ).rejects.toThrow(/AlarmRule/);
    });
  });

  describe('DescribeAlarms and DeleteAlarms', () => {
    beforeEach(async () => {
      await cw.handle('PutMetricAlarm', alarmInput({ AlarmName: 'web-5xx' }));
      await cw.handle(
        'PutMetricAlarm',
        alarmInput({ AlarmName: 'web-latency', TreatMissingData: 'breaching' }),
      );
      await cw.handle('PutCompositeAlarm', { AlarmName: 'web-rollback', AlarmRule: 'ALARM("web-5xx")' });
    });

    it('returns only metric alarms when AlarmTypes is omitted', async () => {
      const out = (await cw.handle('DescribeAlarms', { AlarmNamePrefix: 'web-' })) as {
        MetricAlarms: unknown[];
      };
      expect(out).not.toHaveProperty('CompositeAlarms');
      expect(out.MetricAlarms).toHaveLength(2);
    });

    it('filters by StateValue and AlarmTypes', async () => {
      const out = await cw.handle('DescribeAlarms', {
        StateValue: 'OK',
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
      });
      expect(out).toMatchObject({
        MetricAlarms: [{ AlarmName: 'web-5xx' }],
        CompositeAlarms: [{ AlarmName: 'web-rollback', AlarmRule: 'ALARM("web-5xx")' }],
      });
    });

    it('rejects AlarmNames together with AlarmNamePrefix', async () => {
      await expect(
        cw.handle('DescribeAlarms', { AlarmNames: ['web-5xx'], AlarmNamePrefix: 'web' }),
      ).rejects.toBeInstanceOf(InvalidParameterCombinationException);
    });

    it('deletes the alarms it knows and ignores unknown names', async () => {
      await cw.handle('DeleteAlarms', { AlarmNames: ['web-latency', 'nope'] });
      expect(cw.alarmState('web-latency')).toBeUndefined();
      expect(cw.alarmState('web-5xx')).toBe('OK');
    });
  });
});
