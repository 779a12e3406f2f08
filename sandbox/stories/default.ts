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
 * 5. Staging rolls to the 1.1.0 AMI with an instance refresh (by default checkpoints at 50 % and
 *    100 %, min healthy 90 %, alarm-guarded; the story's `settings` name the strategy). Until the
 *    rollout issue lands, the story starts the refresh the way Kiln's deploy state machine will.
 * 6. Checks: the refresh succeeded, staging runs only launch template version 2 and every target
 *    is healthy, production was not touched, the alarms stayed OK, the artifact was recorded once.
 * Each step runs inside `step(...)`: one that injected faults make impossible (past the operator's
 * retries) or whose wait passes its deadline ends the run as a failed check named after it.
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
import type { FaultKind } from '../core/context';
import type { SandboxClients } from '../core/sdk';
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
import { refreshPreferences, storySettings, type StorySettings } from './settings';
import { step, StoryDeadlineError } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'checkout';
const ARTIFACT_BUCKET = 'acme-artifacts-123456789012';

interface Environment extends Fleet {
  name: 'staging' | 'production';
  alarmName: string;
}

/** Both environments' rolling strategy, as the demo manifest states it, and their target groups. */
export const DEFAULT_STORY_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 90,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
    checkpoints: [50, 100],
    checkpointDelaySeconds: 300,
  },
});

export const defaultStory: Story = {
  name: 'default',
  description: storyCatalog.default,
  settings: DEFAULT_STORY_SETTINGS,
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const { print, settings } = options;
    const aws = region.clientsFor('story:platform-team', 'operator');

    // 1. Infrastructure.
    const { environments, amiV2 } = await step('setup', async () => {
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
      const made: Environment[] = [];
      for (const [name, size] of [
        ['staging', options.fleet],
        ['production', options.fleet * 2],
      ] as const) {
        const env = await provisionEnvironment(region, aws, name, size, amiV1, settings);
        made.push(env);
        print(
          `platform: ${env.groupName}: ${size} instances behind ${env.loadBalancerName}, alarm ${env.alarmName}`,
        );
      }
      return { environments: made, amiV2 };
    });
    const [staging, production] = environments as [Environment, Environment];

    // 2. Both fleets come up and turn healthy.
    await step('fleets healthy', async () => {
      const waited = await waitUntilHealthy(aws, environments, 1800);
      print(`fleet: all ${environments.map((e) => e.size).join(' + ')} targets healthy after ${waited} s`);
    });

    // 3. The manifest, as `kiln services apply` stores it (from an operator's shell, so with the
    // operator's retry settings).
    const store = new KilnStore<ServiceManifest>({
      client: region.clientsFor('kiln-cli', 'operator').doc,
      tableName: region.tableName,
      ids: region.engine.kilnIds,
    });
    await step('services apply', async () => {
      const manifest = parseManifest(demoManifest(region.engine.context.region, environments, settings));
      const stored = await store.putServiceManifest(manifest, { actor: 'kiln-cli:platform-team' });
      print(`kiln: services apply ${SERVICE} → manifest version ${stored.version}`);
    });

    // 4. CI publishes an artifact: S3 announces the new object on EventBridge.
    const artifactRecords = await step('artifact', async () => {
      const key = `${SERVICE}/releases/${SERVICE}-1.1.0.tar.gz`;
      region.artifacts.putObject({
        bucket: ARTIFACT_BUCKET,
        key,
        size: 48_213_004,
        etag: 'b1946ac92492d2347c6235b4d2611184',
      });
      print(`ci: uploaded s3://${ARTIFACT_BUCKET}/${key}`);
      // EventBridge may deliver late (the event-delay fault holds an event up to five minutes), and
      // Lambda retries a failed asynchronous invocation after one and then two more minutes: ten
      // minutes covers both; a lost event is then reported by the check, not waited for forever.
      // Polled every 5 s, as a person watching would (every second cost 600 reads per lost event).
      let records = 0;
      for (let waited = 0; waited <= 600; waited += 5) {
        records = (await store.listArtifacts(SERVICE)).items.length;
        if (records > 0) break;
        await sleep(5);
      }
      return records;
    });

    // 5. Staging rolls to 1.1.0.
    const { status, statusReason, rollbackReason, refreshId, newVersion, rolloutSeconds } = await step(
      'rollout',
      () => rollStaging(region, aws, staging, amiV2, settings, print),
    );

    // 6. Checks.
    return step('checks', async () => {
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
      const stagingHealthy = await healthyTargets(aws, staging);
      const productionHealthy = await healthyTargets(aws, production);
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
          ok: stagingHealthy === staging.size,
          detail: `${stagingHealthy}/${staging.size}`,
        },
        {
          name: 'production untouched',
          ok: onVersion(productionGroup, '1') === production.size && productionHealthy === production.size,
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
          detail: artifactDetail(region, artifactRecords),
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
    });
  },
};

