/**
 * The default story: a region with a demo service, `checkout`, running in two environments
 * (staging with N instances, production with 2N, each behind its own load balancer with a 5xx
 * alarm). Course:
 * 1. The platform team's infrastructure exists (what their CloudFormation would have made): the
 *    base image (Amazon Linux, under its public SSM parameter), the AMI of checkout 1.0.0 the
 *    fleets run, launch templates, load balancers, target groups, Auto Scaling groups, alarms.
 *    Every resource is made through the real SDK clients. No 1.1.0 image: Kiln bakes it.
 * 2. Both fleets come up: instances boot, pass health checks, and serve traffic.
 * 3. The service's manifest is applied to Kiln's store, as `kiln services apply` does; its bake
 *    section names the base image's parameter, a subnet and security group of the region, install
 *    commands, and a copy to us-west-2.
 * 4. CI publishes checkout 1.1.0 to S3; EventBridge routes the event to Kiln's on-artifact
 *    function, which records the artifact and starts the deploy state machine (execution name =
 *    deployment id, from service, version and digest).
 * 5. Kiln bakes: a builder from the base image, the install by Run Command, CreateImage, the copy
 *    to us-west-2, the builder terminated, the release recorded and the deployment `rolling-out`.
 *    The story follows the deployment record.
 * 6. Staging rolls to the release's AMI with an instance refresh (by default checkpoints at 50 %
 *    and 100 %, min healthy 90 %, alarm-guarded; the story's `settings` name the strategy). The
 *    deploy state machine's rollout phase is a placeholder until the rollout issue lands, so the
 *    story makes launch template version 2 from the release's AMI and starts the refresh itself,
 *    the way that phase will.
 * 7. Checks: Kiln baked the release (one RunInstances, the builder terminated, an AMI per Region)
 *    and the deployment is rolling out; the refresh succeeded, staging runs only launch template
 *    version 2 and every target is healthy, production was not touched, the alarms stayed OK, the
 *    artifact was recorded once.
 * Each step runs inside `step(...)`: one that injected faults make impossible (past the operator's
 * retries) or whose wait passes its deadline ends the run as a failed check named after it. When
 * the bake yields no release (a lost artifact event, a bake the faults failed), there is nothing to
 * roll out: the bake check says why and the rollout checks say they did not run.
 */
import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { isFinal } from '../../shared/domain/deployment';
import { parseManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, Release } from '../../shared/store';
import type { Region } from '../region';
import type { FaultKind } from '../core/context';
import { healthyTargets, required, sleep, waitUntilHealthy, type Fleet } from './fleet';
import {
  BAKE_FAULTS,
  bakeSettled,
  bakeSection,
  builderAccount,
  type BuilderAccount,
  COPY_REGION,
  describeBuilders,
  everyBuilderTerminated,
  followDeployments,
  injected,
  operatorStore,
  s3ArtifactSection,
  seedBaseImage,
  uploadArtifact,
} from './bake-kit';
import { storyCatalog } from './catalog';
import { overlappingRefreshes, provisionRolloutEnvironment } from './rollout-kit';
import { storySettings, type StorySettings } from './settings';
import { step, StoryDeadlineError } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'checkout';
const VERSION = '1.1.0';
/**
 * How long the story follows the bake: the manifest's default bake timeout (60 min) and the time
 * Kiln's clean-up and EventBridge/Lambda retries may add.
 */
