/**
 * When an instance refresh gives up: new instances that never pass their health checks or never
 * launch, instances it must wait for (scale-in protected, Standby), and the alarm limit.
 *
 * "When an instance refresh is unable to continue making replacements because it is waiting to
 * replace instances on standby or protected from scale in, or the new instances do not pass their
 * health checks, Amazon EC2 Auto Scaling keeps retrying for an hour. [...] If the problem persists
 * after an hour, the operation fails."
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html#instance-refresh-limitations
 */
import type { DescribeInstanceRefreshesAnswer, InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import { SANDBOX_EPOCH } from '../../../sandbox/core/testing';
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

/** The documented retry window: "keeps retrying for an hour". */
const ONE_HOUR_MS = 3600 * 1000;
const V2 = { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', Version: '2' };
const ACTIVE = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];

async function readyGroup(h: Harness, overrides: Record<string, unknown> = {}) {
  await h.call(
    'CreateAutoScalingGroup',
    groupInput({
      MinSize: 0,
      MaxSize: 20,
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

async function start(h: Harness, preferences: Record<string, unknown> = {}) {
  return h.call('StartInstanceRefresh', {
    AutoScalingGroupName: 'web-prod',
    DesiredConfiguration: { LaunchTemplate: V2 },
    Preferences: { InstanceWarmup: 60, ...preferences },
  });
}

/**
 * Advances 30 s at a time until the refresh leaves its active statuses, calling `each` between steps;
 * fails the test when the refresh is still active after `maxSeconds` (the bound on a hang).
 */
async function runToEnd(
  h: Harness,
  maxSeconds = 4 * 3600,
  each: () => Promise<void> = async () => undefined,
): Promise<InstanceRefresh> {
  for (let waited = 0; waited <= maxSeconds; waited += 30) {
    const refresh = await refreshOf(h);
    if (!ACTIVE.includes(refresh.Status ?? '')) return refresh;
    await each();
    await h.advance(30);
  }
  throw new Error(`refresh still ${(await refreshOf(h)).Status ?? '?'} after ${maxSeconds} s`);
}

/** Advances 30 s at a time until the refresh has `status`; fails the test after `maxSeconds`. */
async function waitForStatus(h: Harness, status: string, maxSeconds = 4 * 3600): Promise<void> {
  for (let waited = 0; waited <= maxSeconds; waited += 30) {
    if ((await refreshOf(h)).Status === status) return;
    await h.advance(30);
  }
  throw new Error(`refresh never reached ${status} (now ${(await refreshOf(h)).Status ?? '?'})`);
}

async function waitForCheckpoint(h: Harness, maxSeconds = 3600): Promise<void> {
  for (let waited = 0; waited <= maxSeconds; waited += 10) {
    if (eventsOf(h, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached').length > 0) return;
    await h.advance(10);
  }
  throw new Error('no checkpoint reached');
}

/** Virtual time (epoch ms) of the first health check that found an instance of `version` unhealthy. */
function firstUnhealthyAt(h: Harness, version: number, after = 0): number {
  const entry = h.ctx.entries.find((e) => {
    if (e.kind !== 'state' || e.to !== 'Unhealthy' || SANDBOX_EPOCH + e.t * 1000 < after) return false;
    const id = e.resource.split('/')[1]?.replace('#health', '') ?? '';
    return h.ec2.get(id)?.launchTemplate?.version === version;
  });
  if (!entry) throw new Error(`no instance of version ${version} was found unhealthy`);
  return SANDBOX_EPOCH + entry.t * 1000;
}

async function inServiceOn(h: Harness, version: string): Promise<number> {
  return (await instancesOf(h)).filter(
    (i) => i.LifecycleState === 'InService' && i.LaunchTemplate?.Version === version,
  ).length;
}

async function ids(h: Harness): Promise<string[]> {
  return (await instancesOf(h)).map((i) => i.InstanceId ?? '');
}

describe('AutoScalingSim instance refresh failure', () => {
  describe('new instances that never pass their health checks', () => {
    it('fails the refresh one hour after the first health check failure, leaving the instances it had not reached in service', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      await start(h, { MinHealthyPercentage: 50 });
      let fewestOld = 4;
      const refresh = await runToEnd(h, 4 * 3600, async () => {
        fewestOld = Math.min(fewestOld, await inServiceOn(h, '1'));
      });
      expect(refresh.Status).toBe('Failed');
      expect(refresh.StatusReason).toMatch(
        /^Instance refresh failed: new instances did not pass their health checks/,
      );
      expect((refresh.EndTime?.getTime() ?? 0) - firstUnhealthyAt(h, 2)).toBe(ONE_HOUR_MS);
      // MinHealthy 50 % of 4: the first batch took two; the other two were never touched.
      expect(fewestOld).toBe(2);
    });

    it('emits EC2 Auto Scaling Instance Refresh Failed in the documented shape', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      const { InstanceRefreshId } = (await start(h, { MinHealthyPercentage: 50 })) as {
        InstanceRefreshId: string;
      };
      await runToEnd(h);
      const failed = eventsOf(h, 'EC2 Auto Scaling Instance Refresh Failed');
      expect(failed).toHaveLength(1);
      expect(Object.keys(failed[0]?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-refresh-failed.json'),
      );
      expect(failed[0]?.detail).toEqual({ InstanceRefreshId, AutoScalingGroupName: 'web-prod' });
    });

    it('says why it is waiting while it retries, naming an instance that failed', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(600);
      const refresh = await refreshOf(h);
      expect(refresh.Status).toBe('InProgress');
      expect(refresh.StatusReason).toMatch(
        /^Waiting for new instances to pass their health checks; .* For example: i-[0-9a-f]+ failed its ELB health check\.$/,
      );
    });

    it('gives the group back its old version for the failed replacements once the refresh has failed', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      await start(h, { MinHealthyPercentage: 50 });
      await runToEnd(h);
      await h.advance(600);
      expect(await inServiceOn(h, '1')).toBe(4);
      expect((await describeGroup(h)).LaunchTemplate?.Version).toBe('1');
    });

    it('restarts the hour when a replacement passes its health checks (AWS does not document this; the sandbox chooses it)', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      await start(h, { MinHealthyPercentage: 75 });
      await h.advance(1800);
      // The application recovers: the next replacement passes, then the version fails again.
      h.ec2.failingVersions.delete(2);
      while ((await refreshOf(h)).PercentageComplete === 0) await h.advance(10);
      await h.advance(10);
      const recoveredAt = h.ctx.clock.now();
      h.ec2.failingVersions.add(2);
      const refresh = await runToEnd(h);
      expect(refresh.Status).toBe('Failed');
      const firstFailure = firstUnhealthyAt(h, 2);
      const failureAfterRecovery = firstUnhealthyAt(h, 2, recoveredAt);
      expect((refresh.EndTime?.getTime() ?? 0) - failureAfterRecovery).toBe(ONE_HOUR_MS);
      expect((refresh.EndTime?.getTime() ?? 0) - firstFailure).toBeGreaterThan(ONE_HOUR_MS + 1800 * 1000);
    });
  });

  describe('new instances that recover', () => {
    it('counts a replacement that passes its health checks during a checkpoint pause as progress', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { MinHealthyPercentage: 75, CheckpointPercentages: [25, 100], CheckpointDelay: 7200 });
      await waitForCheckpoint(h);
      // In the pause the new version fails for half an hour, then recovers.
      h.ec2.failingVersions.add(2);
      await h.advance(1800);
      h.ec2.failingVersions.delete(2);
      const refresh = await runToEnd(h, 6 * 3600);
      expect(refresh.Status).toBe('Successful');
    });
  });

  describe('new instances that never launch', () => {
    it('takes no more instances out while replacements fail to launch, and fails an hour after the first failure', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failBoot = true;
      await start(h, { MinHealthyPercentage: 50 });
      let fewestOld = 4;
      const refresh = await runToEnd(h, 4 * 3600, async () => {
        fewestOld = Math.min(fewestOld, await inServiceOn(h, '1'));
      });
      expect(refresh.Status).toBe('Failed');
      expect(refresh.StatusReason).toMatch(/^Instance refresh failed: new instances failed to launch/);
      const [firstFailure] = eventsOf(h, 'EC2 Instance Launch Unsuccessful');
      const failedAt = Date.parse(String(firstFailure?.detail.EndTime));
      expect((refresh.EndTime?.getTime() ?? 0) - failedAt).toBe(ONE_HOUR_MS);
      expect(fewestOld).toBe(2);
    });
  });

  describe('with AutoRollback', () => {
    it('rolls back instead of failing: Rollback Started and Rollback Succeeded, no Failed event', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      await start(h, { MinHealthyPercentage: 50, AutoRollback: true });
      const refresh = await runToEnd(h);
      expect(refresh.Status).toBe('RollbackSuccessful');
      expect(refresh.RollbackDetails?.RollbackReason).toMatch(
        /^Instance refresh failed: new instances did not pass their health checks/,
      );
      expect((refresh.RollbackDetails?.RollbackStartTime?.getTime() ?? 0) - firstUnhealthyAt(h, 2)).toBe(
        ONE_HOUR_MS,
      );
      expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Rollback Started')).toHaveLength(1);
      expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Rollback Succeeded')).toHaveLength(1);
      expect(eventsOf(h, 'EC2 Auto Scaling Instance Refresh Failed')).toHaveLength(0);
      expect(await inServiceOn(h, '1')).toBe(4);
    });

    it('ends RollbackFailed with its event when the rollback’s own instances fail for an hour', async () => {
      const h = createHarness();
      await readyGroup(h);
      h.ec2.failingVersions.add(2);
      await start(h, { MinHealthyPercentage: 50, AutoRollback: true });
      await waitForStatus(h, 'RollbackInProgress');
      // "If it's not in a stable state, the rollback workflow will still occur, but it will eventually fail."
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
      h.ec2.failingVersions.add(1);
      const refresh = await runToEnd(h, 4 * 3600);
      expect(refresh.Status).toBe('RollbackFailed');
      expect(refresh.StatusReason).toMatch(
        /^Rollback failed: new instances did not pass their health checks/,
      );
      const failed = eventsOf(h, 'EC2 Auto Scaling Instance Refresh Rollback Failed');
      expect(failed).toHaveLength(1);
      expect(Object.keys(failed[0]?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-refresh-rollback-failed.json'),
      );
    });
  });

  describe('ScaleInProtectedInstances', () => {
    async function protectAll(h: Harness): Promise<void> {
      await h.call('SetInstanceProtection', {
        AutoScalingGroupName: 'web-prod',
        InstanceIds: await ids(h),
        ProtectedFromScaleIn: true,
      });
    }

    it('waits (the default) and fails the refresh after 3,600 s when protection is never removed', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      await protectAll(h);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(3599);
      const waiting = await refreshOf(h);
      expect(waiting.Status).toBe('InProgress');
      expect(waiting.StatusReason).toMatch(/^Waiting for scale-in protection to be removed/);
      await h.advance(1);
      const refresh = await refreshOf(h);
      expect(refresh.Status).toBe('Failed');
      expect(refresh.StatusReason).toMatch(
        /^Instance refresh failed: instances were still protected from scale in/,
      );
      expect((refresh.EndTime?.getTime() ?? 0) - (refresh.StartTime?.getTime() ?? 0)).toBe(ONE_HOUR_MS);
      expect(h.ec2.launches.filter((l) => l.version === 2)).toHaveLength(0);
    });

    it('carries on when protection is removed within the hour', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      await protectAll(h);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(1800);
      await h.call('SetInstanceProtection', {
        AutoScalingGroupName: 'web-prod',
        InstanceIds: await ids(h),
        ProtectedFromScaleIn: false,
      });
      expect((await runToEnd(h)).Status).toBe('Successful');
      expect(await inServiceOn(h, '2')).toBe(2);
    });

    it('replaces protected instances with Refresh', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      await protectAll(h);
      await start(h, { MinHealthyPercentage: 50, ScaleInProtectedInstances: 'Refresh' });
      expect((await runToEnd(h)).Status).toBe('Successful');
      expect(await inServiceOn(h, '2')).toBe(2);
    });

    it('leaves protected instances on their version with Ignore', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      const [protectedId] = await ids(h);
      await h.call('SetInstanceProtection', {
        AutoScalingGroupName: 'web-prod',
        InstanceIds: [protectedId],
        ProtectedFromScaleIn: true,
      });
      await start(h, { MinHealthyPercentage: 50, ScaleInProtectedInstances: 'Ignore' });
      expect((await runToEnd(h)).Status).toBe('Successful');
      const kept = (await instancesOf(h)).find((i) => i.InstanceId === protectedId);
      expect(kept?.LaunchTemplate?.Version).toBe('1');
    });
  });

  describe('StandbyInstances', () => {
    async function standby(h: Harness, instanceIds: string[], decrement = true): Promise<void> {
      await h.call('EnterStandby', {
        AutoScalingGroupName: 'web-prod',
        InstanceIds: instanceIds,
        ShouldDecrementDesiredCapacity: decrement,
      });
      await h.advance(60);
    }

    it('waits (the default) and fails the refresh after 3,600 s when the instances stay in Standby', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      await standby(h, await ids(h));
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(3599);
      const waiting = await refreshOf(h);
      expect(waiting.Status).toBe('InProgress');
      expect(waiting.StatusReason).toMatch(/^Waiting for the instances in Standby to return to service/);
      await h.advance(1);
      const refresh = await refreshOf(h);
      expect(refresh.Status).toBe('Failed');
      expect(refresh.StatusReason).toMatch(/^Instance refresh failed: instances were still in Standby/);
      expect((refresh.EndTime?.getTime() ?? 0) - (refresh.StartTime?.getTime() ?? 0)).toBe(ONE_HOUR_MS);
    });

    it('replaces the instances once they return to service within the hour', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 2 });
      const both = await ids(h);
      await standby(h, both);
      await start(h, { MinHealthyPercentage: 50 });
      await h.advance(1800);
      await h.call('ExitStandby', { AutoScalingGroupName: 'web-prod', InstanceIds: both });
      expect((await runToEnd(h)).Status).toBe('Successful');
      expect(await inServiceOn(h, '2')).toBe(2);
    });

    it('terminates instances in Standby without replacing them with Terminate', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 3 });
      const [resting] = await ids(h);
      await standby(h, [resting ?? '']);
      await start(h, { MinHealthyPercentage: 50, StandbyInstances: 'Terminate' });
      expect((await runToEnd(h)).Status).toBe('Successful');
      expect(h.ec2.get(resting ?? '')?.state).toBe('terminated');
      expect(h.ec2.launches.filter((l) => l.version === 2)).toHaveLength(2);
      expect(await inServiceOn(h, '2')).toBe(2);
    });

    it('leaves instances in Standby alone with Ignore', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 3 });
      const [resting] = await ids(h);
      await standby(h, [resting ?? '']);
      await start(h, { MinHealthyPercentage: 50, StandbyInstances: 'Ignore' });
      expect((await runToEnd(h)).Status).toBe('Successful');
      const kept = (await instancesOf(h)).find((i) => i.InstanceId === resting);
      expect(kept).toMatchObject({ LifecycleState: 'Standby', LaunchTemplate: { Version: '1' } });
      expect(await inServiceOn(h, '2')).toBe(2);
    });
  });

  describe('AlarmSpecification', () => {
    const alarms = (count: number) => Array.from({ length: count }, (_, i) => `alarm-${i + 1}`);

    it('refuses more than 10 alarms with a ValidationError and starts nothing', async () => {
      // "You can specify up to 10 alarms." https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AlarmSpecification.html
      const h = createHarness();
      await readyGroup(h);
      const error = await errorOf(start(h, { AlarmSpecification: { Alarms: alarms(11) } }));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toBe(
        'Preferences.AlarmSpecification.Alarms: you can specify up to 10 alarms, got 11',
      );
      const out = (await h.call('DescribeInstanceRefreshes', {
        AutoScalingGroupName: 'web-prod',
      })) as DescribeInstanceRefreshesAnswer;
      expect(out.InstanceRefreshes).toEqual([]);
    });

    it('accepts 10 alarms', async () => {
      const h = createHarness();
      await readyGroup(h);
      await start(h, { AlarmSpecification: { Alarms: alarms(10) } });
      expect((await refreshOf(h)).Preferences?.AlarmSpecification?.Alarms).toHaveLength(10);
    });
  });
});
