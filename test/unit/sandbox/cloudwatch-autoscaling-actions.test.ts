import type { PutMetricAlarmInput } from '@aws-sdk/client-cloudwatch';
import { CloudWatchSim } from '../../../sandbox/services/cloudwatch';
import { createTestContext, SANDBOX_EPOCH, type TestSimContext } from '../../../sandbox/core/testing';

const MINUTE = 60_000;
const POLICY =
  'arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1a2b:autoScalingGroupName/web:policyName/scale-out';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ops';

/**
 * Auto Scaling actions of an alarm run on entering the state and then once a minute while it
 * stays there; other actions only on the transition.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html
 * https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm
 */
describe('CloudWatchSim Auto Scaling actions', () => {
  let ctx: TestSimContext;
  let cw: CloudWatchSim;
  let runs: Array<{ at: number; policy: string; breach?: number }>;

  beforeEach(() => {
    ctx = createTestContext(7);
    cw = new CloudWatchSim(ctx);
    runs = [];
    cw.onAutoScalingAction((policy, alarm) =>
      runs.push({
        at: (ctx.clock.now() - SANDBOX_EPOCH) / 1000,
        policy,
        ...(alarm.breach === undefined ? {} : { breach: alarm.breach }),
      }),
    );
  });

  const alarm = (overrides: Partial<PutMetricAlarmInput> = {}): PutMetricAlarmInput => ({
    AlarmName: 'web-queue-deep',
    Namespace: 'Kiln/Test',
    MetricName: 'QueueDepth',
    Statistic: 'Maximum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 100,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [TOPIC, POLICY],
    ...overrides,
  });

  function publish(minute: number, value: number): void {
    cw.ingest('Kiln/Test', [
      {
        MetricName: 'QueueDepth',
        Timestamp: new Date(SANDBOX_EPOCH + minute * MINUTE + 5_000),
        Value: value,
      },
    ]);
  }

  async function call(operation: string, input: object): Promise<void> {
    await cw.handle(operation, input);
  }

  it('runs the policy when the alarm goes into ALARM, with the breach, then every minute while it stays', async () => {
    await call('PutMetricAlarm', alarm());
    for (let minute = 0; minute < 5; minute++) publish(minute, 160);

    await ctx.fakeClock.tickAsync(3 * MINUTE + 10_000);

    expect(runs.map((run) => run.policy)).toEqual([POLICY, POLICY, POLICY]);
    expect(runs[0]?.breach).toBe(60);
    expect(runs[1]!.at - runs[0]!.at).toBe(60);
  });

  it('stops once the alarm leaves ALARM', async () => {
    await call('PutMetricAlarm', alarm());
    publish(0, 160);
    for (let minute = 1; minute < 7; minute++) publish(minute, 20);

    await ctx.fakeClock.tickAsync(6 * MINUTE);

    const okAt = ctx.entries.flatMap((entry) =>
      entry.kind === 'state' && entry.to === 'OK' ? [entry.t] : [],
    );
    const leftAlarm = okAt.at(-1)!;
    expect(leftAlarm).toBe(130);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.filter((run) => run.at > leftAlarm)).toEqual([]);
  });

  it('runs nothing when the alarm’s actions are disabled', async () => {
    await call('PutMetricAlarm', alarm({ ActionsEnabled: false }));
    publish(0, 160);

    await ctx.fakeClock.tickAsync(3 * MINUTE);

    expect(runs).toEqual([]);
  });

  it('runs the policy on SetAlarmState into ALARM', async () => {
    await call('PutMetricAlarm', alarm());

    await call('SetAlarmState', { AlarmName: 'web-queue-deep', StateValue: 'ALARM', StateReason: 'test' });

    expect(runs.map((run) => run.policy)).toEqual([POLICY]);
  });
});

/** https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html (ActionPrefix) */
describe('CloudWatchSim DescribeAlarms by action prefix', () => {
  it('answers only the alarms with an action that starts with the prefix', async () => {
    const cw = new CloudWatchSim(createTestContext(7));
    const base = {
      Namespace: 'Kiln/Test',
      MetricName: 'QueueDepth',
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 100,
      ComparisonOperator: 'GreaterThanThreshold',
    };
    await cw.handle('PutMetricAlarm', { ...base, AlarmName: 'scales', AlarmActions: [POLICY] });
    await cw.handle('PutMetricAlarm', { ...base, AlarmName: 'pages', OKActions: [TOPIC] });

    const answer = (await cw.handle('DescribeAlarms', { ActionPrefix: POLICY })) as {
      MetricAlarms?: Array<{ AlarmName?: string }>;
    };

    expect(answer.MetricAlarms?.map((alarm) => alarm.AlarmName)).toEqual(['scales']);
  });
});
