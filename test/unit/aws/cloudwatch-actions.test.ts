import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { Alarms } from '../../../shared/aws/cloudwatch';

const cwMock = mockClient(CloudWatchClient);
const BLUE_POLICY =
  'arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:autoScalingGroupName/web:policyName/out';
const GREEN_POLICY =
  'arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:2:autoScalingGroupName/web-kiln-2.0.0:policyName/out';

const queueAlarm = (overrides: Partial<MetricAlarm> = {}): MetricAlarm => ({
  AlarmName: 'web-queue-deep',
  AlarmDescription: 'queue backs up',
  ActionsEnabled: true,
  AlarmActions: ['arn:aws:sns:us-east-1:123456789012:ops', BLUE_POLICY],
  OKActions: [],
  InsufficientDataActions: [],
  MetricName: 'QueueDepth',
  Namespace: 'Web',
  Statistic: 'Maximum',
  Dimensions: [{ Name: 'Queue', Value: 'jobs' }],
  Period: 60,
  EvaluationPeriods: 2,
  DatapointsToAlarm: 2,
  Threshold: 100,
  ComparisonOperator: 'GreaterThanThreshold',
  TreatMissingData: 'ignore',
  StateValue: 'ALARM',
  ...overrides,
});

describe('Alarms: the actions of alarms that invoke scaling policies', () => {
  let alarms: Alarms;
  beforeEach(() => {
    cwMock.reset();
    alarms = new Alarms(new CloudWatchClient({ region: 'us-east-1', maxAttempts: 1 }));
  });

  describe('alarmsWithAction', () => {
    it('asks by action prefix and keeps the alarms that name the exact ARN', async () => {
      cwMock.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [queueAlarm(), queueAlarm({ AlarmName: 'longer', AlarmActions: [`${BLUE_POLICY}-2`] })],
      });

      expect(await alarms.alarmsWithAction(BLUE_POLICY)).toEqual(['web-queue-deep']);
      expect(cwMock.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toEqual({
        ActionPrefix: BLUE_POLICY,
        AlarmTypes: ['MetricAlarm'],
      });
    });
  });

  describe('mirrorAlarmAction', () => {
    it('writes the alarm back whole, with the copy beside the action it mirrors', async () => {
      cwMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [queueAlarm()] });
      cwMock.on(PutMetricAlarmCommand).resolves({});

      await alarms.mirrorAlarmAction('web-queue-deep', BLUE_POLICY, GREEN_POLICY);

      expect(cwMock.commandCalls(PutMetricAlarmCommand)[0]?.args[0].input).toEqual({
        AlarmName: 'web-queue-deep',
        AlarmDescription: 'queue backs up',
        ActionsEnabled: true,
        AlarmActions: ['arn:aws:sns:us-east-1:123456789012:ops', BLUE_POLICY, GREEN_POLICY],
        OKActions: [],
        InsufficientDataActions: [],
        MetricName: 'QueueDepth',
        Namespace: 'Web',
        Statistic: 'Maximum',
        Dimensions: [{ Name: 'Queue', Value: 'jobs' }],
        Period: 60,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        Threshold: 100,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'ignore',
      });
    });

    it('writes nothing when the copy is already there', async () => {
      cwMock.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [queueAlarm({ AlarmActions: [BLUE_POLICY, GREEN_POLICY] })],
      });

      await alarms.mirrorAlarmAction('web-queue-deep', BLUE_POLICY, GREEN_POLICY);

      expect(cwMock.commandCalls(PutMetricAlarmCommand)).toHaveLength(0);
    });

    it('leaves an alarm that is gone', async () => {
      cwMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });

      await alarms.mirrorAlarmAction('web-queue-deep', BLUE_POLICY, GREEN_POLICY);

      expect(cwMock.commandCalls(PutMetricAlarmCommand)).toHaveLength(0);
    });
  });

  describe('removeAlarmAction', () => {
    it('takes the action out of every list', async () => {
      cwMock.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [queueAlarm({ AlarmActions: [BLUE_POLICY, GREEN_POLICY], OKActions: [GREEN_POLICY] })],
      });
      cwMock.on(PutMetricAlarmCommand).resolves({});

      await alarms.removeAlarmAction('web-queue-deep', GREEN_POLICY);

      const input = cwMock.commandCalls(PutMetricAlarmCommand)[0]?.args[0].input;
      expect([input?.AlarmActions, input?.OKActions]).toEqual([[BLUE_POLICY], []]);
    });
  });
});
