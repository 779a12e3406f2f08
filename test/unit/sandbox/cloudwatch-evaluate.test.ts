/**
 * The rows of both tables in "How alarm state is evaluated when data is missing":
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 * 0 is a non-breaching datapoint, X a breaching one and - a missing one (threshold 1, greater than).
 */
import type { StateValue } from '@aws-sdk/client-cloudwatch';
import { evaluateMetricAlarm, evaluationRange } from '../../../sandbox/services/cloudwatch/evaluate';

type Treatment = 'missing' | 'ignore' | 'breaching' | 'notBreaching';
const RETAIN = 'retain';

function evaluate(row: string, m: number, treatment: Treatment, current: StateValue = 'OK'): StateValue {
  const range = row.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 2 : 0));
  return evaluateMetricAlarm({
    range,
    evaluationPeriods: 3,
    datapointsToAlarm: m,
    threshold: 1,
    comparison: 'GreaterThanThreshold',
    treatMissingData: treatment,
    current,
  }).state;
}

function expectRow(row: string, m: number, expected: Record<Treatment, StateValue | typeof RETAIN>): void {
  for (const treatment of ['missing', 'ignore', 'breaching', 'notBreaching'] as const) {
    const want = expected[treatment];
    if (want === RETAIN) {
      expect([treatment, evaluate(row, m, treatment, 'OK')]).toEqual([treatment, 'OK']);
      expect([treatment, evaluate(row, m, treatment, 'ALARM')]).toEqual([treatment, 'ALARM']);
    } else {
      expect([treatment, evaluate(row, m, treatment)]).toEqual([treatment, want]);
    }
  }
}

describe('evaluateMetricAlarm', () => {
  it('retrieves two more datapoints than EvaluationPeriods, as in the guide (5 for 3)', () => {
    expect(evaluationRange(3)).toBe(5);
  });

  describe('3 out of 3 (first table)', () => {
    it('goes OK for 0 - X - X whatever the treatment (enough real datapoints)', () => {
      expectRow('0 - X - X', 3, { missing: 'OK', ignore: 'OK', breaching: 'OK', notBreaching: 'OK' });
    });
    it('goes OK for 0 - - - - even when missing data breaches (uses missing points as few times as possible)', () => {
      expectRow('0 - - - -', 3, { missing: 'OK', ignore: 'OK', breaching: 'OK', notBreaching: 'OK' });
    });
    it('goes INSUFFICIENT_DATA, retains, ALARM or OK when every datapoint is missing', () => {
      expectRow('- - - - -', 3, {
        missing: 'INSUFFICIENT_DATA',
        ignore: RETAIN,
        breaching: 'ALARM',
        notBreaching: 'OK',
      });
    });
    it('goes ALARM for 0 X X - X whatever the treatment', () => {
      expectRow('0 X X - X', 3, {
        missing: 'ALARM',
        ignore: 'ALARM',
        breaching: 'ALARM',
        notBreaching: 'ALARM',
      });
    });
    it('goes INSUFFICIENT_DATA for - - - - X when missing data is missing', () => {
      expectRow('- - - - X', 3, {
        missing: 'INSUFFICIENT_DATA',
        ignore: RETAIN,
        breaching: 'ALARM',
        notBreaching: 'OK',
      });
    });
    it('goes ALARM for X - - - - when missing data is missing (oldest evaluated datapoint breaches)', () => {
      expectRow('X - - - -', 3, { missing: 'ALARM', ignore: RETAIN, breaching: 'ALARM', notBreaching: 'OK' });
    });
  });

  describe('2 out of 3 (second table)', () => {
    it('goes ALARM for 0 - X - X', () => {
      expectRow('0 - X - X', 2, {
        missing: 'ALARM',
        ignore: 'ALARM',
        breaching: 'ALARM',
        notBreaching: 'ALARM',
      });
    });
    it('goes ALARM for 0 0 X 0 X', () => {
      expectRow('0 0 X 0 X', 2, {
        missing: 'ALARM',
        ignore: 'ALARM',
        breaching: 'ALARM',
        notBreaching: 'ALARM',
      });
    });
    it('goes ALARM for 0 - X - - only when missing data breaches', () => {
      expectRow('0 - X - -', 2, { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' });
    });
    it('goes ALARM for - - - - 0 only when missing data breaches', () => {
      expectRow('- - - - 0', 2, { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' });
    });
    it('goes INSUFFICIENT_DATA for - - - - X when missing data is missing', () => {
      expectRow('- - - - X', 2, {
        missing: 'INSUFFICIENT_DATA',
        ignore: RETAIN,
        breaching: 'ALARM',
        notBreaching: 'OK',
      });
    });
  });

  it('evaluates only the most recent N real datapoints when there are more', () => {
    expect(evaluate('X X 0 0 0', 1, 'missing')).toBe('OK');
  });
});
