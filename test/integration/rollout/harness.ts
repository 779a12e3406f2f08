/**
 * The deploy state machine's rollout phase, run from statemachines/deploy.asl.json by the
 * sandbox's Step Functions on the virtual clock, with the real rollout-steps function and the real
 * adapters against the simulated Auto Scaling, EC2, ELB and CloudWatch. One service, `web`, in
 * two environments (staging, production; 2 instances each on release 1.0.0, launch template
 * version 1); release 2.0.0 recorded. Each test starts deployments as `kiln deploy` does (no
 * artifact: straight to RolloutBegin) and reads Kiln's records and the timeline.
 */
import {
  SendTaskSuccessCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import type { ServiceManifest, Strategy } from '../../../shared/domain/manifest/schema';
import type { Deployment, EnvironmentState, KilnStore } from '../../../shared/store';
import type { BadVersion } from '../../../sandbox/fault-options';
import type { FaultPlan } from '../../../sandbox/core/faults';
import type { SandboxFunctionFactory } from '../../../sandbox/functions';
import { createRegion, type Region } from '../../../sandbox/region';
import { operatorStore, seedBaseImage } from '../../../sandbox/stories/bake-kit';
import { waitUntilHealthy } from '../../../sandbox/stories/fleet';
import {
  executionEnd,
  provisionRolloutEnvironment,
  recordRelease,
  provisionNotifications,
  rolloutManifest,
  seedReleaseImage,
  startRollout,
  type GateSpec,
  type RolloutEnvironment,
} from '../../../sandbox/stories/rollout-kit';
import { storySettings, type StorySettings } from '../../../sandbox/stories/settings';
import type { SandboxClients } from '../../../sandbox/core/sdk';

export const SERVICE = 'web';

export const T_MINUTE = 60_000;

export const ROLLING: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 50,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 30,
  },
});

export interface Stage {
  region: Region;
  store: KilnStore<ServiceManifest>;
  aws: SandboxClients;
  environments: RolloutEnvironment[];
  manifestVersion: number;
  /** AMI per release version. */
  images: Record<string, string>;
  deploy(options: {
    id: string;
    version?: string;
    environments?: string[];
    mode?: 'deploy' | 'rollback';
  }): Promise<string>;
  end(executionArn: string): Promise<DescribeExecutionCommandOutput>;
  deployment(id: string): Promise<Deployment | undefined>;
  environment(name: string): Promise<EnvironmentState>;
  /** The group's launch template version as Auto Scaling names it. */
  groupVersion(name: string): Promise<string | undefined>;
  /** Answers the approval of `deploymentId` as `kiln approve` does (the token Kiln stored for it). */
  approve(deploymentId: string, approved: boolean): Promise<boolean>;
  stop(executionArn: string): Promise<void>;
  /** Wakes the task waiting under waitKind/key, as on-progress or `kiln abort` do. */
  wake(waitKind: 'refresh' | 'lock' | 'approval', key: string, output: unknown): Promise<boolean>;
  /** Calls of `operation` that rollout-steps made and AWS accepted. */
  rolloutCalls(operation: string): number;
}

export async function stage(
  options: {
    seed?: number;
    gates?: Record<string, GateSpec>;
    faults?: FaultPlan;
    badVersions?: BadVersion[];
    settings?: StorySettings;
    /** The environments' strategy in the manifest, in place of `settings.strategy` (blue/green). */
    strategy?: Strategy;
    releases?: string[];
    /**
     * The manifest's notifications: `working` (a registered Slack webhook and an SNS topic, as
     * provisionNotifications sets them up), `broken` (a parameter and a topic that do not exist).
     */
    notifications?: 'working' | 'broken';
    /** Function factories in place of Kiln's own (sandbox/functions.ts), by serverless.yml key. */
    functions?: Record<string, SandboxFunctionFactory>;
  } = {},
): Promise<Stage> {
  const region = await createRegion({
    seed: options.seed ?? 23,
    ...(options.functions === undefined ? {} : { functions: options.functions }),
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    ...(options.badVersions === undefined ? {} : { badVersions: options.badVersions }),
  });
  const aws = region.clientsFor('test:platform', 'operator');
  const store = operatorStore(region);
  const settings = options.settings ?? ROLLING;
  const setUp = await region.engine.run(async () => {
    const base = seedBaseImage(region);
    const images: Record<string, string> = {};
    for (const version of ['1.0.0', ...(options.releases ?? ['2.0.0'])]) {
      images[version] = seedReleaseImage(region, SERVICE, version, base);
    }
    const environments: RolloutEnvironment[] = [];
    for (const name of ['staging', 'production']) {
      environments.push(
        await provisionRolloutEnvironment(region, aws, {
          service: SERVICE,
          name,
          size: 2,
          imageId: images['1.0.0'] ?? '',
          settings,
        }),
      );
    }
    await waitUntilHealthy(aws, environments, 1800);
    const notifications =
      options.notifications === 'working'
        ? await provisionNotifications(region, aws, SERVICE)
        : options.notifications === 'broken'
          ? {
              slackWebhookParameter: `/kiln/notifications/${SERVICE}-missing`,
              snsTopicArn: `arn:aws:sns:${region.engine.context.region}:${region.engine.accountId}:missing`,
            }
          : undefined;
    const { version: manifestVersion } = await store.putServiceManifest(
      rolloutManifest(
        region,
        SERVICE,
        environments,
        { strategy: options.strategy ?? settings.strategy },
        options.gates ?? {},
        notifications,
      ),
      { actor: 'test' },
    );
    for (const version of options.releases ?? ['2.0.0']) {
      await recordRelease(store, region, { service: SERVICE, version, imageId: images[version] ?? '' });
    }
    return { images, environments, manifestVersion };
  });
  const { images, environments, manifestVersion } = setUp;
  return {
    region,
    store,
    aws,
    environments,
    manifestVersion,
    images,
    deploy: ({ id, version = '2.0.0', environments: names = ['staging', 'production'], mode }) =>
      startRollout(region, store, aws, {
        deploymentId: id,
        service: SERVICE,
        version,
        manifestVersion,
        environments: names,
        ...(mode === undefined ? {} : { mode }),
      }),
    end: (executionArn) => executionEnd(aws, executionArn),
    deployment: (id) => store.getDeployment(id),
    environment: (name) => store.getEnvironmentState(SERVICE, name),
    async groupVersion(name) {
      const { AutoScalingGroups = [] } = await aws.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [`${SERVICE}-${name}`] }),
      );
      return AutoScalingGroups[0]?.LaunchTemplate?.Version;
    },
    async approve(deploymentId, approved) {
      const token = await store.takeTaskToken('approval', deploymentId);
      if (!token) return false;
      await aws.sfn.send(
        new SendTaskSuccessCommand({
          taskToken: token.token,
          output: JSON.stringify({
            approved,
            actor: 'cli:lead',
            ...(approved ? {} : { reason: 'not today' }),
          }),
        }),
      );
      return true;
    },
    async wake(waitKind, key, output) {
      const token = await store.takeTaskToken(waitKind, key);
      if (!token) return false;
      await aws.sfn.send(
        new SendTaskSuccessCommand({ taskToken: token.token, output: JSON.stringify(output) }),
      );
      return true;
    },
    async stop(executionArn) {
      await aws.sfn.send(new StopExecutionCommand({ executionArn, cause: 'killed by the test' }));
    },
    rolloutCalls: (operation) =>
      region.engine.timeline.entries.filter(
        (e) => e.kind === 'api' && e.operation === operation && e.ok && e.caller === 'fn:rolloutSteps',
      ).length,
  };
}
