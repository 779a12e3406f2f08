/**
 * Simulated Amazon CloudWatch: metric storage and statistics, metric alarms evaluated once per
 * period on the virtual clock, composite alarms, and "CloudWatch Alarm State Change" events.
 *
 * Evaluation rules live in ./cloudwatch/evaluate.ts and the composite rule language in
 * ./cloudwatch/alarm-rule.ts; each cites the documentation it follows.
 */
import {
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  MissingRequiredParameterException,
  ResourceNotFound,
} from '@aws-sdk/client-cloudwatch';
import type {
  CompositeAlarm,
  Datapoint,
  DeleteAlarmsInput,
  DescribeAlarmHistoryInput,
  DescribeAlarmsInput,
  DescribeAlarmsOutput,
  Dimension,
  GetMetricDataInput,
  GetMetricDataOutput,
  GetMetricStatisticsInput,
  GetMetricStatisticsOutput,
  MetricAlarm,
  MetricDatum,
  PutCompositeAlarmInput,
  PutMetricAlarmInput,
  PutMetricDataInput,
  SetAlarmStateInput,
  StateValue,
  Statistic,
} from '@aws-sdk/client-cloudwatch';
import type { SimContext, SimService, TimerHandle, VirtualMs } from '../core/context';
import {
  AlarmRuleSyntaxError,
  evaluateAlarmRule,
  parseAlarmRule,
  referencedAlarms,
} from './cloudwatch/alarm-rule';
import type { AlarmRule } from './cloudwatch/alarm-rule';
import { AlarmHistory } from './cloudwatch/history';
import { evaluateMetricAlarm, evaluationRange } from './cloudwatch/evaluate';
import { dispatch, operation, type OperationTable } from './shared';

export interface CloudWatchSimOptions {
  /**
   * How long after a period closes its alarm is evaluated. AWS evaluates a closed period shortly
   * after it ends (the documented sample event queries at 17:04:40 a period that ended at 17:04:00);
   * the lag also orders evaluation after producers that publish at the period boundary.
   */
  evaluationLagMs?: number;
}

/** What producers inside the sandbox (ELBv2) use to publish metrics without an SDK round trip. */
export interface MetricSink {
  ingest(namespace: string, data: readonly MetricDatum[]): void;
}

interface Sample {
  t: VirtualMs;
  sampleCount: number;
  sum: number;
  min: number;
  max: number;
}

interface MetricAlarmRecord {
  type: 'metric';
  name: string;
  arn: string;
  input: PutMetricAlarmInput;
  datapointsToAlarm: number;
  treatMissingData: string;
  metricId: string;
  state: StateValue;
  stateReason: string;
  stateReasonData?: string;
  stateUpdated: VirtualMs;
  configUpdated: VirtualMs;
  timer?: TimerHandle;
  /** Repeats the alarm's Auto Scaling actions while it stays in its state. */
  actionTimer?: TimerHandle;
}

interface CompositeAlarmRecord {
  type: 'composite';
  name: string;
  arn: string;
  input: PutCompositeAlarmInput;
  rule: AlarmRule;
  state: StateValue;
  stateReason: string;
  stateReasonData?: string;
  stateUpdated: VirtualMs;
  configUpdated: VirtualMs;
  actionTimer?: TimerHandle;
}

type AlarmRecord = MetricAlarmRecord | CompositeAlarmRecord;

const STATISTICS: readonly Statistic[] = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
const COMPARISONS = new Set([
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
]);
const TREATMENTS = new Set(['missing', 'ignore', 'breaching', 'notBreaching']);
const STATES = new Set<string>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

function invalid(message: string): InvalidParameterValueException {
  return new InvalidParameterValueException({ message, $metadata: { httpStatusCode: 400 } });
}
function missing(field: string): MissingRequiredParameterException {
  return new MissingRequiredParameterException({
    message: `The parameter ${field} is required.`,
    $metadata: { httpStatusCode: 400 },
  });
}

function metricKey(namespace: string, name: string, dimensions: readonly Dimension[] | undefined): string {
  const dims = [...(dimensions ?? [])]
    .map((d) => `${d.Name ?? ''}=${d.Value ?? ''}`)
    .sort()
    .join(',');
  return `${namespace}|${name}|${dims}`;
}

function statisticOf(samples: readonly Sample[], statistic: Statistic): number {
  const count = samples.reduce((n, s) => n + s.sampleCount, 0);
  const sum = samples.reduce((n, s) => n + s.sum, 0);
  switch (statistic) {
    case 'SampleCount':
      return count;
    case 'Sum':
      return sum;
    case 'Average':
      return count === 0 ? 0 : sum / count;
    case 'Minimum':
      return Math.min(...samples.map((s) => s.min));
    case 'Maximum':
      return Math.max(...samples.map((s) => s.max));
  }
}

