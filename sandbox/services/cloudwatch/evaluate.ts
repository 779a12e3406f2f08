/**
 * Metric alarm evaluation as "Evaluating an alarm" and "How alarm state is evaluated when data is
 * missing" describe it:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 *
 * CloudWatch retrieves more datapoints than EvaluationPeriods (the evaluation range); the guide's
 * tables use EvaluationPeriods + 2 datapoints for EvaluationPeriods = 3, and we use N + 2 for every
 * alarm (AWS does not publish the exact range). Each row of both tables in that guide is a unit
 * test in test/unit/sandbox/cloudwatch-evaluate.test.ts.
 */
import type { ComparisonOperator, StateValue } from '@aws-sdk/client-cloudwatch';

export interface EvaluationInput {
  /** Datapoints of the evaluation range, oldest first; undefined marks a missing datapoint. */
  range: ReadonlyArray<number | undefined>;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: ComparisonOperator;
  treatMissingData: 'missing' | 'ignore' | 'breaching' | 'notBreaching';
  current: StateValue;
}

export interface EvaluationResult {
  state: StateValue;
  /** The real datapoints that decided the state, newest first (for the state reason). */
  evaluated: number[];
  breachingCount: number;
}

export function evaluationRange(evaluationPeriods: number): number {
  return evaluationPeriods + 2;
}

export function isBreaching(value: number, comparison: ComparisonOperator, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      // Anomaly-detection operators need a band metric, which the sandbox does not model.
      throw new RangeError(`unsupported ComparisonOperator ${comparison}`);
  }
}

export function evaluateMetricAlarm(input: EvaluationInput): EvaluationResult {
  const { range, evaluationPeriods: n, datapointsToAlarm: m, current } = input;
  const breaches = (v: number): boolean => isBreaching(v, input.comparison, input.threshold);
  const realNewestFirst = range.filter((v): v is number => v !== undefined).reverse();

  // Enough real datapoints: the most recent N of them decide, and missing-data treatment is unused.
  if (realNewestFirst.length >= n) {
    const evaluated = realNewestFirst.slice(0, n);
    const breachingCount = evaluated.filter(breaches).length;
    return { state: breachingCount >= m ? 'ALARM' : 'OK', evaluated, breachingCount };
  }

  // Too few: every real datapoint counts, and (N - real) missing ones are filled per the treatment.
  const evaluated = realNewestFirst;
  const realBreaching = evaluated.filter(breaches).length;
  const filled = n - evaluated.length;
  const anyNotBreaching = realBreaching < evaluated.length;
  switch (input.treatMissingData) {
    case 'breaching': {
      const breachingCount = realBreaching + filled;
      return { state: breachingCount >= m ? 'ALARM' : 'OK', evaluated, breachingCount };
    }
    case 'notBreaching':
      return { state: realBreaching >= m ? 'ALARM' : 'OK', evaluated, breachingCount: realBreaching };
    case 'ignore':
      if (realBreaching >= m) return { state: 'ALARM', evaluated, breachingCount: realBreaching };
      if (anyNotBreaching) return { state: 'OK', evaluated, breachingCount: realBreaching };
      return { state: current, evaluated, breachingCount: realBreaching };
    default: {
      // 'missing' (the default). The guide's sixth row (X - - - -) goes to ALARM: a breaching
      // datapoint at least M periods old with nothing but missing data after it.
      if (realBreaching >= m) return { state: 'ALARM', evaluated, breachingCount: realBreaching };
      if (anyNotBreaching) return { state: 'OK', evaluated, breachingCount: realBreaching };
      if (evaluated.length === 0) return { state: 'INSUFFICIENT_DATA', evaluated, breachingCount: 0 };
      let oldestAge = 0;
      range.forEach((v, index) => {
        if (v !== undefined && oldestAge === 0) oldestAge = range.length - index;
      });
      return {
        state: oldestAge >= m ? 'ALARM' : 'INSUFFICIENT_DATA',
        evaluated,
        breachingCount: realBreaching,
      };
    }
  }
}