/** One environment's fleet and its 5xx alarm. */
async function provisionEnvironment(
  region: Region,
  aws: SandboxClients,
  name: Environment['name'],
  size: number,
  imageId: string,
  settings: StorySettings,
): Promise<Environment> {
  const fleet = await provisionFleet(region, aws, {
    name: `${SERVICE}-${name}`,
    size,
    imageId,
    instanceType: 'c7i.large',
    targetGroup: settings.targetGroup,
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
  return { ...fleet, name, alarmName };
}

/** How long the story follows a refresh before calling it stuck (AutoRollback, checkpoints and all). */
const ROLLOUT_DEADLINE_SECONDS = 6 * 3600;

/**
 * Starts the instance refresh of staging to `imageId` the way Kiln's deploy state machine will,
 * and follows it every 30 virtual seconds until it ends or passes its deadline.
 */
async function rollStaging(
  region: Region,
  aws: SandboxClients,
  staging: Environment,
  imageId: string,
  settings: StorySettings,
  print: (line: string) => void,
): Promise<{
  status: string;
  statusReason: string;
  rollbackReason: string;
  refreshId: string;
  newVersion: number;
  rolloutSeconds: number;
}> {
  const v2 = await aws.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: staging.launchTemplateId,
      SourceVersion: '1',
      VersionDescription: `${SERVICE} 1.1.0`,
      LaunchTemplateData: { ImageId: imageId },
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
        // Staging's strategy, as its manifest environment states it.
        ...refreshPreferences(settings.strategy),
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
    if (region.engine.clock.now() - started > ROLLOUT_DEADLINE_SECONDS * 1000) {
      throw new StoryDeadlineError(
        `refresh ${refreshId} still ${status} at ${lastPercent} % after ${ROLLOUT_DEADLINE_SECONDS} s`,
      );
    }
    await sleep(30);
  }
  return {
    status,
    statusReason,
    rollbackReason,
    refreshId,
    newVersion,
    rolloutSeconds: Math.round((region.engine.clock.now() - started) / 1000),
  };
}

/**
 * What became of the artifact event, read from the timeline and Lambda's invocation records, and
 * which injected faults could have caused it: EventBridge losing the event, on-artifact failing
 * every attempt (a crash, or its own calls failing), or a second delivery recorded twice.
 */
function artifactDetail(region: Region, records: number): string {
  const deployed = region.routes.functions.find((fn) => fn.functionName === 'onArtifact')?.deployedName;
  const deliveries = region.engine.timeline.entries
    .filter((e) => e.kind === 'event' && e.source === 'aws.s3' && e.detailType === 'Object Created')
    .reduce(
      (n, e) => n + (e.kind === 'event' ? e.deliveredTo.filter((f) => f === 'onArtifact').length : 0),
      0,
    );
  const attempts = region.lambda.invocations.filter((i) => i.functionName === deployed);
  const failed = attempts.filter((i) => !i.ok);
  const injected = (kinds: FaultKind[]): string => {
    const rules = region.engine.faults
      .struck()
      .filter((s) => kinds.includes(s.kind))
      .map((s) => s.rule);
    return rules.length > 0 ? ` (injected ${rules.join(', ')})` : '';
  };
  const recorded = `${records} record(s)`;
  if (records === 1) return recorded;
  if (records > 1) return `${recorded} from ${deliveries} deliveries${injected(['event-duplicate'])}`;
  if (deliveries === 0) {
    return `${recorded}: EventBridge never delivered the S3 event to onArtifact${injected(['event-loss'])}`;
  }
  if (failed.length === attempts.length) {
    const errors = [...new Set(failed.map((i) => i.error ?? 'Error'))].join(', ');
    return (
      `${recorded}: onArtifact failed all ${attempts.length} attempt(s) (${errors})` +
      injected(['handler-crash', 'api-5xx', 'throttle'])
    );
  }
  return `${recorded} though onArtifact ran ${attempts.length - failed.length} time(s) without error`;
}

function demoManifest(region: string, environments: Environment[], settings: StorySettings): unknown {
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
      strategy: settings.strategy,
      alarms: { rollout: [env.alarmName], watch: [env.alarmName], watchWindowMinutes: 15 },
      bakeTimeMinutes: index === 0 ? 0 : 30,
      approval: { required: index > 0 },
      access: { deploy: ['S0PLATFORM'], rollback: ['S0PLATFORM'], approve: index > 0 ? ['U0LEAD0001'] : [] },
    })),
  };
}