/** CloudWatch's timestamp style inside alarm events and reason data: 2019-10-02T17:04:40.989+0000. */
function eventTimestamp(ms: VirtualMs): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** The reason text's datapoint time style: (02/10/19 16:59:00), day/month/two-digit year. */
function reasonTime(ms: VirtualMs): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

const COMPARISON_WORDS: Record<string, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/**
 * Runs one Auto Scaling action of an alarm: the scaling policy `policyArn` (Auto Scaling's part),
 * with how far the alarm's newest datapoint lies from its threshold (step scaling picks its step
 * by it).
 */
export type AutoScalingActionRunner = (policyArn: string, alarm: { name: string; breach?: number }) => void;

/** An alarm action that names an Auto Scaling policy (`arn:aws:autoscaling:…:scalingPolicy:…`). */
const AUTO_SCALING_ACTION = /^arn:aws[a-z-]*:autoscaling:[^:]*:\d*:scalingPolicy:/;

/** How often an alarm repeats an Auto Scaling action while it stays in the state that has it. */
const AUTO_SCALING_ACTION_REPEAT_MS = 60_000;

export class CloudWatchSim implements SimService, MetricSink {
  readonly serviceId = 'CloudWatch';
  private readonly metrics = new Map<string, Sample[]>();
  private readonly alarms = new Map<string, AlarmRecord>();
  private readonly history = new AlarmHistory();
  private readonly evaluationLagMs: number;
  private autoScalingActions: AutoScalingActionRunner | undefined;

  constructor(
    private readonly ctx: SimContext,
    options: CloudWatchSimOptions = {},
  ) {
    this.evaluationLagMs = options.evaluationLagMs ?? 10_000;
  }

  handle(operation: string, input: unknown): Promise<object> {
    return dispatch(this.operations, operation, input, (name) =>
      invalid(`The sandbox's CloudWatch does not implement ${name}`),
    );
  }

  /** Every operation the sandbox's CloudWatch answers. */
  private readonly operations: OperationTable = {
    PutMetricData: operation((input: PutMetricDataInput) => this.putMetricData(input)),
    GetMetricStatistics: operation((input: GetMetricStatisticsInput) => this.getMetricStatistics(input)),
    GetMetricData: operation((input: GetMetricDataInput) => this.getMetricData(input)),
    PutMetricAlarm: operation((input: PutMetricAlarmInput) => this.putMetricAlarm(input)),
    PutCompositeAlarm: operation((input: PutCompositeAlarmInput) => this.putCompositeAlarm(input)),
    DescribeAlarms: operation((input: DescribeAlarmsInput) => this.describeAlarms(input)),
    SetAlarmState: operation((input: SetAlarmStateInput) => this.setAlarmState(input)),
    DeleteAlarms: operation((input: DeleteAlarmsInput) => this.deleteAlarms(input)),
    DescribeAlarmHistory: operation((input: DescribeAlarmHistoryInput) => this.history.describe(input)),
  };

  /** The alarm's current state, for Auto Scaling's instance refresh AlarmSpecification. */
  alarmState(name: string): StateValue | undefined {
    return this.alarms.get(name)?.state;
  }

  /** Where alarms send their Auto Scaling actions (the region wires Auto Scaling's policies). */
  onAutoScalingAction(runner: AutoScalingActionRunner): void {
    this.autoScalingActions = runner;
  }

  /**
   * Runs the Auto Scaling actions of the alarm's new state, then again every minute while it stays
   * in that state: "Except for Auto Scaling actions, the actions happen only on state transitions"
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html), and "an
   * alarm invokes an Auto Scaling action once each minute when the alarm remains in a new state,
   * regardless of the configured time period"
   * (https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm). Composite alarms
   * cannot have Auto Scaling actions
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/US_AlarmAutoScalingAction.html);
   * `ActionsEnabled: false` stops every action.
   */
  private startAutoScalingActions(alarm: AlarmRecord): void {
    if (alarm.actionTimer) this.ctx.clock.clearTimeout(alarm.actionTimer);
    delete alarm.actionTimer;
    if (alarm.type !== 'metric' || this.autoScalingActions === undefined) return;
    const state = alarm.state;
    const run = (): void => {
      delete alarm.actionTimer;
      if (this.alarms.get(alarm.name) !== alarm || alarm.state !== state) return;
      // Read each time: an update of the alarm (PutMetricAlarm) changes its actions, not its state.
      const policies = this.autoScalingActionsOf(alarm);
      if (policies.length === 0) return;
      const breach = this.breachOf(alarm);
      for (const policyArn of policies) {
        this.autoScalingActions?.(policyArn, {
          name: alarm.name,
          ...(breach === undefined ? {} : { breach }),
        });
      }
      alarm.actionTimer = this.ctx.clock.setTimeout(run, AUTO_SCALING_ACTION_REPEAT_MS);
    };
    run();
  }

