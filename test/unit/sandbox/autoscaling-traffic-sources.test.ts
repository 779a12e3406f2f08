import type {
  DescribeLoadBalancerTargetGroupsResponse,
  DescribeTrafficSourcesResponse,
} from '@aws-sdk/client-auto-scaling';
import type { Harness } from './autoscaling-fakes';
import { TG, createHarness, describeGroup, groupInput, instancesOf } from './autoscaling-fakes';

/**
 * Traffic sources as the Auto Scaling user guide's "load balancer status" page and the API reference
 * describe them: Adding while the instances are registered, Added once they all are, InService once
 * one passes the ELB health check (or at once when CreateAutoScalingGroup attached it), Removing
 * while the instances drain, then gone (Removed). Auto Scaling replaces ELB-unhealthy instances only
 * once the target group is InService.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/load-balancer-status.html
 */

async function trafficSourceStates(h: Harness): Promise<Array<[string | undefined, string | undefined]>> {
  const out = (await h.call('DescribeTrafficSources', {
    AutoScalingGroupName: 'web-prod',
  })) as DescribeTrafficSourcesResponse;
  return (out.TrafficSources ?? []).map((source) => [source.Identifier, source.State]);
}

async function targetGroupStates(h: Harness): Promise<Array<[string | undefined, string | undefined]>> {
  const out = (await h.call('DescribeLoadBalancerTargetGroups', {
    AutoScalingGroupName: 'web-prod',
  })) as DescribeLoadBalancerTargetGroupsResponse;
  return (out.LoadBalancerTargetGroups ?? []).map((tg) => [tg.LoadBalancerTargetGroupARN, tg.State]);
}

/** The states the timeline recorded for the group's attachment of TG, in order. */
function recordedStates(h: Harness): string[] {
  return h.ctx.entries
    .filter((e) => e.kind === 'state' && e.resource === `autoscaling:web-prod/traffic-source:${TG}`)
    .map((e) => (e.kind === 'state' ? e.to : ''));
}

/** A group of one in-service instance with no target group yet. */
async function groupInService(h: Harness, overrides: Record<string, unknown> = {}): Promise<string> {
  await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 1, ...overrides }));
  await h.advance(30);
  const [instance] = await instancesOf(h);
  if (instance?.LifecycleState !== 'InService' || !instance.InstanceId)
    throw new Error('no instance in service');
  return instance.InstanceId;
}

