import type { AutoScalingGroupsType } from '@aws-sdk/client-auto-scaling';
import { createHarness, describeGroup, errorOf, groupInput } from './autoscaling-fakes';

/**
 * InstanceMaintenancePolicy on CreateAutoScalingGroup and UpdateAutoScalingGroup: "Value range is 0
 * to 100" (min) and "100 to 200" (max), "To clear a previously set value, specify a value of -1",
 * "Both MinHealthyPercentage and MaxHealthyPercentage must be specified, and the difference between
 * them cannot be greater than 100."
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceMaintenancePolicy.html
 * (How a refresh uses the policy is in autoscaling-refresh.test.ts.)
 */
describe('AutoScalingSim instance maintenance policy', () => {
  describe('CreateAutoScalingGroup', () => {
    it('describes the policy the group was created with', async () => {
      const h = createHarness();
      await h.call(
        'CreateAutoScalingGroup',
        groupInput({ InstanceMaintenancePolicy: { MinHealthyPercentage: 90, MaxHealthyPercentage: 120 } }),
      );
      expect((await describeGroup(h)).InstanceMaintenancePolicy).toEqual({
        MinHealthyPercentage: 90,
        MaxHealthyPercentage: 120,
      });
    });

    it('has no policy by default', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      expect(await describeGroup(h)).not.toHaveProperty('InstanceMaintenancePolicy');
    });

    it('refuses a policy wider than 100 points with a ValidationError and creates nothing', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call(
          'CreateAutoScalingGroup',
          groupInput({ InstanceMaintenancePolicy: { MinHealthyPercentage: 50, MaxHealthyPercentage: 200 } }),
        ),
      );
      expect(error).toMatchObject({
        name: 'ValidationError',
        message:
          'InstanceMaintenancePolicy: the difference between MinHealthyPercentage and MaxHealthyPercentage cannot be greater than 100',
      });
      const out = (await h.call('DescribeAutoScalingGroups', {})) as AutoScalingGroupsType;
      expect(out.AutoScalingGroups).toEqual([]);
      expect(h.ec2.launches).toHaveLength(0);
    });

    it('refuses a policy that sets only one of the two percentages', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call(
          'CreateAutoScalingGroup',
          groupInput({ InstanceMaintenancePolicy: { MinHealthyPercentage: 90 } }),
        ),
      );
      expect(error.message).toBe(
        'InstanceMaintenancePolicy: Both MinHealthyPercentage and MaxHealthyPercentage must be specified',
      );
    });
  });

  describe('UpdateAutoScalingGroup', () => {
    async function groupWithPolicy() {
      const h = createHarness();
      await h.call(
        'CreateAutoScalingGroup',
        groupInput({ InstanceMaintenancePolicy: { MinHealthyPercentage: 90, MaxHealthyPercentage: 120 } }),
      );
      return h;
    }

    it('replaces the policy', async () => {
      const h = await groupWithPolicy();
      await h.call('UpdateAutoScalingGroup', {
        AutoScalingGroupName: 'web-prod',
        InstanceMaintenancePolicy: { MinHealthyPercentage: 100, MaxHealthyPercentage: 110 },
      });
      expect((await describeGroup(h)).InstanceMaintenancePolicy).toEqual({
        MinHealthyPercentage: 100,
        MaxHealthyPercentage: 110,
      });
    });

    it('keeps the policy when the update does not mention it', async () => {
      const h = await groupWithPolicy();
      await h.call('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 3 });
      expect((await describeGroup(h)).InstanceMaintenancePolicy).toEqual({
        MinHealthyPercentage: 90,
        MaxHealthyPercentage: 120,
      });
    });

    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/remove-instance-maintenance-policy.html
    it('removes the policy when both percentages are -1', async () => {
      const h = await groupWithPolicy();
      await h.call('UpdateAutoScalingGroup', {
        AutoScalingGroupName: 'web-prod',
        InstanceMaintenancePolicy: { MinHealthyPercentage: -1, MaxHealthyPercentage: -1 },
      });
      expect(await describeGroup(h)).not.toHaveProperty('InstanceMaintenancePolicy');
    });

    it.each([
      [{ MinHealthyPercentage: -1, MaxHealthyPercentage: 120 }, 'InstanceMaintenancePolicy: -1 clears'],
      [
        { MinHealthyPercentage: 101, MaxHealthyPercentage: 120 },
        'InstanceMaintenancePolicy.MinHealthyPercentage',
      ],
      [
        { MinHealthyPercentage: 90, MaxHealthyPercentage: 99 },
        'InstanceMaintenancePolicy.MaxHealthyPercentage',
      ],
      [{ MaxHealthyPercentage: 150 }, 'InstanceMaintenancePolicy: Both'],
    ])('refuses %j and changes nothing else in the request', async (policy, message) => {
      const h = await groupWithPolicy();
      const error = await errorOf(
        h.call('UpdateAutoScalingGroup', {
          AutoScalingGroupName: 'web-prod',
          DesiredCapacity: 4,
          InstanceMaintenancePolicy: policy,
        }),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message.startsWith(message)).toBe(true);
      const group = await describeGroup(h);
      expect(group.DesiredCapacity).toBe(2);
      expect(group.InstanceMaintenancePolicy).toEqual({
        MinHealthyPercentage: 90,
        MaxHealthyPercentage: 120,
      });
    });
  });
});
