import { createHarness, describeGroup, groupInput, type Harness } from './autoscaling-fakes';

/**
 * Scaling policies run by their alarms (CloudWatch calls runPolicy).
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html
 */
describe('AutoScalingSim policy execution', () => {
  async function withPolicy(extra: Record<string, unknown> = {}): Promise<{ h: Harness; arn: string }> {
    const h = createHarness();
    await h.call('CreateAutoScalingGroup', groupInput({ MinSize: 1, MaxSize: 6, DesiredCapacity: 2 }));
    const { PolicyARN } = (await h.call('PutScalingPolicy', {
      AutoScalingGroupName: 'web-prod',
      PolicyName: 'out',
      PolicyType: 'SimpleScaling',
      AdjustmentType: 'ChangeInCapacity',
      ScalingAdjustment: 2,
      Cooldown: 300,
      ...extra,
    })) as { PolicyARN: string };
    return { h, arn: PolicyARN };
  }

  it('changes the desired capacity as the policy says', async () => {
    const { h, arn } = await withPolicy();

    h.asg.runPolicy(arn, { name: 'load-high' });

    expect((await describeGroup(h)).DesiredCapacity).toBe(4);
  });

  it('does not run a policy while AlarmNotification is suspended, and runs it once resumed', async () => {
    const { h, arn } = await withPolicy();
    await h.call('SuspendProcesses', {
      AutoScalingGroupName: 'web-prod',
      ScalingProcesses: ['AlarmNotification'],
    });

    h.asg.runPolicy(arn, { name: 'load-high' });
    expect((await describeGroup(h)).DesiredCapacity).toBe(2);

    await h.call('ResumeProcesses', {
      AutoScalingGroupName: 'web-prod',
      ScalingProcesses: ['AlarmNotification'],
    });
    h.asg.runPolicy(arn, { name: 'load-high' });
    expect((await describeGroup(h)).DesiredCapacity).toBe(4);
  });

  it('waits the simple policy’s cooldown before it scales again', async () => {
    const { h, arn } = await withPolicy();

    h.asg.runPolicy(arn, { name: 'load-high' });
    await h.advance(60);
    h.asg.runPolicy(arn, { name: 'load-high' });
    expect((await describeGroup(h)).DesiredCapacity).toBe(4);

    await h.advance(240);
    h.asg.runPolicy(arn, { name: 'load-high' });
    expect((await describeGroup(h)).DesiredCapacity).toBe(6);
  });

  it('does nothing for a disabled policy', async () => {
    const { h, arn } = await withPolicy({ Enabled: false });

    h.asg.runPolicy(arn, { name: 'load-high' });

    expect((await describeGroup(h)).DesiredCapacity).toBe(2);
  });

  it('records the alarm as the cause of the scaling activity', async () => {
    const { h, arn } = await withPolicy();

    h.asg.runPolicy(arn, { name: 'load-high' });

    const activities = (await h.call('DescribeScalingActivities', { AutoScalingGroupName: 'web-prod' })) as {
      Activities?: Array<{ Cause?: string }>;
    };
    expect(
      activities.Activities?.some((a) =>
        a.Cause?.includes('a monitor alarm load-high in state ALARM triggered policy out'),
      ),
    ).toBe(true);
  });
});