describe('AutoScalingSim traffic sources', () => {
  describe('states', () => {
    it.each([
      ['TargetGroupARNs', { TargetGroupARNs: [TG] }],
      ['TrafficSources', { TrafficSources: [{ Identifier: TG, Type: 'elbv2' }] }],
    ])(
      'starts a target group that CreateAutoScalingGroup attached (%s) InService at once',
      async (_form, attach) => {
        const h = createHarness();
        await h.call('CreateAutoScalingGroup', groupInput({ HealthCheckType: 'ELB', ...attach }));
        expect(await targetGroupStates(h)).toEqual([[TG, 'InService']]);
        expect(await trafficSourceStates(h)).toEqual([[TG, 'InService']]);
      },
    );

    it('passes an attached target group through Adding (instances registered on the next poll) and Added to InService once one passes the ELB health check', async () => {
      const h = createHarness();
      const id = await groupInService(h, { HealthCheckType: 'ELB' });
      await h.call('AttachTrafficSources', {
        AutoScalingGroupName: 'web-prod',
        TrafficSources: [{ Identifier: TG }],
      });
      expect(await trafficSourceStates(h)).toEqual([[TG, 'Adding']]);
      expect(h.elb.isRegistered(TG, id)).toBe(false);
      await h.advance(10);
      expect(h.elb.isRegistered(TG, id)).toBe(true);
      expect(await trafficSourceStates(h)).toEqual([[TG, 'Added']]);
      // The fake target group reports the target healthy 20 s after registration.
      await h.advance(20);
      expect(await trafficSourceStates(h)).toEqual([[TG, 'InService']]);
      expect(recordedStates(h)).toEqual(['Adding', 'Added', 'InService']);
    });

    it('keeps a target group Added under EC2 health checks, even once its instances pass the ELB health check', async () => {
      const h = createHarness();
      await groupInService(h);
      await h.call('AttachLoadBalancerTargetGroups', {
        AutoScalingGroupName: 'web-prod',
        TargetGroupARNs: [TG],
      });
      await h.advance(120);
      expect(await targetGroupStates(h)).toEqual([[TG, 'Added']]);
    });

    it('stays Adding while AddToLoadBalancer is suspended and its instances cannot be registered', async () => {
      const h = createHarness();
      const id = await groupInService(h, { HealthCheckType: 'ELB' });
      await h.call('SuspendProcesses', {
        AutoScalingGroupName: 'web-prod',
        ScalingProcesses: ['AddToLoadBalancer'],
      });
      await h.call('AttachTrafficSources', {
        AutoScalingGroupName: 'web-prod',
        TrafficSources: [{ Identifier: TG }],
      });
      await h.advance(60);
      expect(h.elb.isRegistered(TG, id)).toBe(false);
      expect(await trafficSourceStates(h)).toEqual([[TG, 'Adding']]);
    });

    it.each([
      ['DetachTrafficSources', { TrafficSources: [{ Identifier: TG }] }],
      ['DetachLoadBalancerTargetGroups', { TargetGroupARNs: [TG] }],
    ])(
      'shows a target group Removing after %s until its instances are deregistered, then no longer describes it',
      async (operation, detach) => {
        const h = createHarness();
        await groupInService(h, { TargetGroupARNs: [TG] });
        await h.call(operation, { AutoScalingGroupName: 'web-prod', ...detach });
        expect(await trafficSourceStates(h)).toEqual([[TG, 'Removing']]);
        expect(await targetGroupStates(h)).toEqual([[TG, 'Removing']]);
        expect((await describeGroup(h)).TargetGroupARNs).toEqual([]);
        // The fake target group drains for 30 s.
        await h.advance(29);
        expect(await trafficSourceStates(h)).toEqual([[TG, 'Removing']]);
        await h.advance(1);
        expect(await trafficSourceStates(h)).toEqual([]);
        expect(await targetGroupStates(h)).toEqual([]);
        expect(recordedStates(h)).toEqual(['InService', 'Removing', 'Removed']);
        expect((await instancesOf(h)).map((i) => i.LifecycleState)).toEqual(['InService']);
      },
    );

    it('removes at once a target group none of whose instances is registered', async () => {
      const h = createHarness();
      await h.call(
        'CreateAutoScalingGroup',
        groupInput({ DesiredCapacity: 0, MinSize: 0, TargetGroupARNs: [TG] }),
      );
      await h.call('DetachTrafficSources', {
        AutoScalingGroupName: 'web-prod',
        TrafficSources: [{ Identifier: TG }],
      });
      expect(await trafficSourceStates(h)).toEqual([]);
      expect(recordedStates(h)).toEqual(['InService', 'Removing', 'Removed']);
    });

    it('answers only the traffic source type asked for', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ TargetGroupARNs: [TG] }));
      const out = (await h.call('DescribeTrafficSources', {
        AutoScalingGroupName: 'web-prod',
        TrafficSourceType: 'vpc-lattice',
      })) as DescribeTrafficSourcesResponse;
      expect(out.TrafficSources).toEqual([]);
    });
  });

  describe('ELB health checks', () => {
    it('leaves instances that ELB reports unhealthy in service while the attached target group has not reached InService', async () => {
      const h = createHarness();
      const id = await groupInService(h, { HealthCheckType: 'ELB' });
      h.ec2.failingVersions.add(1);
      await h.call('AttachTrafficSources', {
        AutoScalingGroupName: 'web-prod',
        TrafficSources: [{ Identifier: TG }],
      });
      await h.advance(600);
      expect(h.elb.health(TG, id)).toBe('unhealthy');
      expect(await trafficSourceStates(h)).toEqual([[TG, 'Added']]);
      expect((await instancesOf(h)).map((i) => [i.InstanceId, i.HealthStatus, i.LifecycleState])).toEqual([
        [id, 'Healthy', 'InService'],
      ]);
      expect(h.ec2.terminations).toEqual([]);
    });

    it('replaces an instance that ELB reports unhealthy once the attached target group is InService', async () => {
      const h = createHarness();
      const id = await groupInService(h, { HealthCheckType: 'ELB' });
      await h.call('AttachTrafficSources', {
        AutoScalingGroupName: 'web-prod',
        TrafficSources: [{ Identifier: TG }],
      });
      await h.advance(30);
      expect(await trafficSourceStates(h)).toEqual([[TG, 'InService']]);
      h.ec2.failingVersions.add(1);
      await h.advance(10);
      const [first] = await instancesOf(h);
      expect(first).toMatchObject({
        InstanceId: id,
        HealthStatus: 'Unhealthy',
        LifecycleState: 'Terminating',
      });
    });
  });
});
