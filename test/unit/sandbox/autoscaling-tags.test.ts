import type { AutoScalingGroupsType, TagsType } from '@aws-sdk/client-auto-scaling';
import { createHarness, describeGroup, errorOf, groupInput, type Harness } from './autoscaling-fakes';

async function groupNames(h: Harness, input: Record<string, unknown>): Promise<string[]> {
  const out = (await h.call('DescribeAutoScalingGroups', input)) as AutoScalingGroupsType;
  return (out.AutoScalingGroups ?? []).map((group) => group.AutoScalingGroupName ?? '');
}

async function taggedGroups(h: Harness): Promise<void> {
  const tags = (service: string, environment: string) => [
    { Key: 'kiln:service', Value: service, PropagateAtLaunch: true },
    { Key: 'kiln:environment', Value: environment, PropagateAtLaunch: true },
  ];
  await h.call(
    'CreateAutoScalingGroup',
    groupInput({ AutoScalingGroupName: 'web-prod', Tags: tags('web', 'prod') }),
  );
  await h.call(
    'CreateAutoScalingGroup',
    groupInput({ AutoScalingGroupName: 'web-staging', Tags: tags('web', 'staging') }),
  );
  await h.call(
    'CreateAutoScalingGroup',
    groupInput({ AutoScalingGroupName: 'api-prod', Tags: tags('api', 'prod') }),
  );
}

describe('AutoScalingSim tags', () => {
  describe('DescribeAutoScalingGroups with Filters', () => {
    it('keeps groups carrying tag:KEY with one of the values, every filter applying', async () => {
      const h = createHarness();
      await taggedGroups(h);
      expect(
        await groupNames(h, {
          Filters: [
            { Name: 'tag:kiln:service', Values: ['web'] },
            { Name: 'tag:kiln:environment', Values: ['prod', 'test'] },
          ],
        }),
      ).toEqual(['web-prod']);
    });

    it('matches tag-key and tag-value on their own', async () => {
      const h = createHarness();
      await taggedGroups(h);
      expect(await groupNames(h, { Filters: [{ Name: 'tag-value', Values: ['staging'] }] })).toEqual([
        'web-staging',
      ]);
      expect(await groupNames(h, { Filters: [{ Name: 'tag-key', Values: ['kiln:service'] }] })).toEqual([
        'web-prod',
        'web-staging',
        'api-prod',
      ]);
    });

    it('applies the names and the filters together', async () => {
      const h = createHarness();
      await taggedGroups(h);
      expect(
        await groupNames(h, {
          AutoScalingGroupNames: ['web-staging', 'api-prod'],
          Filters: [{ Name: 'tag:kiln:environment', Values: ['prod'] }],
        }),
      ).toEqual(['api-prod']);
    });

    it('refuses a filter the API does not define with a ValidationError naming it', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call('DescribeAutoScalingGroups', { Filters: [{ Name: 'name', Values: ['x'] }] }),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('name');
    });
  });

  describe('CreateOrUpdateTags, DeleteTags and DescribeTags', () => {
    it('adds a tag, overwrites one of the same key, and deletes by key', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ Tags: [{ Key: 'team', Value: 'a' }] }));
      await h.call('CreateOrUpdateTags', {
        Tags: [
          { ResourceId: 'web-prod', ResourceType: 'auto-scaling-group', Key: 'team', Value: 'b' },
          { ResourceId: 'web-prod', ResourceType: 'auto-scaling-group', Key: 'kiln:role', Value: 'retired' },
        ],
      });
      expect((await describeGroup(h)).Tags?.map((tag) => [tag.Key, tag.Value])).toEqual([
        ['team', 'b'],
        ['kiln:role', 'retired'],
      ]);

      await h.call('DeleteTags', {
        Tags: [{ ResourceId: 'web-prod', ResourceType: 'auto-scaling-group', Key: 'team' }],
      });
      expect((await describeGroup(h)).Tags?.map((tag) => tag.Key)).toEqual(['kiln:role']);
    });

    it('propagates a tag added later to instances launched after it', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 1 }));
      await h.call('CreateOrUpdateTags', {
        Tags: [
          {
            ResourceId: 'web-prod',
            ResourceType: 'auto-scaling-group',
            Key: 'team',
            Value: 'a',
            PropagateAtLaunch: true,
          },
        ],
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 2 });
      const launched = h.ec2.launches.map((launch) => h.ec2.instances.get(launch.instanceId)?.tags['team']);
      expect(launched).toEqual([undefined, 'a']);
    });

    it('refuses tags on a group that does not exist', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call('CreateOrUpdateTags', {
          Tags: [{ ResourceId: 'nope', ResourceType: 'auto-scaling-group', Key: 'k', Value: 'v' }],
        }),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('not found');
    });

    it('describes tags by filter, paged', async () => {
      const h = createHarness();
      await taggedGroups(h);
      const first = (await h.call('DescribeTags', {
        Filters: [{ Name: 'key', Values: ['kiln:environment'] }],
        MaxRecords: 2,
      })) as TagsType;
      expect(first.Tags?.map((tag) => [tag.ResourceId, tag.Value])).toEqual([
        ['web-prod', 'prod'],
        ['web-staging', 'staging'],
      ]);
      const second = (await h.call('DescribeTags', {
        Filters: [{ Name: 'key', Values: ['kiln:environment'] }],
        MaxRecords: 2,
        NextToken: first.NextToken,
      })) as TagsType;
      expect(second.Tags?.map((tag) => [tag.ResourceId, tag.Value])).toEqual([['api-prod', 'prod']]);
      expect(second.NextToken).toBeUndefined();
    });
  });
});
