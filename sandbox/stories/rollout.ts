/**
 * The rollout's stories (issue 10, item 9), each on a service `shop` in staging (N instances)
 * and production (2N), on release 1.0.0 (launch template version 1), tagged for Kiln; releases
 * recorded in Kiln's store; deployments started as `kiln deploy`/`kiln rollback` start them
 * (shared/usecases/deployments/start.ts), approvals given as `kiln approve` gives them
 * (shared/usecases/deployments/approve.ts). Their checks read Kiln's records and the timeline:
 * - `rolling`: both environments, production after a bake and an approval; the production
 *   refresh starts only after the approval.
 * - `bad-release`: 2.0.0 fails its health checks (the refresh fails and AWS rolls it back), then
 *   2.1.0 serves 5xx (its alarm stops the refresh); after each, Kiln's record and the group name
 *   the previous launch template version.
 * - `rollback-after-complete`: 1.5.0 completes in staging; staging is scaled out by hand; 2.0.0
 *   completes; then `kiln rollback` restores 1.5.0's exact launch template version and capacity.
 * - `concurrent-artifacts`: three releases within a minute: one rollout at a time, the newest
 *   wins, the middle one superseded; no two refreshes of one group overlap.
 */
import {
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DeployExecutions, SfnTasks } from '../../shared/aws/sfn';
import { isFinal } from '../../shared/domain/deployment';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore } from '../../shared/store';
import { approveDeployment } from '../../shared/usecases/deployments/approve';
import { startDeployment } from '../../shared/usecases/deployments/start';
import type { SandboxClients } from '../core/sdk';
import type { Region } from '../region';
import { operatorStore, seedBaseImage } from './bake-kit';
import { storyCatalog } from './catalog';
import { required, sleep } from './fleet';
import {
  overlappingRefreshes,
  provisionNotifications,
  provisionStagingAndProduction,
  recordRelease,
  refreshSpans,
  rolloutManifest,
  seedReleaseImage,
  until,
  type GateSpec,
  type RolloutEnvironment,
} from './rollout-kit';
import { storySettings, type StorySettings } from './settings';
import { step } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'shop';

const ROLLOUT_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 50,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
  },
});

interface World {
  region: Region;
  aws: SandboxClients;
  store: KilnStore<ServiceManifest>;
  environments: RolloutEnvironment[];
  print: (line: string) => void;
  deploy(version: string, environments: string[], mode?: 'deploy' | 'rollback'): Promise<Deployment>;
  follow(deploymentId: string): Promise<Deployment>;
  group(name: string): Promise<AutoScalingGroup>;
}

async function world(
  region: Region,
  options: StoryOptions,
  setup: { releases: string[]; gates?: Record<string, GateSpec>; notifications?: boolean },
): Promise<World> {
  const aws = region.clientsFor('story:platform-team', 'operator');
  const store = operatorStore(region);
  const { print } = options;
  const environments = await step('setup', async () => {
    const base = seedBaseImage(region);
    const images: Record<string, string> = {};
    for (const version of ['1.0.0', ...setup.releases])
      images[version] = seedReleaseImage(region, SERVICE, version, base);
    const made = await provisionStagingAndProduction(region, aws, {
      service: SERVICE,
      fleet: options.fleet,
      imageId: images['1.0.0'] ?? '',
      settings: options.settings,
      declare: options.declareEnvironment,
    });
    const notifications = setup.notifications
      ? await provisionNotifications(region, aws, SERVICE)
      : undefined;
    const stored = await store.putServiceManifest(
      rolloutManifest(region, SERVICE, made, options.settings, setup.gates ?? {}, notifications),
      {
        actor: 'kiln-cli:platform-team',
      },
    );
    for (const version of setup.releases)
      await recordRelease(store, region, { service: SERVICE, version, imageId: images[version] ?? '' });
    print(
      `platform: ${made.map((e) => `${e.groupName} (${e.size})`).join(', ')} on 1.0.0; kiln: manifest v${stored.version}, releases ${setup.releases.join(', ')}`,
    );
    return made;
  });
  const executions = new DeployExecutions(
    aws.sfn,
    required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine'),
  );
  return {
    region,
    aws,
    store,
    environments,
    print,
    async deploy(version, names, mode = 'deploy') {
      const { deployment } = await startDeployment(
        {
          service: SERVICE,
          ...(mode === 'rollback' && version === '' ? {} : { version }),
          environments: names,
          mode,
          trigger: 'cli',
          actor: 'cli:story',
        },
        { store, executions, ids: region.engine.kilnIds, now: () => Date.now() },
      );
      print(
        `kiln ${mode === 'rollback' ? 'rollback' : 'deploy'}: ${deployment.id} ${SERVICE}@${deployment.releaseVersion} to ${names.join(', ')}`,
      );
      return deployment;
    },
    async follow(deploymentId) {
      let said = '';
      return until(
        `deployment ${deploymentId} ends`,
        async () => {
          const deployment = await store.getDeployment(deploymentId);
          const progress = deployment?.rollout;
          const line = progress ? `${progress.environment}: ${progress.phase}` : '';
          if (line !== said && line !== '') print(`kiln: ${deploymentId} ${line}`);
          said = line;
          if (deployment && isFinal(deployment.status)) {
            print(
              `kiln: ${deploymentId} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`,
            );
            return deployment;
          }
          return undefined;
        },
        { everySeconds: 30, limitSeconds: 8 * 3600 },
      );
    },
    async group(name) {
      const out = await aws.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [`${SERVICE}-${name}`] }),
      );
      return required(out.AutoScalingGroups?.[0], `group ${SERVICE}-${name}`);
    },
  };
}

