import type { PoliciesType, PolicyARNType } from '@aws-sdk/client-auto-scaling';
import { createHarness, errorOf, groupInput, type Harness } from './autoscaling-fakes';

const targetTracking = {
  TargetValue: 50,
  PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
};

async function withGroup(): Promise<Harness> {
  const h = createHarness();
  await h.call('CreateAutoScalingGroup', groupInput());
  return h;
}

async function policies(h: Harness, input: Record<string, unknown> = { AutoScalingGroupName: 'web-prod' }) {
  return (await h.call('DescribePolicies', input)) as PoliciesType;
}

describe('AutoScalingSim scaling policies', () => {
  describe('PutScalingPolicy and DescribePolicies', () => {
    it('stores a target tracking policy and describes it as AWS does, enabled by default', async () => {
      const h = await withGroup();
      const put = (await h.call('PutScalingPolicy', {
        AutoScalingGroupName: 'web-prod',
        PolicyName: 'cpu50',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingConfiguration: targetTracking,
      })) as PolicyARNType;

      expect(put.PolicyARN).toMatch(
        /^arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:[0-9a-f-]+:autoScalingGroupName\/web-prod:policyName\/cpu50$/,
      );
      expect((await policies(h)).ScalingPolicies).toEqual([
        {
          AutoScalingGroupName: 'web-prod',
          PolicyName: 'cpu50',
          PolicyARN: put.PolicyARN,
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingConfiguration: targetTracking,
          StepAdjustments: [],
          Alarms: [],
          Enabled: true,
        },
      ]);
    });

    it('stores step and simple policies, simple being the default type', async () => {
      const h = await withGroup();
      await h.call('PutScalingPolicy', {
        AutoScalingGroupName: 'web-prod',
        PolicyName: 'step-out',
        PolicyType: 'StepScaling',
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }],
      });
      await h.call('PutScalingPolicy', {
        AutoScalingGroupName: 'web-prod',
        PolicyName: 'simple-in',
        AdjustmentType: 'ChangeInCapacity',
        ScalingAdjustment: -1,
        Cooldown: 120,
      });

      expect(
        (await policies(h)).ScalingPolicies?.map((policy) => [policy.PolicyName, policy.PolicyType]),
      ).toEqual([
        ['step-out', 'StepScaling'],
        ['simple-in', 'SimpleScaling'],
      ]);
      expect(
        (await policies(h, { AutoScalingGroupName: 'web-prod', PolicyTypes: ['SimpleScaling'] }))
          .ScalingPolicies?.[0],
      ).toMatchObject({ ScalingAdjustment: -1, Cooldown: 120, AdjustmentType: 'ChangeInCapacity' });
    });

    it('updates a policy of the same name in place, keeping its ARN', async () => {
      const h = await withGroup();
      const put = (name: string, value: number) =>
        h.call('PutScalingPolicy', {
          AutoScalingGroupName: 'web-prod',
          PolicyName: name,
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingConfiguration: { ...targetTracking, TargetValue: value },
        }) as Promise<PolicyARNType>;
      const first = await put('cpu', 50);
      const second = await put('cpu', 70);

      expect(second.PolicyARN).toBe(first.PolicyARN);
      expect(
        (await policies(h)).ScalingPolicies?.map((p) => p.TargetTrackingConfiguration?.TargetValue),
      ).toEqual([70]);
    });

    it.each([
      ['TargetTrackingScaling', {}, 'TargetTrackingConfiguration'],
      ['StepScaling', { AdjustmentType: 'ChangeInCapacity' }, 'StepAdjustments'],
      ['SimpleScaling', { ScalingAdjustment: 1 }, 'AdjustmentType'],
    ])('refuses a %s policy without %j’s companion %s', async (type, rest, missing) => {
      const h = await withGroup();
      const error = await errorOf(
        h.call('PutScalingPolicy', {
          AutoScalingGroupName: 'web-prod',
          PolicyName: 'p',
          PolicyType: type,
          ...rest,
        }),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain(missing);
    });

    it('refuses a policy on a group that does not exist', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call('PutScalingPolicy', {
          AutoScalingGroupName: 'nope',
          PolicyName: 'p',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingConfiguration: targetTracking,
        }),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('not found');
    });

    it('pages by MaxRecords', async () => {
      const h = await withGroup();
      for (const name of ['a', 'b', 'c']) {
        await h.call('PutScalingPolicy', {
          AutoScalingGroupName: 'web-prod',
          PolicyName: name,
          AdjustmentType: 'ChangeInCapacity',
          ScalingAdjustment: 1,
        });
      }
      const first = await policies(h, { AutoScalingGroupName: 'web-prod', MaxRecords: 2 });
      const second = await policies(h, {
        AutoScalingGroupName: 'web-prod',
        MaxRecords: 2,
        NextToken: first.NextToken,
      });
      expect(first.ScalingPolicies?.map((p) => p.PolicyName)).toEqual(['a', 'b']);
      expect(second.ScalingPolicies?.map((p) => p.PolicyName)).toEqual(['c']);
      expect(second.NextToken).toBeUndefined();
    });
  });

  describe('DeletePolicy', () => {
    it('deletes by name or by ARN', async () => {
      const h = await withGroup();
      const put = (name: string) =>
        h.call('PutScalingPolicy', {
          AutoScalingGroupName: 'web-prod',
          PolicyName: name,
          AdjustmentType: 'ChangeInCapacity',
          ScalingAdjustment: 1,
        }) as Promise<PolicyARNType>;
      await put('a');
      const b = await put('b');

      await h.call('DeletePolicy', { AutoScalingGroupName: 'web-prod', PolicyName: 'a' });
      await h.call('DeletePolicy', { PolicyName: b.PolicyARN });

      expect((await policies(h)).ScalingPolicies).toEqual([]);
    });

    it('refuses a policy that does not exist', async () => {
      const h = await withGroup();
      const error = await errorOf(
        h.call('DeletePolicy', { AutoScalingGroupName: 'web-prod', PolicyName: 'nope' }),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('not found');
    });

    it('forgets a group’s policies with the group', async () => {
      const h = await withGroup();
      await h.call('PutScalingPolicy', {
        AutoScalingGroupName: 'web-prod',
        PolicyName: 'a',
        AdjustmentType: 'ChangeInCapacity',
        ScalingAdjustment: 1,
      });
      await h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'web-prod', ForceDelete: true });
      await h.advance(60);
      await h.call('CreateAutoScalingGroup', groupInput());
      expect((await policies(h)).ScalingPolicies).toEqual([]);
    });
  });
});
