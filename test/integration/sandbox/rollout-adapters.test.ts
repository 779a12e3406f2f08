/**
 * The rollout's four adapters against a whole sandbox region (through the real SDK clients, on the
 * virtual clock): the behaviour the rollout steps rely on, which moto cannot show (instance
 * refreshes that run, groups whose instances come up and register, alarms that change state):
 * launch template versions made once per client token, a refresh adopted when started twice,
 * a green group cloned with its hooks, tags and policies, target groups attached and detached,
 * target health, and moves into ALARM read back from the alarm history.
 */
import { PutScalingPolicyCommand } from '@aws-sdk/client-auto-scaling';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { AutoScalingGroups } from '../../../shared/aws/autoscaling';
import { Alarms } from '../../../shared/aws/cloudwatch';
import { TargetGroups } from '../../../shared/aws/elbv2';
import { LaunchTemplates } from '../../../shared/aws/launch-templates';
import { clientToken } from '../../../shared/domain/ids';
import { RefreshInProgressError } from '../../../shared/domain/step-errors';
import type { RefreshPreferences, ScalingPolicySpec } from '../../../shared/usecases/rollout/deps';
import type { SandboxClients } from '../../../sandbox/core/sdk';
import { createRegion, type Region } from '../../../sandbox/region';
import { provisionFleet, sleep, waitUntilHealthy, type Fleet } from '../../../sandbox/stories/fleet';

interface World {
  region: Region;
  aws: SandboxClients;
  fleet: Fleet;
  groups: AutoScalingGroups;
  templates: LaunchTemplates;
  targetGroups: TargetGroups;
  alarms: Alarms;
  /** A second release's image. */
  nextImageId: string;
}

/** A fresh region with a healthy group `web` of two instances on launch template version 1. */
async function withWorld(test: (world: World) => Promise<void>): Promise<void> {
  const region = await createRegion({ seed: 17 });
  try {
    await region.engine.run(async () => {
      const aws = region.clientsFor('test:rollout');
      const imageId = region.ec2.seedImage({ name: 'web-1.0.0' });
      const nextImageId = region.ec2.seedImage({ name: 'web-1.1.0' });
      const fleet = await provisionFleet(region, aws, {
        name: 'web',
        size: 2,
        imageId,
        instanceType: 'c7i.large',
      });
      await waitUntilHealthy(aws, [fleet]);
      await test({
        region,
        aws,
        fleet,
        groups: new AutoScalingGroups(aws.autoScaling),
        templates: new LaunchTemplates(aws.ec2),
        targetGroups: new TargetGroups(aws.elbv2),
        alarms: new Alarms(aws.cloudWatch),
        nextImageId,
      });
    });
  } finally {
    await region.dispose();
  }
}

/** Waits (virtual time) until `check` holds, at most `seconds`. */
async function until(seconds: number, check: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; waited < seconds; waited += 15) {
    if (await check()) return;
    await sleep(15);
  }
  throw new Error(`not within ${seconds} virtual seconds`);
}

const preferences: RefreshPreferences = {
  minHealthyPercentage: 50,
  maxHealthyPercentage: 100,
  instanceWarmupSeconds: 30,
  bakeTimeSeconds: 0,
  skipMatching: true,
  autoRollback: true,
  alarms: [],
  scaleInProtectedInstances: 'Wait',
  standbyInstances: 'Wait',
};

async function nextVersion(world: World, deploymentId = 'd-1'): Promise<{ id: string; version: number }> {
  return world.templates.createVersion({
    launchTemplateId: world.fleet.launchTemplateId,
    sourceVersion: 1,
    imageId: world.nextImageId,
    description: `web 1.1.0 (${deploymentId})`,
    clientToken: clientToken([deploymentId, 'lt-version', 'prod']),
  });
}