/** Kiln's record of an environment against what its group runs. */
async function recordedAndRunning(w: World, name: string, release: string): Promise<StoryCheck> {
  const recorded = await w.store.getEnvironmentState(SERVICE, name);
  const group = await w.group(name);
  const version = recorded.launchTemplate?.version;
  const size = w.environments.find((e) => e.name === name)?.size ?? 0;
  const onVersion = (group.Instances ?? []).filter(
    (i) => i.LifecycleState === 'InService' && i.LaunchTemplate?.Version === String(version),
  ).length;
  return {
    name: `Kiln records ${name} on ${release}, and ${name} runs exactly that launch template version`,
    ok:
      recorded.currentRelease === release &&
      version !== undefined &&
      group.LaunchTemplate?.Version === String(version) &&
      onVersion === size &&
      recorded.lock === undefined,
    detail: `recorded ${recorded.currentRelease ?? 'none'} on v${version ?? '?'} (lock ${recorded.lock?.holder ?? 'free'}); group on v${group.LaunchTemplate?.Version ?? '?'}, ${onVersion}/${size} InService on v${version ?? '?'}`,
  };
}

function noOverlapCheck(region: Region): StoryCheck {
  const overlaps = overlappingRefreshes(region);
  const spans = [...refreshSpans(region)].map(([group, list]) => `${group}: ${list.length}`).join(', ');
  return {
    name: 'no two instance refreshes of one group overlapped',
    ok: overlaps.length === 0,
    detail: overlaps.join('; ') || `none (refreshes: ${spans})`,
  };
}

/**
 * The rolling story's notifications (README "Notifications"): Slack's recorder and the SNS topic
 * each got every notice once, in order, the approval one with its buttons before the approval.
 */
function notificationChecks(region: Region, approvedAt: number): StoryCheck[] {
  const expected = [
    ['shop 2.0.0: deployment started', []],
    ['shop 2.0.0: waiting for approval to promote to production', ['kiln.approve', 'kiln.refuse']],
    ['shop 2.0.0: promoted from staging to production', []],
    ['shop 2.0.0: deployment succeeded', ['kiln.rollback']],
  ] as const;
  const posts = region.slack.posts;
  const seen = posts.map((post) => {
    const actions = (post.message?.blocks ?? []).flatMap((block) =>
      typeof block === 'object' && block !== null && 'elements' in block && Array.isArray(block.elements)
        ? block.elements.map((e: { action_id?: unknown }) => String(e.action_id))
        : [],
    );
    return `${post.status} ${post.message?.text ?? '?'}${actions.length > 0 ? ` [${actions.join(', ')}]` : ''}`;
  });
  const wanted = expected.map(
    ([text, actions]) => `200 ${text}${actions.length > 0 ? ` [${actions.join(', ')}]` : ''}`,
  );
  const approval = posts.find((post) => post.message?.text?.includes('waiting for approval'));
  const topic = `arn:aws:sns:${region.engine.context.region}:${region.engine.accountId}:${SERVICE}-deploys`;
  const published = region.sns.messages(topic).map((m) => m.subject ?? '');
  return [
    {
      name: 'Slack got each notice once, in order; the approval one with Approve/Refuse before anyone approved',
      ok:
        JSON.stringify(seen) === JSON.stringify(wanted) &&
        approval !== undefined &&
        approval.at <= approvedAt,
      detail: seen.join('; ') || 'no post',
    },
    {
      name: `SNS topic ${SERVICE}-deploys got the same notices once`,
      ok: JSON.stringify(published) === JSON.stringify(expected.map(([text]) => `Kiln: ${text}`)),
      detail: published.join('; ') || 'no message',
    },
  ];
}