  private autoScalingActionsOf(alarm: MetricAlarmRecord): string[] {
    if (alarm.input.ActionsEnabled === false) return [];
    const actions =
      alarm.state === 'ALARM'
        ? alarm.input.AlarmActions
        : alarm.state === 'OK'
          ? alarm.input.OKActions
          : alarm.input.InsufficientDataActions;
    return (actions ?? []).filter((action) => AUTO_SCALING_ACTION.test(action));
  }

  /** The newest evaluated datapoint minus the threshold, from the state's reason data. */
  private breachOf(alarm: MetricAlarmRecord): number | undefined {
    if (alarm.stateReasonData === undefined) return undefined;
    try {
      const data = JSON.parse(alarm.stateReasonData) as { recentDatapoints?: unknown; threshold?: unknown };
      const points = Array.isArray(data.recentDatapoints) ? data.recentDatapoints : [];
      const newest: unknown = points[points.length - 1];
      return typeof newest === 'number' ? newest - (alarm.input.Threshold ?? 0) : undefined;
    } catch {
      return undefined;
    }
  }

  ingest(namespace: string, data: readonly MetricDatum[]): void {
    const now = this.ctx.clock.now();
    data.forEach((datum, index) => {
      if (!datum.MetricName) throw missing(`MetricData.member.${index + 1}.MetricName`);
      const t = datum.Timestamp ? datum.Timestamp.getTime() : now;
      let sample: Sample;
      if (datum.StatisticValues) {
        const s = datum.StatisticValues;
        if (
          s.SampleCount === undefined ||
          s.Sum === undefined ||
          s.Minimum === undefined ||
          s.Maximum === undefined
        ) {
          throw missing(
            `MetricData.member.${index + 1}.StatisticValues (SampleCount, Sum, Minimum, Maximum)`,
          );
        }
        sample = { t, sampleCount: s.SampleCount, sum: s.Sum, min: s.Minimum, max: s.Maximum };
      } else if (datum.Value !== undefined) {
        if (!Number.isFinite(datum.Value))
          throw invalid(`MetricData.member.${index + 1}.Value must be a finite number`);
        sample = { t, sampleCount: 1, sum: datum.Value, min: datum.Value, max: datum.Value };
      } else {
        throw missing(`MetricData.member.${index + 1}.Value`);
      }
      const key = metricKey(namespace, datum.MetricName, datum.Dimensions);
      const list = this.metrics.get(key) ?? [];
      list.push(sample);
      this.metrics.set(key, list);
    });
  }

  private putMetricData(input: PutMetricDataInput): object {
    if (!input.Namespace) throw missing('Namespace');
    // "AWS/" is reserved for AWS services' own metrics.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
    if (input.Namespace.startsWith('AWS/'))
      throw invalid('The value AWS/ for parameter Namespace is invalid.');
    this.ingest(input.Namespace, input.MetricData ?? []);
    return {};
  }

  /** Samples of one metric in [start, end), grouped into period buckets aligned to the epoch. */
  private buckets(
    namespace: string,
    name: string,
    dimensions: readonly Dimension[] | undefined,
    start: VirtualMs,
    end: VirtualMs,
    periodMs: number,
  ): Map<number, Sample[]> {
    const out = new Map<number, Sample[]>();
    for (const sample of this.metrics.get(metricKey(namespace, name, dimensions)) ?? []) {
      if (sample.t < start || sample.t >= end) continue;
      const bucket = Math.floor(sample.t / periodMs) * periodMs;
      const list = out.get(bucket) ?? [];
      list.push(sample);
      out.set(bucket, list);
    }
    return out;
  }

  private getMetricStatistics(input: GetMetricStatisticsInput): GetMetricStatisticsOutput {
    if (!input.Namespace) throw missing('Namespace');
    if (!input.MetricName) throw missing('MetricName');
    if (!input.StartTime) throw missing('StartTime');
    if (!input.EndTime) throw missing('EndTime');
    if (!input.Period) throw missing('Period');
    if (!input.Statistics?.length && !input.ExtendedStatistics?.length) throw missing('Statistics');
    if (input.ExtendedStatistics?.length)
      throw invalid("The sandbox's CloudWatch does not compute ExtendedStatistics");
    const periodMs = input.Period * 1000;
    const buckets = this.buckets(
      input.Namespace,
      input.MetricName,
      input.Dimensions,
      input.StartTime.getTime(),
      input.EndTime.getTime(),
      periodMs,
    );
    const statistics = input.Statistics ?? [];
    const datapoints: Datapoint[] = [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([t, samples]) => {
        const point: Datapoint = { Timestamp: new Date(t) };
        for (const statistic of statistics) point[statistic] = statisticOf(samples, statistic);
        if (input.Unit) point.Unit = input.Unit;
        return point;
      });
    return { Label: input.MetricName, Datapoints: datapoints };
  }