const BAKE_DEADLINE_SECONDS = 90 * 60;

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
    const environments = await step('setup', async () => {
      print('platform: base image (Amazon Linux 2023, public SSM parameter), AMI of checkout 1.0.0');
      const baseAmi = seedBaseImage(region);
      // The image the fleets run today: an earlier bake's, carrying its lineage tags.
      const amiV1 = region.ec2.seedImage({
        name: `kiln-${SERVICE}-1.0.0`,
        tags: { 'kiln:service': SERVICE, 'kiln:version': '1.0.0', 'kiln:base-ami': baseAmi },
      });
      const made: Environment[] = [];
      for (const [name, size] of [
        ['staging', options.fleet],
        ['production', options.fleet * 2],
      ] as const) {
        const env: Environment = {
          ...(await provisionRolloutEnvironment(region, aws, {
            service: SERVICE,
            name,
            size,
            imageId: amiV1,
            settings,
          })),
          name,
        };
        made.push(env);
        options.declareEnvironment({
          service: SERVICE,
          environment: name,
          groups: [env.groupName],
          targetGroupArns: [env.targetGroupArn],
          alarmNames: [env.alarmName],
          minHealthyPercentage:
            settings.strategy.type === 'rolling' ? settings.strategy.minHealthyPercentage : 100,
        });
        print(
          `platform: ${env.groupName}: ${size} instances behind ${env.loadBalancerName}, alarm ${env.alarmName}`,
        );
      }
      return made;
    });
    const [staging, production] = environments as [Environment, Environment];

    // 2. Both fleets come up and turn healthy.
    await step('fleets healthy', async () => {
      const waited = await waitUntilHealthy(aws, environments, 1800);
      print(`fleet: all ${environments.map((e) => e.size).join(' + ')} targets healthy after ${waited} s`);
    });

    // 3. The manifest, as `kiln services apply` stores it (from an operator's shell, so with the
    // operator's retry settings).
    const store = operatorStore(region);
    await step('services apply', async () => {
      const manifest = parseManifest(demoManifest(region, environments, settings));
      const stored = await store.putServiceManifest(manifest, { actor: 'kiln-cli:platform-team' });
      print(`kiln: services apply ${SERVICE} → manifest version ${stored.version}`);
    });

    // 4. CI publishes an artifact: S3 announces the new object on EventBridge.
    const artifactRecords = await step('artifact', async () => {
      const { uri } = uploadArtifact(region, {
        service: SERVICE,
        version: VERSION,
        etag: 'b1946ac92492d2347c6235b4d2611184',
      });
      print(`ci: uploaded ${uri}`);
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

    // 5. Kiln bakes the artifact: the story follows the deployment on-artifact started.
    const bake = await step('bake', async () => {
      const followed = await followDeployments(
        store,
        SERVICE,
        VERSION,
        (found) => found.some(bakeSettled),
        BAKE_DEADLINE_SECONDS,
      );
      const deployment = followed.deployments.find(bakeSettled) ?? followed.deployments[0];
      const release = await store.getRelease(SERVICE, VERSION);
      print(
        deployment === undefined
          ? `kiln: no deployment of ${SERVICE}@${VERSION}`
          : `kiln: deployment ${deployment.id} ${deployment.status}` +
              (release === undefined ? '' : `: release ${VERSION} baked, ${amiList(release)}`),
      );
      return { deployment, release, builders: await builderAccount(region, aws) };
    });

    // 6. Kiln rolls the release out: staging, the 30-minute bake with its alarm watched, then
    // production. The story only follows Kiln's deployment record.
    const rollout =
      bake.release === undefined || bake.deployment === undefined
        ? undefined
        : await step('rollout', () => followRollout(region, store, bake.deployment?.id ?? '', print));

    // 7. Checks: Kiln's records, and what AWS says runs.
    return step('checks', async () => {
      const describeGroup = async (env: Environment): Promise<AutoScalingGroup> => {
        const out = await aws.autoScaling.send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [env.groupName] }),
        );
        return required(out.AutoScalingGroups?.[0], `group ${env.groupName}`);
      };
      const onVersion = (group: AutoScalingGroup, version: string) =>
        (group.Instances ?? []).filter(
          (i) => i.LifecycleState === 'InService' && i.LaunchTemplate?.Version === version,
        ).length;
      const alarms = await aws.cloudWatch.send(
        new DescribeAlarmsCommand({ AlarmNames: environments.map((e) => e.alarmName) }),
      );
      const alarmStates = (alarms.MetricAlarms ?? []).map((a) => `${a.AlarmName}=${a.StateValue}`);
      const notRolled = 'not run: Kiln baked no release to roll out (see the bake check)';
      const final = rollout?.deployment;
      const environmentChecks: StoryCheck[] = [];
      for (const env of environments) {
        const recorded = await store.getEnvironmentState(SERVICE, env.name);
        const group = await describeGroup(env);
        const version = recorded.launchTemplate?.version;
        const healthy = await healthyTargets(aws, env);
        environmentChecks.push(
          {
            name: `Kiln records ${env.name} on ${SERVICE}@${VERSION}`,
            ok: recorded.currentRelease === VERSION && recorded.lock === undefined,
            detail:
              rollout === undefined
                ? notRolled
                : `current ${recorded.currentRelease ?? 'none'}, previous ${recorded.previousRelease ?? 'none'}, ` +
                  `launch template v${version ?? '?'}, lock ${recorded.lock?.holder ?? 'free'}`,
          },
          {
            name: `${env.name} runs only the recorded launch template version`,
            ok:
              version !== undefined &&
              group.LaunchTemplate?.Version === String(version) &&
              onVersion(group, String(version)) === env.size &&
              group.Instances?.length === env.size &&
              healthy === env.size,
            detail:
              version === undefined
                ? notRolled
                : `group on v${group.LaunchTemplate?.Version ?? '?'}; ${onVersion(group, String(version))}/${env.size} InService on v${version}; ${healthy}/${env.size} targets healthy`,
          },
        );
      }
      const checks: StoryCheck[] = [
        {
          name: `release ${SERVICE}@${VERSION} baked by Kiln`,
          ok:
            bake.release !== undefined &&
            Object.keys(bake.release.amis).length === 2 &&
            bake.builders.runInstances === 1 &&
            everyBuilderTerminated(bake.builders),
          detail: bakeDetail(region, bake),
        },
        {
          name: `deployment of ${SERVICE}@${VERSION} succeeded`,
          ok: final?.status === 'succeeded' && final.release?.version === VERSION,
          detail:
            bake.deployment === undefined
              ? `no deployment recorded${injected(region, ['event-loss', 'handler-crash', 'api-5xx', 'throttle'])}`
              : `${final?.id ?? bake.deployment.id} ${final?.status ?? bake.deployment.status}` +
                `${(final ?? bake.deployment).reason ? `: ${(final ?? bake.deployment).reason}` : ''}`,
        },
        ...environmentChecks,
        {
          name: 'no two instance refreshes of one group overlapped',
          ok: overlappingRefreshes(region).length === 0,
          detail: overlappingRefreshes(region).join('; ') || 'none',
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
          'rollout (virtual s)': rollout?.seconds ?? 0,
        },
      };
    });
  },
};

