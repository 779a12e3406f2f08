/**
 * The default story: a region with a demo service, `checkout`, running in two environments
 * (staging with N instances, production with 2N, each behind its own load balancer with a 5xx
 * alarm). Course:
 * 1. The platform team's infrastructure exists (what their CloudFormation would have made):
 *    base and baked AMIs, launch templates, load balancers, target groups, Auto Scaling groups,
 *    alarms. Every resource is made through the real SDK clients.
 * 2. Both fleets come up: instances boot, pass health checks, and serve traffic.
 * 3. The service's manifest is applied to Kiln's store, as `kiln services apply` does.
 * 4. CI publishes checkout 1.1.0 to S3; EventBridge routes the event to Kiln's on-artifact
 *    function, which records the artifact.
 * 5. Staging rolls to the 1.1.0 AMI with an instance refresh (checkpoints at 50 % and 100 %,
 *    min healthy 90 %, alarm-guarded). Until the rollout issue lands, the story starts the refresh
 *    the way Kiln's deploy state machine will.
 * 6. Checks: the refresh succeeded, staging runs only launch template version 2 and every target
 *    is healthy, production was not touched, the alarms stayed OK, the artifact was recorded once.
 */
import {
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import { parseManifest, type ServiceManifest } from '../../shared/domain/manifest/schema';
import { KilnStore } from '../../shared/store';
import type { Region } from '../region';
import {
  healthyTargets,
  provisionFleet,
  REFRESH_IN_MOTION,
  refreshOutcome,
  required,
  sleep,
  waitUntilHealthy,
  type Fleet,
} from './fleet';
import { storyCatalog } from './catalog';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'checkout';
const ARTIFACT_BUCKET = 'acme-artifacts-123456789012';

interface Environment extends Fleet {
  name: 'staging' | 'production';
  alarmName: string;
}

export const defaultStory: Story = {
  name: 'default',
  description: storyCatalog.default,
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const { print } = options;
    const aws = region.clientsFor('story:platform-team');

    // 1. Infrastructure.
    print('platform: base image, baked AMIs for checkout 1.0.0 and 1.1.0');
    const baseAmi = region.ec2.seedImage({
      name: 'al2023-ami-2023.6.20260101.0-kernel-6.1-x86_64',
      ownerAlias: 'amazon',
      publicParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
    const bakedAmi = (version: string) =>
      region.ec2.seedImage({
        name: `kiln-${SERVICE}-${version}`,
        tags: { 'kiln:service': SERVICE, 'kiln:version': version, 'kiln:base-ami': baseAmi },
      });
    const amiV1 = bakedAmi('1.0.0');
    const amiV2 = bakedAmi('1.1.0');

    const environments: Environment[] = [];
    for (const [name, size] of [
      ['staging', options.fleet],
      ['production', options.fleet * 2],
    ] as const) {
      const fleet = await provisionFleet(region, aws, {
        name: `${SERVICE}-${name}`,
        size,
        imageId: amiV1,
        instanceType: 'c7i.large',
      });
      const alarmName = `${SERVICE}-${name}-5xx`;
      await aws.cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: alarmName,
          Namespace: 'AWS/ApplicationELB',
          MetricName: 'HTTPCode_Target_5XX_Count',
          Dimensions: [
            { Name: 'TargetGroup', Value: fleet.targetGroupFullName },
            { Name: 'LoadBalancer', Value: fleet.loadBalancerFullName },
          ],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 3,
          DatapointsToAlarm: 2,
          Threshold: 5,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        }),
      );
      environments.push({ ...fleet, name, alarmName });
      print(
        `platform: ${fleet.groupName}: ${size} instances behind ${fleet.loadBalancerName}, alarm ${alarmName}`,
      );
    }
    const [staging, production] = environments as [Environment, Environment];

    // 2. Both fleets come up and turn healthy.
    const waited = await waitUntilHealthy(aws, environments, 1800);
    print(`fleet: all ${environments.map((e) => e.size).join(' + ')} targets healthy after ${waited} s`);

    // 3. The manifest, as `kiln services apply` stores it.
    const store = new KilnStore<ServiceManifest>({
      client: region.clientsFor('kiln-cli').doc,
      tableName: region.tableName,
      ids: region.engine.kilnIds,
    });
    const manifest = parseManifest(demoManifest(region.engine.context.region, environments));
    const stored = await store.putServiceManifest(manifest, { actor: 'kiln-cli:platform-team' });
    print(`kiln: services apply ${SERVICE} → manifest version ${stored.version}`);

    // 4. CI publishes an artifact: S3 announces the new object on EventBridge.
    const key = `${SERVICE}/releases/${SERVICE}-1.1.0.tar.gz`;
    region.artifacts.putObject({
      bucket: ARTIFACT_BUCKET,
      key,
      size: 48_213_004,
      etag: 'b1946ac92492d2347c6235b4d2611184',
    });
    print(`ci: uploaded s3://${ARTIFACT_BUCKET}/${key}`);
    let artifactRecords = 0;
    // EventBridge may deliver late (the event-delay fault holds an event up to five minutes).
    for (let waited = 0; waited <= 600; waited += 1) {
      artifactRecords = (await store.listArtifacts(SERVICE)).items.length;
      if (artifactRecords > 0) break;
      await sleep(1);
    }

    // 5. Staging rolls to 1.1.0.
    const v2 = await aws.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: staging.launchTemplateId,
        SourceVersion: '1',
        VersionDescription: `${SERVICE} 1.1.0`,
        LaunchTemplateData: { ImageId: amiV2 },
      }),
    );
    const newVersion = required(v2.LaunchTemplateVersion?.VersionNumber, 'launch template version');
    const refresh = await aws.autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: staging.groupName,
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: staging.launchTemplateId, Version: String(newVersion) },
        },
        Preferences: {
          MinHealthyPercentage: 90,
          MaxHealthyPercentage: 100,
          InstanceWarmup: 60,
          CheckpointPercentages: [50, 100],
          CheckpointDelay: 300,
          SkipMatching: true,
          AutoRollback: true,
          AlarmSpecification: { Alarms: [staging.alarmName] },
        },
      }),
    );
    const refreshId = required(refresh.InstanceRefreshId, 'instance refresh id');
    print(`rollout: ${staging.groupName} → launch template version ${newVersion} (refresh ${refreshId})`);
    const started = region.engine.clock.now();
    let status = 'Pending';
    let statusReason = '';
    let rollbackReason = '';
    let lastPercent = -1;
    for (;;) {
      const described = await aws.autoScaling.send(
        new DescribeInstanceRefreshesCommand({
          AutoScalingGroupName: staging.groupName,
          InstanceRefreshIds: [refreshId],
        }),
      );
      const current = required(described.InstanceRefreshes?.[0], 'instance refresh');
      status = current.Status ?? 'unknown';
      statusReason = current.StatusReason ?? '';
      rollbackReason = current.RollbackDetails?.RollbackReason ?? '';
      if ((current.PercentageComplete ?? 0) !== lastPercent) {
        lastPercent = current.PercentageComplete ?? 0;
        print(
          `rollout: ${status} ${lastPercent} % ${current.StatusReason ? `(${current.StatusReason})` : ''}`.trim(),
        );
      }
      if (!REFRESH_IN_MOTION.includes(status)) break;
      if (region.engine.clock.now() - started > 6 * 3600_000)
        throw new Error('refresh did not finish in 6 hours');
      await sleep(30);
    }
    const rolloutSeconds = Math.round((region.engine.clock.now() - started) / 1000);

    // 6. Checks.
    const describeGroup = async (env: Environment): Promise<AutoScalingGroup> => {
      const out = await aws.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [env.groupName] }),
      );
      return required(out.AutoScalingGroups?.[0], `group ${env.groupName}`);
    };
    const stagingGroup = await describeGroup(staging);
    const productionGroup = await describeGroup(production);
    const onVersion = (group: AutoScalingGroup, version: string) =>
      (group.Instances ?? []).filter(
        (i) => i.LifecycleState === 'InService' && i.LaunchTemplate?.Version === version,
      ).length;
    const alarms = await aws.cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: environments.map((e) => e.alarmName) }),
    );
    const alarmStates = (alarms.MetricAlarms ?? []).map((a) => `${a.AlarmName}=${a.StateValue}`);
    const checks: StoryCheck[] = [
      {
        name: 'instance refresh succeeded',
        ok: status === 'Successful',
        detail: refreshOutcome(refreshId, status, statusReason, rollbackReason),
      },
      {
        name: `staging runs only launch template version ${newVersion}`,
        ok:
          onVersion(stagingGroup, String(newVersion)) === staging.size &&
          stagingGroup.Instances?.length === staging.size,
        detail: `${onVersion(stagingGroup, String(newVersion))}/${staging.size} InService on v${newVersion}`,
      },
      {
        name: 'every staging target is healthy',
        ok: (await healthyTargets(aws, staging)) === staging.size,
        detail: `${await healthyTargets(aws, staging)}/${staging.size}`,
      },
      {
        name: 'production untouched',
        ok:
          onVersion(productionGroup, '1') === production.size &&
          (await healthyTargets(aws, production)) === production.size,
        detail: `${onVersion(productionGroup, '1')}/${production.size} on v1`,
      },
      {
        name: 'alarms stayed OK',
        ok: (alarms.MetricAlarms ?? []).every((a) => a.StateValue === 'OK'),
        detail: alarmStates.join(', '),
      },
      {
        name: 'artifact recorded once by on-artifact',
        ok: artifactRecords === 1,
        detail: `${artifactRecords} record(s)`,
      },
    ];
    return {
      checks,
      figures: {
        'staging instances': staging.size,
        'production instances': production.size,
        'rollout (virtual s)': rolloutSeconds,
      },
    };
  },
};