function statusCheck(deployment: Deployment, status: Deployment['status'], what: string): StoryCheck {
  return {
    name: `${what}: deployment ${status}`,
    ok: deployment.status === status,
    detail: `${deployment.id} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`,
  };
}

export const rollingStory: Story = {
  name: 'rolling',
  description: storyCatalog.rolling,
  settings: ROLLOUT_SETTINGS,
  async run(region, options): Promise<StoryResult> {
    const w = await world(region, options, {
      releases: ['2.0.0'],
      gates: { production: { bakeTimeMinutes: 15, approval: true } },
      notifications: true,
    });
    return step('rollout', async () => {
      const started = await w.deploy('2.0.0', ['staging', 'production']);
      await until(
        'the approval wait',
        async () =>
          (await w.store.getDeployment(started.id))?.status === 'waiting-approval' ? true : undefined,
        {
          everySeconds: 30,
          limitSeconds: 4 * 3600,
        },
      );
      const approvedAt = Date.now();
      const answer = await approveDeployment(
        { deploymentId: started.id, actor: 'cli:lead', approved: true, reason: 'staging looks good' },
        { store: w.store, tasks: new SfnTasks(w.aws.sfn) },
      );
      w.print(`kiln approve: ${started.id} ${answer.outcome}`);
      const ended = await w.follow(started.id);
      const productionStarts = region.engine.timeline.entries.filter(
        (e) =>
          e.kind === 'state' &&
          e.resource.startsWith(`instance-refresh:${SERVICE}-production/`) &&
          e.from === null,
      );
      const productionStart = productionStarts[0]?.t;
      const approvedT = (approvedAt - Date.UTC(2026, 0, 1)) / 1000;
      return {
        checks: [
          statusCheck(ended, 'succeeded', 'staging then production'),
          {
            name: 'production rolled only after the approval',
            ok:
              answer.outcome === 'approved' && productionStart !== undefined && productionStart >= approvedT,
            detail: `approved at ${approvedT} s, production refresh started at ${productionStart ?? 'never'} s`,
          },
          await recordedAndRunning(w, 'staging', '2.0.0'),
          await recordedAndRunning(w, 'production', '2.0.0'),
          noOverlapCheck(region),
          ...notificationChecks(region, approvedAt),
        ],
        figures: { 'staging instances': options.fleet, 'production instances': options.fleet * 2 },
      };
    });
  },
};

/**
 * With a bake time: the refresh keeps watching its alarm for 10 minutes after the last
 * replacement, so a small fleet's refresh cannot finish before the 5xx alarm's second bad minute.
 */
const BAD_RELEASE_SETTINGS: StorySettings = storySettings({
  strategy: { ...ROLLOUT_SETTINGS.strategy, type: 'rolling', bakeTimeSeconds: 600 },
});

export const badReleaseStory: Story = {
  name: 'bad-release',
  description: storyCatalog['bad-release'],
  settings: BAD_RELEASE_SETTINGS,
  region: {
    badVersions: [
      { version: '2.0.0', mode: 'failing-health' },
      { version: '2.1.0', mode: 'errors' },
    ],
  },
  async run(region, options): Promise<StoryResult> {
    const w = await world(region, options, { releases: ['2.0.0', '2.1.0'] });
    return step('rollout', async () => {
      const before = await w.store.getEnvironmentState(SERVICE, 'staging');
      const beforeVersion = (await w.group('staging')).LaunchTemplate?.Version;
      const unhealthy = await w.follow((await w.deploy('2.0.0', ['staging'])).id);
      const afterUnhealthy = await recordedAndRunning(w, 'staging', before.currentRelease ?? 'unrecorded');
      const erroring = await w.follow((await w.deploy('2.1.0', ['staging'])).id);
      const recorded = await w.store.getEnvironmentState(SERVICE, 'staging');
      const group = await w.group('staging');
      return {
        checks: [
          {
            ...statusCheck(unhealthy, 'rolled-back', '2.0.0 fails its health checks'),
            ok: unhealthy.status === 'rolled-back' && /ended RollbackSuccessful/.test(unhealthy.reason ?? ''),
          },
          { ...afterUnhealthy, name: `after 2.0.0: ${afterUnhealthy.name}` },
          {
            ...statusCheck(erroring, 'rolled-back', '2.1.0 serves 5xx and its alarm stops the refresh'),
            ok: erroring.status === 'rolled-back' && /shop-staging-5xx/.test(erroring.reason ?? ''),
          },
          await recordedAndRunning(w, 'staging', before.currentRelease ?? 'unrecorded'),
          {
            name: 'never back on a bad version: the group is on the version it ran before',
            ok:
              group.LaunchTemplate?.Version === beforeVersion &&
              recorded.launchTemplate?.version === Number(beforeVersion),
            detail: `before v${beforeVersion ?? '?'}, now v${group.LaunchTemplate?.Version ?? '?'}, recorded v${recorded.launchTemplate?.version ?? '?'}`,
          },
          noOverlapCheck(region),
        ],
        figures: { 'staging instances': options.fleet },
      };
    });
  },
};