/** How long the story follows Kiln's rollout (two refreshes, the bake between them, any rollback). */
const ROLLOUT_DEADLINE_SECONDS = 8 * 3600;

/**
 * Follows the deployment's record every 30 virtual seconds until it ends, printing each phase
 * Kiln records (the rollout's progress on the deployment: environment, phase, detail).
 */
async function followRollout(
  region: Region,
  store: ReturnType<typeof operatorStore>,
  deploymentId: string,
  print: (line: string) => void,
): Promise<{ deployment: Deployment | undefined; seconds: number }> {
  const started = region.engine.clock.now();
  let said = '';
  for (;;) {
    const deployment = await store.getDeployment(deploymentId);
    const progress = deployment?.rollout;
    const line = progress
      ? `kiln: ${progress.environment}: ${progress.phase}${progress.detail ? ` (${progress.detail})` : ''}`
      : '';
    if (line !== '' && line !== said) {
      print(line);
      said = line;
    }
    if (deployment === undefined || isFinal(deployment.status)) {
      if (deployment)
        print(
          `kiln: deployment ${deployment.id} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`,
        );
      return { deployment, seconds: Math.round((region.engine.clock.now() - started) / 1000) };
    }
    if (region.engine.clock.now() - started > ROLLOUT_DEADLINE_SECONDS * 1000) {
      throw new StoryDeadlineError(
        `deployment ${deploymentId} still ${deployment.status} after ${ROLLOUT_DEADLINE_SECONDS} s`,
      );
    }
    await sleep(30);
  }
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

/** `ami-… in us-east-1, ami-… in us-west-2`. */
function amiList(release: Release): string {
  return Object.entries(release.amis)
    .map(([name, ami]) => `${ami} in ${name}`)
    .join(', ');
}

/** What the bake made and how, or why there is no release (naming the faults that explain it). */
function bakeDetail(
  region: Region,
  bake: { deployment: Deployment | undefined; release: Release | undefined; builders: BuilderAccount },
): string {
  const builders = describeBuilders(bake.builders);
  if (bake.release !== undefined) return `${amiList(bake.release)} (${builders})`;
  const why =
    bake.deployment === undefined
      ? 'no deployment was started'
      : bake.deployment.status === 'failed'
        ? `the bake failed: ${bake.deployment.reason ?? 'no reason recorded'}`
        : `the deployment is still ${bake.deployment.status}`;
  return `no release: ${why} (${builders})${injected(region, BAKE_FAULTS)}`;
}

function demoManifest(region: Region, environments: Environment[], settings: StorySettings): unknown {
  return {
    apiVersion: 'kiln.dev/v1',
    kind: 'Service',
    name: SERVICE,
    artifact: s3ArtifactSection(SERVICE),
    bake: bakeSection(region, { service: SERVICE, copyToRegions: [COPY_REGION] }),
    environments: environments.map((env, index) => ({
      name: env.name,
      region: region.engine.context.region,
      autoScalingGroup: env.groupName,
      targetGroupArns: [env.targetGroupArn],
      strategy: settings.strategy,
      alarms: { rollout: [env.alarmName], watch: [env.alarmName], watchWindowMinutes: 15 },
      bakeTimeMinutes: index === 0 ? 0 : 30,
      access: { deploy: ['S0PLATFORM'], rollback: ['S0PLATFORM'] },
    })),
  };
}
