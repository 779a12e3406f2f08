import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../../../shared/domain/zod';
import { AlarmEventSchema } from '../../../shared/events/alarm';
import { parseOrThrow } from '../../../shared/runtime/validation';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events/cloudwatch', name), 'utf8')) as Record<
    string,
    unknown
  >;

interface Detail {
  alarmName?: unknown;
  state: { value?: unknown; timestamp?: unknown };
}
const detailOf = (event: Record<string, unknown>) => event.detail as Detail;

describe('CloudWatch Alarm State Change (on-alarm’s event)', () => {
  describe('the documented shapes', () => {
    it.each([
      [
        'metric OK→ALARM (both pages)',
        'alarm-state-change-metric-ok-to-alarm.json',
        'ServerCpuTooHigh',
        'metric',
        'OK',
        '2019-10-02T17:04:40.989Z',
      ],
      [
        'metric math, previous state without reasonData (older page)',
        'alarm-state-change-metric-math-insufficient-data-to-alarm.json',
        'TotalNetworkTrafficTooHigh',
        'metric',
        'INSUFFICIENT_DATA',
        '2019-10-02T17:20:48.554Z',
      ],
      [
        'anomaly detection, state before configuration (older page)',
        'alarm-state-change-anomaly-ok-to-alarm.json',
        'EC2 CPU Utilization Anomaly',
        'metric',
        'OK',
        '2019-10-03T16:00:04.653Z',
      ],
      [
        'composite with suppressor and muteDetail (current page)',
        'alarm-state-change-composite-ok-to-alarm.json',
        'ServiceAggregatedAlarm',
        'composite',
        'OK',
        '2022-07-22T15:57:45.394Z',
      ],
      [
        'multi time series (current page)',
        'alarm-state-change-multi-time-series-insufficient-data-to-alarm.json',
        'DynamoDBInsightsAlarm',
        'metric',
        'INSUFFICIENT_DATA',
        '2025-12-01T13:42:04.919Z',
      ],
    ])('reads the %s', (_shape, file, alarmName, kind, previousState, at) => {
      const signal = parseOrThrow(AlarmEventSchema, fixture(file), 'alarm event');
      expect(signal).toMatchObject({
        alarmName,
        region: 'us-east-1',
        kind,
        state: 'ALARM',
        previousState,
        at: Date.parse(at),
      });
    });

    it('falls back to the envelope’s time when the state carries none', () => {
      const event = fixture('alarm-state-change-metric-ok-to-alarm.json');
      delete detailOf(event).state.timestamp;
      expect(parseOrThrow(AlarmEventSchema, event, 'alarm event').at).toBe(
        Date.parse('2019-10-02T17:04:40Z'),
      );
    });
  });

  describe('bad events', () => {
    const refusal = (event: unknown) => {
      const result = z.safeParse(AlarmEventSchema, event);
      if (result.success) throw new Error('expected a refusal');
      return result.error.issues.map((issue) => issue.path.join('.'));
    };

    it('refuses an event without an alarm name, naming detail.alarmName', () => {
      const event = fixture('alarm-state-change-metric-ok-to-alarm.json');
      delete detailOf(event).alarmName;
      expect(refusal(event)).toEqual(['detail.alarmName']);
    });

    it('refuses a state CloudWatch does not have, naming detail.state.value', () => {
      const event = fixture('alarm-state-change-composite-ok-to-alarm.json');
      detailOf(event).state.value = 'FIRING';
      expect(refusal(event)).toEqual(['detail.state.value']);
    });

    it('refuses an event with no time anywhere, naming detail.state.timestamp', () => {
      const event = fixture('alarm-state-change-metric-ok-to-alarm.json');
      detailOf(event).state.timestamp = 'yesterday';
      event.time = 'yyyy-mm-ddThh:mm:ssZ';
      expect(refusal(event)).toEqual(['detail.state.timestamp']);
    });

    it('refuses another source using the detail-type, naming source', () => {
      const event = fixture('alarm-state-change-metric-ok-to-alarm.json');
      event.source = 'my.ci';
      expect(refusal(event)).toEqual(['source']);
    });
  });
});