export const rollbackAfterCompleteStory: Story = {
  name: 'rollback-after-complete',
  description: storyCatalog['rollback-after-complete'],
  settings: ROLLOUT_SETTINGS,
  async run(region, options): Promise<StoryResult> {
    const w = await world(region, options, { releases: ['1.5.0', '2.0.0'] });
    return step('rollout', async () => {
      const first = await w.follow((await w.deploy('1.5.0', ['staging'])).id);
      const groupBefore = await w.group('staging');
      const previous = (await w.store.getEnvironmentState(SERVICE, 'staging')).history?.[0];
      // Then staging is scaled out by hand, and 2.0.0 rolls at that size.
      await w.aws.autoScaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: `${SERVICE}-staging`,
          DesiredCapacity: (groupBefore.DesiredCapacity ?? 0) + 1,
        }),
      );
      const deployed = await w.follow((await w.deploy('2.0.0', ['staging'])).id);
      const rolledBack = await w.follow((await w.deploy('', ['staging'], 'rollback')).id);
      const groupAfter = await w.group('staging');
      const capacity = (g: AutoScalingGroup) => `${g.MinSize}/${g.DesiredCapacity}/${g.MaxSize}`;
      return {
        checks: [
          statusCheck(first, 'succeeded', '1.5.0 completes in staging'),
          statusCheck(deployed, 'succeeded', '2.0.0 completes in staging (scaled out by hand before)'),
          statusCheck(rolledBack, 'succeeded', 'kiln rollback staging'),
          {
            name: 'the launch template version after the rollback equals the one recorded before',
            ok:
              previous !== undefined &&
              groupAfter.LaunchTemplate?.Version === String(previous.launchTemplate.version) &&
              groupAfter.LaunchTemplate?.Version === groupBefore.LaunchTemplate?.Version,
            detail: `recorded before v${previous?.launchTemplate.version ?? '?'} (group then v${groupBefore.LaunchTemplate?.Version ?? '?'}), after the rollback v${groupAfter.LaunchTemplate?.Version ?? '?'}`,
          },
          {
            name: 'the capacity after the rollback equals the one recorded before',
            ok:
              previous !== undefined &&
              groupAfter.MinSize === previous.capacity.min &&
              groupAfter.DesiredCapacity === previous.capacity.desired &&
              groupAfter.MaxSize === previous.capacity.max,
            detail: `recorded ${previous ? `${previous.capacity.min}/${previous.capacity.desired}/${previous.capacity.max}` : '?'}, after ${capacity(groupAfter)}`,
          },
          await recordedAndRunning(w, 'staging', previous?.release ?? 'unrecorded'),
        ],
        figures: { 'staging instances': options.fleet },
      };
    });
  },
};

export const concurrentArtifactsStory: Story = {
  name: 'concurrent-artifacts',
  description: storyCatalog['concurrent-artifacts'],
  settings: ROLLOUT_SETTINGS,
  async run(region, options): Promise<StoryResult> {
    const w = await world(region, options, { releases: ['2.0.0', '2.1.0', '2.2.0'] });
    return step('rollout', async () => {
      const first = await w.deploy('2.0.0', ['staging']);
      await sleep(20);
      const middle = await w.deploy('2.1.0', ['staging']);
      await sleep(20);
      const newest = await w.deploy('2.2.0', ['staging']);
      const ended = [await w.follow(first.id), await w.follow(middle.id), await w.follow(newest.id)];
      const [a, b, c] = ended as [Deployment, Deployment, Deployment];
      return {
        checks: [
          statusCheck(a, 'succeeded', 'the first (already rolling)'),
          {
            ...statusCheck(b, 'superseded', 'the middle one'),
            ok: b.status === 'superseded' && (b.reason ?? '').includes(c.id),
          },
          statusCheck(c, 'succeeded', 'the newest'),
          await recordedAndRunning(w, 'staging', '2.2.0'),
          noOverlapCheck(region),
        ],
        figures: { 'staging instances': options.fleet },
      };
    });
  },
};
