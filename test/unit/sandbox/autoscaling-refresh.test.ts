import type { DescribeInstanceRefreshesAnswer, InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import type { AlarmState } from '../../../sandbox/services/autoscaling';
import type { Harness } from './autoscaling-fakes';
import {
  TG,
  createHarness,
  describeGroup,
  errorOf,
  eventsOf,
  fixtureDetailKeys,
  groupInput,
  instancesOf,
} from './autoscaling-fakes';

const V1 = { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', Version: '1' };
const V2 = { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', Version: '2' };

async function readyGroup(h: Harness, overrides: Record<string, unknown> = {}) {
  await h.call(
    'CreateAutoScalingGroup',
    groupInput({
      MinSize: 1,
      MaxSize: 200,
      DesiredCapacity: 4,
      TargetGroupARNs: [TG],
      HealthCheckType: 'ELB',
      ...overrides,
    }),
  );
  await h.advance(60);
}

async function refreshOf(h: Harness): Promise<InstanceRefresh> {
  const out = (await h.call('DescribeInstanceRefreshes', {
    AutoScalingGroupName: 'web-prod',
  })) as DescribeInstanceRefreshesAnswer;
  const refresh = out.InstanceRefreshes?.[0];
  if (!refresh) throw new Error('no refresh');
  return refresh;
}

async function start(
  h: Harness,
  preferences: Record<string, unknown> = {},
  desired: object | undefined = V2,
) {
  return h.call('StartInstanceRefresh', {
    AutoScalingGroupName: 'web-prod',
    ...(desired ? { DesiredConfiguration: { LaunchTemplate: desired } } : {}),
    Preferences: { InstanceWarmup: 60, ...preferences },
  });
}

/** Advances in steps until the refresh leaves its active statuses (or the step budget runs out). */
async function runToEnd(h: Harness, stepSeconds = 30, maxSteps = 2000): Promise<InstanceRefresh> {
  for (let i = 0; i < maxSteps; i++) {
    const refresh = await refreshOf(h);
    if (
      !['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'].includes(refresh.Status ?? '')
    )
      return refresh;
    await h.advance(stepSeconds);
  }
  throw new Error('refresh did not finish');
}

/** Instances serving traffic: InService in the group and healthy in the target group. */
async function serving(h: Harness): Promise<number> {
  const instances = await instancesOf(h);
  return instances.filter(
    (i) => i.LifecycleState === 'InService' && h.elb.health(TG, i.InstanceId ?? '') === 'healthy',
  ).length;
}

/** Runs the refresh to its end, sampling every second; returns the fewest instances serving seen. */
async function fewestServing(h: Harness, maxSeconds = 5000): Promise<number> {
  let fewest = await serving(h);
  for (let i = 0; i < maxSeconds; i++) {
    const refresh = await refreshOf(h);
    if (!['Pending', 'InProgress', 'Baking'].includes(refresh.Status ?? '')) return fewest;
    await h.advance(1);
    fewest = Math.min(fewest, await serving(h));
  }
  throw new Error('refresh did not finish');
}

/** Launch counts of a version grouped by launch time: one entry per batch. */
function batches(h: Harness, version: number): number[] {
  const byTime = new Map<number, number>();
  for (const launch of h.ec2.launches) {
    if (launch.version === version) byTime.set(launch.at, (byTime.get(launch.at) ?? 0) + 1);
  }
  return [...byTime.values()];
}

describe('AutoScalingSim instance refresh', () => {
  describe('a 100-instance group with checkpoints 25/50/100, MinHealthy 90 %, warmup 60 s', () => {
    it('replaces at most 10 at a time, shortening batches to land on each checkpoint, and pauses CheckpointDelay at 25 % and 50 %', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 100 });
      const startedAt = h.ctx.clock.now();
      await start(h, { MinHealthyPercentage: 90, CheckpointPercentages: [25, 50, 100] });

      let lowestInService = 100;
      for (let i = 0; i < 1000; i++) {
        const refresh = await refreshOf(h);
        if (refresh.Status === 'Successful') break;
        const inService = (await instancesOf(h)).filter((x) => x.LifecycleState === 'InService').length;
        lowestInService = Math.min(lowestInService, inService);
        await h.advance(10);
      }

      expect((await refreshOf(h)).Status).toBe('Successful');
      // 10 per batch from (100 − 90) % of 100; the third and sixth batches shrink to 5 to reach 25 % and 50 %.
      expect(batches(h, 2)).toEqual([10, 10, 5, 10, 10, 5, 10, 10, 10, 10, 10]);
      expect(lowestInService).toBeGreaterThanOrEqual(90);
      const checkpoints = eventsOf(h, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached');
      expect(checkpoints.map((e) => [e.detail.CheckpointPercentage, e.detail.CheckpointDelay])).toEqual([
        ['25', '3600'],
        ['50', '3600'],
      ]);
      // Each batch waits 30 s boot + 60 s warmup; each checkpoint adds 3600 s before the next batch.
      const launchTimes = [
        ...new Set(h.ec2.launches.filter((l) => l.version === 2).map((l) => (l.at - startedAt) / 1000)),
      ];
      expect(launchTimes).toEqual([0, 90, 180, 3870, 3960, 4050, 7740, 7830, 7920, 8010, 8100]);
      expect((await instancesOf(h)).every((x) => x.LaunchTemplate?.Version === '2')).toBe(true);
    });
  });

  describe('batches', () => {
    it('launches new instances before terminating old ones when MaxHealthyPercentage is above 100', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 100, MaxHealthyPercentage: 150 });
      await h.advance(1);
      expect(batches(h, 2)).toEqual([2]);
      expect(h.ec2.terminations).toHaveLength(0);
      await h.advance(89);
      // The old instances leave (deregister, drain) only once the new ones are ready.
      expect(h.elb.deregistrations).toHaveLength(2);
      expect((await runToEnd(h)).Status).toBe('Successful');
    });

    it('waits for the new instances to be healthy and warmed up before the next batch', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(89);
      expect(batches(h, 2)).toEqual([2]);
      await h.advance(1);
      expect(batches(h, 2)).toEqual([2, 2]);
    });

    it('starts no further batch while the new instances never pass the target health check', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(600);
      expect((await refreshOf(h)).PercentageComplete).toBe(0);
      const oldInService = (await instancesOf(h)).filter(
        (i) => i.LaunchTemplate?.Version === '1' && i.LifecycleState === 'InService',
      );
      expect(oldInService).toHaveLength(2);
    });

    it('leaves instances already on the desired version alone with SkipMatching', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      await h.call('UpdateAutoScalingGroup', {
        AutoScalingGroupName: 'web-prod',
        LaunchTemplate: V2,
        DesiredCapacity: 3,
      });
      await h.advance(60);
      await start(h, { SkipMatching: true, MinHealthyPercentage: 0 });
      expect((await runToEnd(h)).Status).toBe('Successful');
      expect(h.ec2.launches.filter((l) => l.version === 2)).toHaveLength(3);
    });
  });

  describe('launch before terminate', () => {
    // "Launch the new instances first before terminating the old ones if the minimum healthy
    // percentage is set to 100 percent. This ensures that your desired capacity is maintained at all times."
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
    it('never takes an instance out of service with MinHealthyPercentage 100: each replacement is healthy before an old one leaves', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 100 });
      await h.advance(1);
      expect(batches(h, 2)).toEqual([1]);
      expect(h.elb.deregistrations).toHaveLength(0);
      expect(await fewestServing(h)).toBe(4);
      expect((await refreshOf(h)).Status).toBe('Successful');
      expect(batches(h, 2)).toEqual([1, 1, 1, 1]);
    });

    // "When MaxHealthyPercentage is explicitly set and it is mathematically impossible to replace
    // instances while honoring both … bounds simultaneously, Auto Scaling launches a new instance before
    // terminating an old one." https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
    it('launches first, one at a time, when an explicit MaxHealthyPercentage 100 leaves no room below 90 % of 6 rounded up', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 6 });
      await start(h, { MinHealthyPercentage: 90, MaxHealthyPercentage: 100 });
      expect(await fewestServing(h)).toBe(6);
      expect(batches(h, 2)).toEqual([1, 1, 1, 1, 1, 1]);
    });

    // "When MaxHealthyPercentage is omitted, Auto Scaling terminates an instance and launches its
    // replacement simultaneously." (same page)
    it('terminates one and launches its replacement together when MaxHealthyPercentage is omitted and leaves no room', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 6 });
      await start(h, { MinHealthyPercentage: 90 });
      await h.advance(1);
      expect(batches(h, 2)).toEqual([1]);
      expect(h.elb.deregistrations).toHaveLength(1);
      expect(await fewestServing(h)).toBe(5);
    });

    it('uses both sides of the range with MinHealthy 90 and MaxHealthy 120: 2 launched first and 1 terminated at once in a group of 10', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 10 });
      await start(h, { MinHealthyPercentage: 90, MaxHealthyPercentage: 120 });
      await h.advance(1);
      expect(batches(h, 2)).toEqual([3]);
      expect(h.elb.deregistrations).toHaveLength(1);
      expect(await fewestServing(h)).toBe(9);
      expect(batches(h, 2)).toEqual([3, 3, 3, 1]);
    });
  });

  describe('with an instance maintenance policy on the group', () => {
    // "By setting an instance maintenance policy on your Auto Scaling group, you no longer have to specify
    // values for minimum and maximum healthy percentage parameters for the instance refresh feature unless
    // you want to override the instance maintenance policy."
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/set-instance-maintenance-policy-on-group.html
    const policy = (min: number, max: number) => ({
      InstanceMaintenancePolicy: { MinHealthyPercentage: min, MaxHealthyPercentage: max },
    });

    it('takes the healthy percentages from the policy when the refresh sets none', async () => {
      const h = createHarness();
      await readyGroup(h, policy(50, 150));
      await start(h);
      expect((await refreshOf(h)).Preferences).toMatchObject({
        MinHealthyPercentage: 50,
        MaxHealthyPercentage: 150,
      });
    });

    it('replaces one instance at a time, launching first, with a policy of 100/110', async () => {
      const h = createHarness();
      await readyGroup(h, policy(100, 110));
      await start(h);
      await h.advance(1);
      expect(batches(h, 2)).toEqual([1]);
      expect(h.elb.deregistrations).toHaveLength(0);
      expect(await fewestServing(h)).toBe(4);
      expect(batches(h, 2)).toEqual([1, 1, 1, 1]);
    });

    it('lets the refresh’s own percentages override the policy', async () => {
      const h = createHarness();
      await readyGroup(h, policy(100, 110));
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(1);
      expect((await refreshOf(h)).Preferences).toMatchObject({
        MinHealthyPercentage: 50,
        MaxHealthyPercentage: 110,
      });
      expect(batches(h, 2)).toEqual([2]);
    });

    it('keeps the preferences a running refresh started with when the policy changes', async () => {
      const h = createHarness();
      await readyGroup(h, policy(100, 110));
      await start(h);
      await h.call('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web-prod', ...policy(0, 100) });
      expect(await fewestServing(h)).toBe(4);
      expect(batches(h, 2)).toEqual([1, 1, 1, 1]);
    });
  });

  describe('status and events', () => {
    it('is Pending with AWS’s default preferences right after StartInstanceRefresh', async () => {
      const h = createHarness();
      await readyGroup(h);
      await h.call('StartInstanceRefresh', {
        AutoScalingGroupName: 'web-prod',
        DesiredConfiguration: { LaunchTemplate: V2 },
      });
      const refresh = await refreshOf(h);
      expect(refresh).toMatchObject({
        Status: 'Pending',
        Strategy: 'Rolling',
        InstancesToUpdate: 4,
        PercentageComplete: 0,
        Preferences: {
          MinHealthyPercentage: 90,
          MaxHealthyPercentage: 100,
          InstanceWarmup: 0,
          SkipMatching: false,
          AutoRollback: false,
        },
        DesiredConfiguration: { LaunchTemplate: V2 },
      });
    });

    it('reports progress while in progress and emits Started and Succeeded in the documented shape', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(95);
      expect(await refreshOf(h)).toMatchObject({
        Status: 'InProgress',
        PercentageComplete: 50,
        InstancesToUpdate: 2,
      });
      await runToEnd(h);
      const started = eventsOf(h, 'EC2 Auto Scaling Instance Refresh Started');
      const succeeded = eventsOf(h, 'EC2 Auto Scaling Instance Refresh Succeeded');
      expect(started).toHaveLength(1);
      expect(Object.keys(started[0]?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-refresh-started.json'),
      );
      expect(Object.keys(succeeded[0]?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-refresh-succeeded.json'),
      );
    });

    it('emits the checkpoint event in the documented shape', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 50, CheckpointPercentages: [50, 100], CheckpointDelay: 300 });
      await h.advance(95);
      const [event] = eventsOf(h, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached');
      expect(Object.keys(event?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-refresh-checkpoint-reached.json'),
      );
    });

    describe('a partial refresh (the last checkpoint below 100 %)', () => {
      // "Amazon EC2 Auto Scaling emits events for each checkpoint except for the 100 percent complete
      // checkpoint", and a refresh whose last checkpoint is 50 "will stop replacing instances after
      // reaching that checkpoint percentage".
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
      it('emits Checkpoint Reached for every checkpoint, the last one too, then succeeds with the rest untouched', async () => {
        const h = createHarness();
        await readyGroup(h, { DesiredCapacity: 10 });
        await start(h, { MinHealthyPercentage: 80, CheckpointPercentages: [20, 50], CheckpointDelay: 300 });
        const refresh = await runToEnd(h);
        expect(refresh.Status).toBe('Successful');
        const checkpoints = eventsOf(h, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached');
        expect(checkpoints.map((e) => e.detail.CheckpointPercentage)).toEqual(['20', '50']);
        const versions = (await instancesOf(h)).map((x) => x.LaunchTemplate?.Version);
        expect(versions.filter((v) => v === '2')).toHaveLength(5);
        expect(versions.filter((v) => v === '1')).toHaveLength(5);
      });

      it('emits the last checkpoint’s event before Succeeded, without waiting CheckpointDelay', async () => {
        const h = createHarness();
        await readyGroup(h);
        await start(h, { MinHealthyPercentage: 50, CheckpointPercentages: [50], CheckpointDelay: 3600 });
        const refresh = await runToEnd(h, 10);
        const ended = refresh.EndTime?.getTime() ?? Number.NaN;
        const order = h.ctx.events
          .map((e) => e['detail-type'])
          .filter((type) => type.startsWith('EC2 Auto Scaling Instance Refresh'));
        expect(order).toEqual([
          'EC2 Auto Scaling Instance Refresh Started',
          'EC2 Auto Scaling Instance Refresh Checkpoint Reached',
          'EC2 Auto Scaling Instance Refresh Succeeded',
        ]);
        // One batch (30 s boot + 60 s warmup), then done: no hour at the final checkpoint.
        expect(ended - (refresh.StartTime?.getTime() ?? 0)).toBeLessThan(3600 * 1000);
      });

      it('emits no checkpoint event when the last checkpoint is 100', async () => {
        const h = createHarness();
        await readyGroup(h);
        await start(h, { MinHealthyPercentage: 50, CheckpointPercentages: [100] });
        await runToEnd(h);
        expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached')).toEqual([]);
      });
    });

    it('gives the group the desired configuration once the refresh succeeds', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 50 });
      await runToEnd(h);
      expect((await describeGroup(h)).LaunchTemplate?.Version).toBe('2');
    });

    it('rejects a second refresh while one is active with InstanceRefreshInProgressFault', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h);
      const error = await errorOf(start(h));
      expect(error.name).toBe('InstanceRefreshInProgressFault');
    });

    it('rejects a launch template update while a refresh with a desired configuration is active', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h);
      const error = await errorOf(
        h.call('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web-prod', LaunchTemplate: V1 }),
      );
      expect(error.message).toContain('An active instance refresh with a desired configuration exists');
    });

    it('rejects CheckpointDelay without CheckpointPercentages', async () => {
      const h = createHarness();
      await readyGroup(h);
      const error = await errorOf(start(h, { CheckpointDelay: 60 }));
      expect(error.message).toBe(
        'Preferences.CheckpointPercentages must be specified when CheckpointDelay is specified',
      );
    });
  });

  describe('CancelInstanceRefresh', () => {
    it('lets the batch in flight finish, starts no more and ends Cancelled with its event', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(10);
      await h.call('CancelInstanceRefresh', { AutoScalingGroupName: 'web-prod' });
      expect((await refreshOf(h)).Status).toBe('Cancelling');
      expect((await runToEnd(h)).Status).toBe('Cancelled');
      expect(batches(h, 2)).toEqual([2]);
      expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Cancelled')).toHaveLength(1);
    });

    it('fails with ActiveInstanceRefreshNotFoundFault when nothing is in progress', async () => {
      const h = createHarness();
      await readyGroup(h);
      const error = await errorOf(h.call('CancelInstanceRefresh', { AutoScalingGroupName: 'web-prod' }));
      expect(error.name).toBe('ActiveInstanceRefreshNotFoundFault');
    });
  });

  describe('alarms and rollback', () => {
    function alarmed(): { state: Map<string, AlarmState>; h: Harness } {
      const state = new Map<string, AlarmState>();
      const h = createHarness({ alarmState: (name) => state.get(name) ?? 'INSUFFICIENT_DATA' });
      return { state, h };
    }

    it('fails the refresh when an alarm goes into ALARM and emits Failed', async () => {
      const { state, h } = alarmed();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 50, AlarmSpecification: { Alarms: ['web-5xx'] } });
      await h.advance(20);
      state.set('web-5xx', 'ALARM');
      const refresh = await runToEnd(h);
      expect(refresh.Status).toBe('Failed');
      expect(refresh.StatusReason).toContain('web-5xx');
      expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Failed')).toHaveLength(1);
    });

    it('rolls back to the previous version on alarm when AutoRollback is on', async () => {
      const { state, h } = alarmed();
      await readyGroup(h);
      await start(h, {
        MinHealthyPercentage: 50,
        AutoRollback: true,
        AlarmSpecification: { Alarms: ['web-5xx'] },
      });
      await h.advance(95);
      state.set('web-5xx', 'ALARM');
      const refresh = await runToEnd(h);
      expect(refresh.Status).toBe('RollbackSuccessful');
      expect(refresh.RollbackDetails?.RollbackReason).toContain('web-5xx');
      expect((await instancesOf(h)).map((i) => i.LaunchTemplate?.Version)).toEqual(['1', '1', '1', '1']);
      expect((await describeGroup(h)).LaunchTemplate?.Version).toBe('1');
      expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Rollback Started')).toHaveLength(1);
      expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Rollback Succeeded')).toHaveLength(1);
    });

    it('replaces the new instances with the previous version on RollbackInstanceRefresh', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(95);
      await h.call('RollbackInstanceRefresh', { AutoScalingGroupName: 'web-prod' });
      expect((await refreshOf(h)).Status).toBe('RollbackInProgress');
      expect((await runToEnd(h)).Status).toBe('RollbackSuccessful');
      expect((await instancesOf(h)).every((i) => i.LaunchTemplate?.Version === '1')).toBe(true);
    });

    // A rollback replaces the new instances with the same preferences, so MinHealthyPercentage 100
    // still means "launch first": capacity given back is the refresh's own launched-first instance,
    // never a healthy one. https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
    it('gives back a launch-first batch’s surge instance, not a serving one, when rolled back mid-batch with MinHealthy 100', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      await start(h, { MinHealthyPercentage: 100, MaxHealthyPercentage: 150 });
      // The second batch: its launched-first instance boots and is InService, its target not yet
      // healthy, while the first batch's new instance serves beside an old one.
      for (let i = 0; i < 2000 && batches(h, 2).length < 2; i++) await h.advance(1);
      expect(batches(h, 2)).toEqual([1, 1]);
      await h.advance(40);
      expect(await serving(h)).toBe(2);
      await h.call('RollbackInstanceRefresh', { AutoScalingGroupName: 'web-prod' });
      let fewest = await serving(h);
      for (let i = 0; i < 5000; i++) {
        if ((await refreshOf(h)).Status !== 'RollbackInProgress') break;
        await h.advance(1);
        fewest = Math.min(fewest, await serving(h));
      }
      expect((await refreshOf(h)).Status).toBe('RollbackSuccessful');
      expect(fewest).toBe(2);
      const inService = (await instancesOf(h)).filter((i) => i.LifecycleState === 'InService');
      expect(inService.map((i) => i.LaunchTemplate?.Version)).toEqual(['1', '1']);
    });

    it('refuses a rollback when the group uses $Latest with IrreversibleInstanceRefreshFault', async () => {
      const h = createHarness();
      await readyGroup(h, {
        LaunchTemplate: { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', Version: '$Latest' },
      });
      await start(h, {}, V2);
      const error = await errorOf(h.call('RollbackInstanceRefresh', { AutoScalingGroupName: 'web-prod' }));
      expect(error.name).toBe('IrreversibleInstanceRefreshFault');
    });
  });
});
