import { createHarness, describeGroup, errorOf, groupInput } from './autoscaling-fakes';

/** https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateOrUpdateTags.html */
describe('AutoScalingSim CreateOrUpdateTags', () => {
  const tag = (Key: string, Value: string) => ({
    ResourceId: 'web-prod',
    ResourceType: 'auto-scaling-group',
    Key,
    Value,
    PropagateAtLaunch: false,
  });

  it('adds a tag to the group', async () => {
    const h = createHarness();
    await h.call('CreateAutoScalingGroup', groupInput({ Tags: [{ Key: 'team', Value: 'payments' }] }));

    await h.call('CreateOrUpdateTags', { Tags: [tag('kiln:role', 'retired')] });

    expect((await describeGroup(h)).Tags?.map((t) => [t.Key, t.Value])).toEqual([
      ['team', 'payments'],
      ['kiln:role', 'retired'],
    ]);
  });

  it('overwrites the tag of the same key without an error', async () => {
    const h = createHarness();
    await h.call('CreateAutoScalingGroup', groupInput({ Tags: [{ Key: 'kiln:role', Value: 'green' }] }));

    await h.call('CreateOrUpdateTags', { Tags: [tag('kiln:role', 'retired')] });

    expect((await describeGroup(h)).Tags?.map((t) => [t.Key, t.Value])).toEqual([['kiln:role', 'retired']]);
  });

  it('refuses a group that does not exist with a ValidationError', async () => {
    const h = createHarness();

    const error = await errorOf(h.call('CreateOrUpdateTags', { Tags: [tag('kiln:role', 'retired')] }));

    expect(error.name).toBe('ValidationError');
  });
});