  private getMetricData(input: GetMetricDataInput): GetMetricDataOutput {
    if (!input.MetricDataQueries?.length) throw missing('MetricDataQueries');
    if (!input.StartTime) throw missing('StartTime');
    if (!input.EndTime) throw missing('EndTime');
    const start = input.StartTime.getTime();
    const end = input.EndTime.getTime();
    return {
      MetricDataResults: input.MetricDataQueries.map((query, index) => {
        const field = `MetricDataQueries.member.${index + 1}`;
        if (!query.Id) throw missing(`${field}.Id`);
        const stat = query.MetricStat;
        if (!stat) throw invalid(`${field}: the sandbox's CloudWatch supports MetricStat queries only`);
        const metric = stat.Metric;
        if (!metric?.Namespace || !metric.MetricName) throw missing(`${field}.MetricStat.Metric`);
        if (!stat.Period) throw missing(`${field}.MetricStat.Period`);
        if (!STATISTICS.includes(stat.Stat as Statistic)) {
          throw invalid(`${field}.MetricStat.Stat must be one of ${STATISTICS.join(', ')}`);
        }
        const buckets = [
          ...this.buckets(
            metric.Namespace,
            metric.MetricName,
            metric.Dimensions,
            start,
            end,
            stat.Period * 1000,
          ),
        ];
        // Newest first is GetMetricData's default ScanBy (TimestampDescending).
        buckets.sort(([a], [b]) => (input.ScanBy === 'TimestampAscending' ? a - b : b - a));
        return {
          Id: query.Id,
          Label: query.Label ?? metric.MetricName,
          Timestamps: buckets.map(([t]) => new Date(t)),
          Values: buckets.map(([, samples]) => statisticOf(samples, stat.Stat as Statistic)),
          StatusCode: 'Complete',
        };
      }),
    };
  }

  private arnOf(name: string): string {
    return `arn:aws:cloudwatch:${this.ctx.region}:${this.ctx.accountId}:alarm:${name}`;
  }