describe('the rollout adapters against the sandbox', () => {
  describe('LaunchTemplates', () => {
    it('makes one version per client token, with the new image, and resolves $Latest to it', async () => {
      await withWorld(async (world) => {
        const first = await nextVersion(world);
        const again = await nextVersion(world);

        expect(again).toEqual(first);
        expect(first.version).toBe(2);
        expect(await world.templates.resolveVersion(world.fleet.launchTemplateId, '$Latest')).toBe(2);
        expect(await world.templates.resolveVersion(world.fleet.launchTemplateId, '$Default')).toBe(1);
        expect(await world.templates.describeVersion(world.fleet.launchTemplateId, 2)).toEqual({
          version: 2,
          imageId: world.nextImageId,
        });
        expect(await world.templates.describeVersion(world.fleet.launchTemplateId, 9)).toBeUndefined();
      });
    });
  });

  describe('AutoScalingGroups: the rolling path', () => {
    it('describes the group with its target group and each instance’s template version', async () => {
      await withWorld(async (world) => {
        const group = await world.groups.describeGroup('web');

        expect(group).toMatchObject({
          name: 'web',
          launchTemplate: { id: world.fleet.launchTemplateId, version: '1' },
          capacity: { min: 2, max: 4, desired: 2 },
          healthCheckType: 'ELB',
          targetGroupArns: [world.fleet.targetGroupArn],
        });
        expect(
          group?.instances.map((instance) => [instance.lifecycleState, instance.launchTemplateVersion]),
        ).toEqual([
          ['InService', '1'],
          ['InService', '1'],
        ]);
        expect(await world.groups.describeGroup('nope')).toBeUndefined();
      });
    });

    it('starts a refresh once, adopts it when started again, refuses another version, and sees it succeed', async () => {
      await withWorld(async (world) => {
        const target = await nextVersion(world);

        const started = await world.groups.startRefresh({
          group: 'web',
          launchTemplate: target,
          preferences,
        });
        const again = await world.groups.startRefresh({ group: 'web', launchTemplate: target, preferences });
        const other = world.groups.startRefresh({
          group: 'web',
          launchTemplate: { id: target.id, version: 1 },
          preferences,
        });

        expect(started.outcome).toBe('started');
        expect(again).toEqual({ refreshId: started.refreshId, outcome: 'already-started' });
        await expect(other).rejects.toBeInstanceOf(RefreshInProgressError);
        expect((await world.groups.activeRefresh('web'))?.refreshId).toBe(started.refreshId);

        await until(
          1800,
          async () => (await world.groups.describeRefresh('web', started.refreshId))?.status === 'Successful',
        );
        expect(await world.groups.describeRefresh('web', started.refreshId)).toMatchObject({
          desiredLaunchTemplate: { id: target.id, version: '2' },
          percentageComplete: 100,
        });
        expect(await world.groups.activeRefresh('web')).toBeUndefined();
        expect(await world.groups.rollbackRefresh('web')).toBe('none');
        const group = await world.groups.describeGroup('web');
        expect(group?.launchTemplate).toEqual({ id: target.id, version: '2' });
        expect(group?.instances.map((instance) => instance.launchTemplateVersion)).toEqual(['2', '2']);
      });
    });

    it('rolls back a refresh in progress', async () => {
      await withWorld(async (world) => {
        const target = await nextVersion(world);
        await world.groups.startRefresh({ group: 'web', launchTemplate: target, preferences });
        await sleep(60);

        const rollback = await world.groups.rollbackRefresh('web');

        expect(rollback).not.toBe('none');
        await until(1800, async () => (await world.groups.activeRefresh('web')) === undefined);
        const refreshId = rollback === 'none' ? '' : rollback.refreshId;
        expect((await world.groups.describeRefresh('web', refreshId))?.status).toBe('RollbackSuccessful');
      });
    });
  });

  describe('AutoScalingGroups and TargetGroups: the blue/green path', () => {
    it('clones a green group with hooks, tags and policies, attaches it, and retires blue', async () => {
      await withWorld(async (world) => {
        await world.aws.autoScaling.send(
          new PutScalingPolicyCommand({
            AutoScalingGroupName: 'web',
            PolicyName: 'cpu50',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingConfiguration: {
              TargetValue: 50,
              PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
            },
          }),
        );
        const blue = await world.groups.describeGroup('web');
        if (!blue) throw new Error('no blue group');
        const target = await nextVersion(world);
        const tags = { 'kiln:managed': 'true', 'kiln:service': 'web', 'kiln:role': 'green' };
        const spec = {
          name: 'web-kiln-1',
          launchTemplate: target,
          capacity: blue.capacity,
          subnets: blue.subnets,
          healthCheckType: blue.healthCheckType,
          healthCheckGracePeriod: blue.healthCheckGracePeriod,
          tags,
          lifecycleHooks: [
            {
              name: 'warm-up',
              transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' as const,
              heartbeatTimeoutSeconds: 60,
              defaultResult: 'CONTINUE' as const,
            },
          ],
          targetGroupArns: [],
        };

        expect(await world.groups.createGroup(spec)).toBe('created');
        expect(await world.groups.createGroup(spec)).toBe('already-exists');
        expect(await world.groups.lifecycleHooks('web-kiln-1')).toEqual([
          {
            name: 'warm-up',
            transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
            heartbeatTimeoutSeconds: 60,
            defaultResult: 'CONTINUE',
          },
        ]);
        for (const policy of await world.groups.scalingPolicies('web')) {
          await world.groups.putScalingPolicy('web-kiln-1', policy);
        }
        // The same policies, each under its own ARN.
        const withoutArn = (policies: ScalingPolicySpec[]) =>
          policies.map(({ arn: _arn, ...policy }) => policy);
        expect(withoutArn(await world.groups.scalingPolicies('web-kiln-1'))).toEqual(
          withoutArn(await world.groups.scalingPolicies('web')),
        );
        expect(
          (await world.groups.findGroupsByTags({ 'kiln:service': 'web', 'kiln:role': 'green' })).map(
            (g) => g.name,
          ),
        ).toEqual(['web-kiln-1']);

        await world.groups.suspendProcesses('web', ['AZRebalance']);
        await world.groups.attachTargetGroups('web-kiln-1', [world.fleet.targetGroupArn]);
        const greenIds = async () =>
          new Set((await world.groups.describeGroup('web-kiln-1'))?.instances.map((i) => i.instanceId) ?? []);
        await until(900, async () => {
          const ids = await greenIds();
          const health = await world.targetGroups.targetHealth(world.fleet.targetGroupArn);
          return (
            ids.size === 2 &&
            health.filter((t) => ids.has(t.instanceId) && t.state === 'healthy').length === 2
          );
        });

        await world.groups.detachTargetGroups('web', [world.fleet.targetGroupArn]);
        const blueIds = new Set(blue.instances.map((instance) => instance.instanceId));
        const afterDetach = await world.targetGroups.targetHealth(world.fleet.targetGroupArn);
        expect(afterDetach.filter((t) => blueIds.has(t.instanceId)).map((t) => t.state)).toEqual([
          'draining',
          'draining',
        ]);
        expect((await world.groups.describeGroup('web'))?.targetGroupArns).toEqual([]);
        expect((await world.groups.describeGroup('web'))?.suspendedProcesses).toEqual(['AZRebalance']);
        await world.groups.resumeProcesses('web', ['AZRebalance']);
        await world.groups.updateGroup('web', { capacity: { min: 0, max: 0, desired: 0 } });
        expect((await world.groups.describeGroup('web'))?.capacity).toEqual({ min: 0, max: 0, desired: 0 });

        expect(await world.groups.deleteGroup('web')).toBe('deleted');
        await until(900, async () => (await world.groups.describeGroup('web')) === undefined);
        expect(await world.groups.deleteGroup('web')).toBe('already-gone');
      });
    });
  });

  describe('Alarms', () => {
    it('reads the current states and the moves into ALARM since a moment', async () => {
      await withWorld(async (world) => {
        await world.aws.cloudWatch.send(
          new PutMetricAlarmCommand({
            AlarmName: 'web-5xx',
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'HTTPCode_Target_5XX_Count',
            Statistic: 'Sum',
            Period: 3600,
            EvaluationPeriods: 1,
            Threshold: 10,
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: 'notBreaching',
          }),
        );
        const since = world.region.engine.clock.now();
        await sleep(60);
        await world.aws.cloudWatch.send(
          new SetAlarmStateCommand({
            AlarmName: 'web-5xx',
            StateValue: 'ALARM',
            StateReason: '5xx above 10',
          }),
        );
        const alarmAt = world.region.engine.clock.now();
        await sleep(60);
        await world.aws.cloudWatch.send(
          new SetAlarmStateCommand({ AlarmName: 'web-5xx', StateValue: 'OK', StateReason: 'recovered' }),
        );

        expect(await world.alarms.states(['web-5xx', 'missing'])).toEqual([
          {
            name: 'web-5xx',
            kind: 'metric',
            state: 'OK',
            reason: 'recovered',
            updatedAt: world.region.engine.clock.now(),
          },
        ]);
        expect(await world.alarms.wentIntoAlarm(['web-5xx', 'missing'], since)).toEqual([
          { name: 'web-5xx', at: alarmAt, reason: '5xx above 10' },
        ]);
        expect(await world.alarms.wentIntoAlarm(['web-5xx'], alarmAt + 1)).toEqual([]);
      });
    });
  });
});