function demoManifest(region: string, environments: Environment[]): unknown {
  return {
    apiVersion: 'kiln.dev/v1',
    kind: 'Service',
    name: SERVICE,
    artifact: {
      source: { s3: { bucket: ARTIFACT_BUCKET, keyPrefix: `${SERVICE}/releases/` } },
      version: { keyPattern: `^${SERVICE}/releases/${SERVICE}-(?<version>\\d+\\.\\d+\\.\\d+)\\.tar\\.gz$` },
    },
    bake: {
      region,
      baseImage: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
      instanceType: 'c7i.large',
      subnetId: 'subnet-00000000000000001',
      securityGroupIds: ['sg-0123456789abcdef0'],
      instanceProfile: 'kiln-bake-checkout',
      install: { commands: ['tar -xzf "$KILN_ARTIFACT_PATH" -C /opt/checkout', 'systemctl enable checkout'] },
    },
    environments: environments.map((env, index) => ({
      name: env.name,
      region,
      autoScalingGroup: env.groupName,
      targetGroupArns: [env.targetGroupArn],
      strategy: {
        type: 'rolling',
        minHealthyPercentage: 90,
        maxHealthyPercentage: 100,
        instanceWarmupSeconds: 60,
        checkpoints: [50, 100],
        checkpointDelaySeconds: 300,
      },
      alarms: { rollout: [env.alarmName], watch: [env.alarmName], watchWindowMinutes: 15 },
      bakeTimeMinutes: index === 0 ? 0 : 30,
      approval: { required: index > 0 },
      access: { deploy: ['S0PLATFORM'], rollback: ['S0PLATFORM'], approve: index > 0 ? ['U0LEAD0001'] : [] },
    })),
  };
}