  private validateAlarmName(name: string | undefined): string {
    if (!name) throw missing('AlarmName');
    if (name.length > 255) throw invalid('AlarmName must be at most 255 characters');
    // "Alarm names must contain only ASCII characters."
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    if (!/^[\x20-\x7e]+$/.test(name)) throw invalid('AlarmName must contain only ASCII characters');
    return name;
  }

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
  private putMetricAlarm(input: PutMetricAlarmInput): object {
    const name = this.validateAlarmName(input.AlarmName);
    if (input.Metrics?.length)
      throw invalid("Metrics: the sandbox's CloudWatch supports single-metric alarms only");
    if (!input.Namespace) throw missing('Namespace');
    if (!input.MetricName) throw missing('MetricName');
    if (input.Statistic === undefined && input.ExtendedStatistic === undefined) throw missing('Statistic');
    if (input.Statistic !== undefined && input.ExtendedStatistic !== undefined) {
      throw new InvalidParameterCombinationException({
        message: 'Exactly one of Statistic or ExtendedStatistic must be specified.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    if (input.ExtendedStatistic !== undefined)
      throw invalid("ExtendedStatistic: not computed by the sandbox's CloudWatch");
    if (!STATISTICS.includes(input.Statistic as Statistic)) {
      throw invalid(`Statistic must be one of ${STATISTICS.join(', ')}`);
    }
    if (input.Period === undefined) throw missing('Period');
    // "Valid values are 10, 20, 30, and any multiple of 60."
    if (!(
      input.Period === 10 ||
      input.Period === 20 ||
      input.Period === 30 ||
      (input.Period > 0 && input.Period % 60 === 0)
    )) {
      throw invalid('Period must be 10, 20, 30 or a multiple of 60');
    }
    if (input.EvaluationPeriods === undefined) throw missing('EvaluationPeriods');
    if (!Number.isInteger(input.EvaluationPeriods) || input.EvaluationPeriods < 1) {
      throw invalid('EvaluationPeriods must be an integer of at least 1');
    }
    // "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a
    // period of less than one hour, the total evaluation period can't be longer than 86,400 seconds."
    const total = input.Period * input.EvaluationPeriods;
    if (total > 604_800 || (input.Period < 3600 && total > 86_400)) {
      throw invalid('Period multiplied by EvaluationPeriods exceeds the longest evaluation window allowed');
    }
    const datapointsToAlarm = input.DatapointsToAlarm ?? input.EvaluationPeriods;
    if (
      !Number.isInteger(datapointsToAlarm) ||
      datapointsToAlarm < 1 ||
      datapointsToAlarm > input.EvaluationPeriods
    ) {
      throw invalid('DatapointsToAlarm must be between 1 and EvaluationPeriods');
    }
    if (input.Threshold === undefined) throw missing('Threshold');
    if (!input.ComparisonOperator) throw missing('ComparisonOperator');
    if (!COMPARISONS.has(input.ComparisonOperator)) {
      throw invalid(`ComparisonOperator must be one of ${[...COMPARISONS].join(', ')}`);
    }
    const treatMissingData = input.TreatMissingData ?? 'missing';
    if (!TREATMENTS.has(treatMissingData)) {
      throw invalid(`TreatMissingData must be one of ${[...TREATMENTS].join(', ')}`);
    }
    const existing = this.alarms.get(name);
    if (existing?.type === 'composite')
      throw invalid(`AlarmName ${name} is already used by a composite alarm`);
    const now = this.ctx.clock.now();
    if (existing) {
      // "When you update an existing alarm, its state is left unchanged, but the update completely
      // overwrites the previous configuration of the alarm."
      if (existing.timer) this.ctx.clock.clearTimeout(existing.timer);
      Object.assign(existing, {
        input: structuredClone(input),
        datapointsToAlarm,
        treatMissingData,
        configUpdated: now,
      });
      delete existing.timer;
      this.evaluateMetric(existing);
      this.scheduleEvaluation(existing);
      // An alarm given Auto Scaling actions while in its state starts repeating them.
      if (existing.actionTimer === undefined) this.startAutoScalingActions(existing);
      return {};
    }
    // "When this operation creates an alarm, the alarm state is immediately set to
    // INSUFFICIENT_DATA. The alarm is then evaluated and its state is set appropriately."
    const record: MetricAlarmRecord = {
      type: 'metric',
      name,
      arn: this.arnOf(name),
      input: structuredClone(input),
      datapointsToAlarm,
      treatMissingData,
      metricId: this.ctx.ids.uuid(),
      state: 'INSUFFICIENT_DATA',
      stateReason: 'Unchecked: Initial alarm creation',
      stateUpdated: now,
      configUpdated: now,
    };
    this.alarms.set(name, record);
    this.ctx.timeline.record({ kind: 'state', resource: record.arn, from: null, to: 'INSUFFICIENT_DATA' });
    this.evaluateMetric(record);
    this.scheduleEvaluation(record);
    return {};
  }

  /** Arms the next evaluation: at the end of the current period plus the evaluation lag. */
  private scheduleEvaluation(alarm: MetricAlarmRecord): void {
    const periodMs = (alarm.input.Period ?? 60) * 1000;
    const now = this.ctx.clock.now();
    let next =
      Math.floor((now - this.evaluationLagMs) / periodMs) * periodMs + periodMs + this.evaluationLagMs;
    if (next <= now) next += periodMs;
    alarm.timer = this.ctx.clock.setTimeout(() => {
      delete alarm.timer;
      if (this.alarms.get(alarm.name) !== alarm) return;
      this.evaluateMetric(alarm);
      this.scheduleEvaluation(alarm);
    }, next - now);
  }

  private evaluateMetric(alarm: MetricAlarmRecord): void {
    const input = alarm.input;
    const periodMs = (input.Period ?? 60) * 1000;
    const n = input.EvaluationPeriods ?? 1;
    const rangeLength = evaluationRange(n);
    // The newest datapoint is the last period that closed at least evaluationLag ago.
    const end = Math.floor((this.ctx.clock.now() - this.evaluationLagMs) / periodMs) * periodMs;
    const start = end - rangeLength * periodMs;
    const statistic = input.Statistic as Statistic;
    const buckets = this.buckets(
      input.Namespace ?? '',
      input.MetricName ?? '',
      input.Dimensions,
      start,
      end,
      periodMs,
    );
    const range: Array<number | undefined> = [];
    const times: VirtualMs[] = [];
    for (let t = start; t < end; t += periodMs) {
      const samples = buckets.get(t);
      range.push(samples ? statisticOf(samples, statistic) : undefined);
      times.push(t);
    }
    const result = evaluateMetricAlarm({
      range,
      evaluationPeriods: n,
      datapointsToAlarm: alarm.datapointsToAlarm,
      threshold: input.Threshold ?? 0,
      comparison: input.ComparisonOperator ?? 'GreaterThanThreshold',
      treatMissingData: alarm.treatMissingData as 'missing',
      current: alarm.state,
    });
    if (result.state === alarm.state) return;
    const evaluatedTimes = times.filter((_, i) => range[i] !== undefined).reverse();
    const points = result.evaluated
      .map((v, i) => `${v} (${reasonTime(evaluatedTimes[i] ?? end)})`)
      .join(', ');
    const comparison = COMPARISON_WORDS[input.ComparisonOperator ?? ''] ?? 'compared with';
    const reason =
      result.state === 'INSUFFICIENT_DATA'
        ? `Insufficient Data: ${result.evaluated.length} datapoint${result.evaluated.length === 1 ? ' was' : 's were'} unknown.`
        : `Threshold Crossed: ${result.evaluated.length} out of the last ${n} datapoints [${points}] ${
            result.state === 'ALARM' ? 'was' : 'was not'
          } ${comparison} the threshold (${formatNumber(input.Threshold ?? 0)}) (minimum ${alarm.datapointsToAlarm} datapoint${
            alarm.datapointsToAlarm === 1 ? '' : 's'
          } for ${alarm.state} -> ${result.state} transition).`;
    const oldestEvaluated = evaluatedTimes[result.evaluated.length - 1] ?? end - n * periodMs;
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: eventTimestamp(this.ctx.clock.now()),
      startDate: eventTimestamp(oldestEvaluated),
      statistic,
      period: input.Period,
      recentDatapoints: [...result.evaluated].reverse(),
      threshold: input.Threshold,
    });
    this.transition(alarm, result.state, reason, reasonData);
  }

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
  private putCompositeAlarm(input: PutCompositeAlarmInput): object {
    const name = this.validateAlarmName(input.AlarmName);
    if (!input.AlarmRule) throw missing('AlarmRule');
    let rule: AlarmRule;
    try {
      rule = parseAlarmRule(input.AlarmRule);
    } catch (error) {
      if (error instanceof AlarmRuleSyntaxError) throw invalid(`AlarmRule: ${error.message}`);
      throw error;
    }
    const children = referencedAlarms(rule);
    // "The AlarmRule can specify as many as 100 'children' alarms."
    if (new Set(children).size > 100) throw invalid('AlarmRule can reference at most 100 alarms');
    const unknown = children.filter((child) => this.resolve(child) === undefined && child !== name);
    if (unknown.length > 0) {
      throw invalid(`AlarmRule refers to alarms that do not exist: ${[...new Set(unknown)].join(', ')}`);
    }
    const existing = this.alarms.get(name);
    if (existing?.type === 'metric') throw invalid(`AlarmName ${name} is already used by a metric alarm`);
    const now = this.ctx.clock.now();
    if (existing) {
      // Updating keeps the state; the composite is then reevaluated (SetAlarmState's documentation).
      Object.assign(existing, { input: structuredClone(input), rule, configUpdated: now });
      this.evaluateComposite(existing, new Set());
      return {};
    }
    const record: CompositeAlarmRecord = {
      type: 'composite',
      name,
      arn: this.arnOf(name),
      input: structuredClone(input),
      rule,
      state: 'INSUFFICIENT_DATA',
      stateReason: 'Unchecked: Initial alarm creation',
      stateUpdated: now,
      configUpdated: now,
    };
    this.alarms.set(name, record);
    this.ctx.timeline.record({ kind: 'state', resource: record.arn, from: null, to: 'INSUFFICIENT_DATA' });
    this.evaluateComposite(record, new Set());
    return {};
  }

  private resolve(nameOrArn: string): AlarmRecord | undefined {
    const prefix = `arn:aws:cloudwatch:${this.ctx.region}:${this.ctx.accountId}:alarm:`;
    return this.alarms.get(nameOrArn.startsWith(prefix) ? nameOrArn.slice(prefix.length) : nameOrArn);
  }

  /** `visiting` stops evaluation on a cycle, as AWS does ("evaluation … stops if CloudWatch detects a cycle"). */
  private evaluateComposite(alarm: CompositeAlarmRecord, visiting: Set<string>, trigger?: AlarmRecord): void {
    if (visiting.has(alarm.name)) return;
    const next: StateValue = evaluateAlarmRule(alarm.rule, (ref) => this.resolve(ref)?.state)
      ? 'ALARM'
      : 'OK';
    if (next === alarm.state) return;
    const reason = trigger
      ? `${trigger.arn} transitioned to ${trigger.state} at ${new Date(trigger.stateUpdated).toUTCString()}`
      : `Composite alarm rule evaluated to ${next === 'ALARM' ? 'TRUE' : 'FALSE'}`;
    const reasonData = JSON.stringify({
      triggeringAlarms: trigger
        ? [
            {
              arn: trigger.arn,
              state: { value: trigger.state, timestamp: eventTimestamp(trigger.stateUpdated) },
            },
          ]
        : [],
    });
    this.transition(alarm, next, reason, reasonData, visiting);
  }

  private transition(
    alarm: AlarmRecord,
    to: StateValue,
    reason: string,
    reasonData: string | undefined,
    visiting: Set<string> = new Set(),
  ): void {
    const previous = {
      value: alarm.state,
      reason: alarm.stateReason,
      ...(alarm.stateReasonData === undefined ? {} : { reasonData: alarm.stateReasonData }),
      timestamp: eventTimestamp(alarm.stateUpdated),
    };
    alarm.state = to;
    alarm.stateReason = reason;
    if (reasonData === undefined) delete alarm.stateReasonData;
    else alarm.stateReasonData = reasonData;
    alarm.stateUpdated = this.ctx.clock.now();
    this.ctx.timeline.record({ kind: 'state', resource: alarm.arn, from: previous.value, to });
    this.history.recordStateUpdate(
      alarm.name,
      alarm.type === 'metric' ? 'MetricAlarm' : 'CompositeAlarm',
      alarm.stateUpdated,
      previous,
      { value: to, reason, ...(reasonData === undefined ? {} : { reasonData }) },
    );
    this.ctx.emit({
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      resources: [alarm.arn],
      detail: {
        alarmName: alarm.name,
        configuration: this.eventConfiguration(alarm),
        previousState: previous,
        state: {
          reason,
          ...(reasonData === undefined ? {} : { reasonData }),
          timestamp: eventTimestamp(alarm.stateUpdated),
          value: to,
        },
      },
    });
    this.startAutoScalingActions(alarm);
    // Composite alarms are reevaluated whenever one of their children changes state.
    const path = new Set(visiting).add(alarm.name);
    for (const parent of this.alarms.values()) {
      if (parent.type !== 'composite' || path.has(parent.name)) continue;
      if (referencedAlarms(parent.rule).some((ref) => this.resolve(ref) === alarm)) {
        this.evaluateComposite(parent, path, alarm);
      }
    }
  }

  /** detail.configuration in the shape of the documented sample (metric) and composite example. */
  private eventConfiguration(alarm: AlarmRecord): Record<string, unknown> {
    if (alarm.type === 'composite') {
      return {
        alarmRule: alarm.input.AlarmRule,
        ...(alarm.input.AlarmDescription === undefined ? {} : { description: alarm.input.AlarmDescription }),
      };
    }
    const input = alarm.input;
    const dimensions: Record<string, string> = {};
    for (const d of input.Dimensions ?? []) if (d.Name !== undefined) dimensions[d.Name] = d.Value ?? '';
    return {
      ...(input.AlarmDescription === undefined ? {} : { description: input.AlarmDescription }),
      metrics: [
        {
          id: alarm.metricId,
          metricStat: {
            metric: { dimensions, name: input.MetricName, namespace: input.Namespace },
            period: input.Period,
            stat: input.Statistic,
          },
          returnData: true,
        },
      ],
    };
  }

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
  private describeAlarms(input: DescribeAlarmsInput): DescribeAlarmsOutput {
    if (input.AlarmNames?.length && input.AlarmNamePrefix !== undefined) {
      throw new InvalidParameterCombinationException({
        message: 'AlarmNamePrefix cannot be specified together with AlarmNames.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    if (input.StateValue !== undefined && !STATES.has(input.StateValue)) {
      throw invalid('StateValue must be one of OK, ALARM, INSUFFICIENT_DATA');
    }
    // "If you omit this parameter, only metric alarms are returned."
    const types = new Set(input.AlarmTypes?.length ? input.AlarmTypes : ['MetricAlarm']);
    const names = input.AlarmNames?.length ? new Set(input.AlarmNames) : undefined;
    const selected = [...this.alarms.values()]
      .filter((a) => names === undefined || names.has(a.name))
      .filter((a) => input.AlarmNamePrefix === undefined || a.name.startsWith(input.AlarmNamePrefix))
      .filter((a) => input.StateValue === undefined || a.state === input.StateValue)
      // "only those alarms that use a certain alarm action" (any state's), by prefix.
      .filter(
        (a) =>
          input.ActionPrefix === undefined ||
          [
            ...(a.input.OKActions ?? []),
            ...(a.input.AlarmActions ?? []),
            ...(a.input.InsufficientDataActions ?? []),
          ].some((action) => action.startsWith(input.ActionPrefix ?? '')),
      )
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const output: DescribeAlarmsOutput = {};
    if (types.has('MetricAlarm')) {
      output.MetricAlarms = selected
        .filter((a): a is MetricAlarmRecord => a.type === 'metric')
        .map((a) => this.describeMetricAlarm(a));
    }
    if (types.has('CompositeAlarm')) {
      output.CompositeAlarms = selected
        .filter((a): a is CompositeAlarmRecord => a.type === 'composite')
        .map((a) => this.describeCompositeAlarm(a));
    }
    return output;
  }

  /** What DescribeAlarms reports alike for metric and composite alarms. */
  private describeAlarmCommon(a: MetricAlarmRecord | CompositeAlarmRecord) {
    const input = a.input;
    return {
      AlarmName: a.name,
      AlarmArn: a.arn,
      AlarmConfigurationUpdatedTimestamp: new Date(a.configUpdated),
      ActionsEnabled: input.ActionsEnabled ?? true,
      OKActions: input.OKActions ?? [],
      AlarmActions: input.AlarmActions ?? [],
      InsufficientDataActions: input.InsufficientDataActions ?? [],
      StateValue: a.state,
      StateReason: a.stateReason,
      StateUpdatedTimestamp: new Date(a.stateUpdated),
      StateTransitionedTimestamp: new Date(a.stateUpdated),
      ...(input.AlarmDescription !== undefined ? { AlarmDescription: input.AlarmDescription } : {}),
      ...(a.stateReasonData !== undefined ? { StateReasonData: a.stateReasonData } : {}),
    };
  }

  private describeMetricAlarm(a: MetricAlarmRecord): MetricAlarm {
    const input = a.input;
    const out: MetricAlarm = {
      ...this.describeAlarmCommon(a),
      Dimensions: input.Dimensions ?? [],
      EvaluationPeriods: input.EvaluationPeriods,
      DatapointsToAlarm: a.datapointsToAlarm,
      Threshold: input.Threshold,
      ComparisonOperator: input.ComparisonOperator,
      TreatMissingData: a.treatMissingData,
    };
    if (input.MetricName !== undefined) out.MetricName = input.MetricName;
    if (input.Namespace !== undefined) out.Namespace = input.Namespace;
    if (input.Statistic !== undefined) out.Statistic = input.Statistic;
    if (input.Period !== undefined) out.Period = input.Period;
    if (input.Unit !== undefined) out.Unit = input.Unit;
    return out;
  }

  private describeCompositeAlarm(a: CompositeAlarmRecord): CompositeAlarm {
    return { ...this.describeAlarmCommon(a), AlarmRule: a.input.AlarmRule };
  }

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
  private setAlarmState(input: SetAlarmStateInput): object {
    if (!input.AlarmName) throw missing('AlarmName');
    if (!input.StateValue) throw missing('StateValue');
    if (input.StateReason === undefined) throw missing('StateReason');
    if (!STATES.has(input.StateValue))
      throw invalid('StateValue must be one of OK, ALARM, INSUFFICIENT_DATA');
    if (input.StateReasonData !== undefined) {
      try {
        JSON.parse(input.StateReasonData);
      } catch {
        throw invalid('StateReasonData: Data was not syntactically valid JSON');
      }
    }
    const alarm = this.alarms.get(input.AlarmName);
    if (!alarm) {
      throw new ResourceNotFound({
        message: `Alarm ${input.AlarmName} not found`,
        $metadata: { httpStatusCode: 404 },
      });
    }
    // The state holds until the next evaluation: the metric alarm's next period, or for a composite
    // the next state change of a child or an update of its configuration.
    if (alarm.state !== input.StateValue) {
      this.transition(alarm, input.StateValue, input.StateReason, input.StateReasonData);
    }
    return {};
  }

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html
  private deleteAlarms(input: DeleteAlarmsInput): object {
    if (!input.AlarmNames) throw missing('AlarmNames');
    if (input.AlarmNames.length > 100) throw invalid('AlarmNames can name at most 100 alarms');
    // "this total can include no more than one composite alarm"
    const composites = input.AlarmNames.filter((n) => this.alarms.get(n)?.type === 'composite');
    if (composites.length > 1) throw invalid('DeleteAlarms can delete at most one composite alarm per call');
    // "If you specify any incorrect alarm names, the alarms you specify with correct names are still deleted."
    for (const name of input.AlarmNames) {
      const alarm = this.alarms.get(name);
      if (!alarm) continue;
      if (alarm.type === 'metric' && alarm.timer) this.ctx.clock.clearTimeout(alarm.timer);
      if (alarm.actionTimer) this.ctx.clock.clearTimeout(alarm.actionTimer);
      this.alarms.delete(name);
    }
    return {};
  }
}
