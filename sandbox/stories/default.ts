/**
 * The default story (`kiln sandbox`, no flags): Kiln's whole course on one service, `checkout`,
 * in staging (N instances, rolling) and production (2N, blue/green, approval required), driven
 * through Kiln's real functions: the story acts only as CI, the platform team and two people in
 * Slack would, and follows Kiln's records. World: sandbox/stories/default-world.ts.
 *
 * Course:
 * 1. The platform's infrastructure (fleets on checkout 1.0.0, alarms, Kiln's drain hook on
 *    production, a Slack webhook for notifications, the signing secret) and `kiln services apply`.
 * 2. CI pushes checkout 1.1.0 to S3 → on-artifact records it and starts a deployment → Kiln bakes
 *    it once (builder, Run Command, CreateImage, the builder terminated) → staging rolls with an
 *    instance refresh that pauses at its checkpoints → 20 minutes in staging → Kiln asks for
 *    approval in Slack: the lead presses the Approve button of that very message (a signed
 *    POST /slack), checks the preview and confirms → production rolls blue/green (green group,
 *    health gate, traffic moved, watch, blue retired).
 * 3. CI pushes 1.2.0: the same course (the lead approves again), and it completes.
 * 4. A feature flag turns 1.2.0 bad: its instances answer a quarter of their requests with 5xx
 *    (the sandbox's bad-version behaviour, switched on after the fact as alarm-rollback.ts does).
 *    Production's 5xx alarm fires inside its watch window: on-alarm rolls production back to 1.1.0
 *    by itself. Staging's alarm fires too, past its window: Kiln only tells Slack.
 * 5. The developer reads that and runs `/kiln rollback checkout staging` (signed, an allowed
 *    user): the preview shows 1.2.0 → 1.1.0; Confirm starts the rollback, which restores 1.1.0.
 * 6. Night falls: the platform scales production in to N; every instance leaving waits in Kiln's
 *    terminate hook, is drained from the load balancer and stopped before Kiln completes the hook.
 * 7. The checks (sandbox/stories/default-checks.ts) read Kiln's records, AWS and the timeline;
 *    a summary table closes the run.
 *
 * Each act runs inside `step(...)`: one an injected fault makes impossible ends the run as a
 * failed check named after it; an act whose predecessor did not end as it should is not run and
 * the checks that needed it say so.
 */
import { UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CHAT_ACTIONS } from '../../shared/domain/chat-actions';
import type { Deployment } from '../../shared/store';
import { SANDBOX_EPOCH } from '../core/context';
import type { Region } from '../region';
import { DEFAULT_APP_BEHAVIOUR } from '../services/ec2/instances';
import { operatorStore, uploadArtifact } from './bake-kit';
import { storyCatalog } from './catalog';
import { buttonValueOf, confirmValueOf, converse, SANDBOX_USERS, SlackClient } from './chat-kit';
import { describeGroup } from './blue-green-kit';
import {
  defaultChecks,
  gatherFacts,
  summaryLines,
  type Acts,
  type ApprovalPress,
  type DefaultStoryFacts,
} from './default-checks';
import { Narrator } from './default-watch';
import {
  BAD,
  defaultManifest,
  DRAIN_HEARTBEAT_SECONDS,
  GOOD,
  provisionWorld,
  SERVICE,
  SIGNING_SECRET,
  STAGING_BAKE_MINUTES,
  type World,
} from './default-world';
import { required, sleep, waitUntilHealthy } from './fleet';
import { until } from './rollout-kit';
import { describeStrategy, storySettings, rollingStrategy, type StorySettings } from './settings';
import { step, storyStepFailure } from './steps';
import type { Story, StoryOptions, StoryResult } from './types';

/**
 * Staging's rolling strategy (the story's settings: `kiln sandbox --settings` replaces them), also
 * both environments' strategy under `kiln sandbox --serve`: half the fleet at a time, launched
 * before the old half leaves (MinHealthy 100 %, MaxHealthy 150 %), a two-minute pause at the 50 %
 * checkpoint.
 */
export const DEFAULT_STORY_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 100,
    maxHealthyPercentage: 150,
    instanceWarmupSeconds: 60,
    checkpoints: [50, 100],
    checkpointDelaySeconds: 120,
  },
});

/** Each artifact's S3 ETag (the digest Kiln names its deployment and bake after). */
const ETAGS: Record<string, string> = {
  [GOOD]: 'b1946ac92492d2347c6235b4d2611184',
  [BAD]: '591785b794601e212b260e25925636fd',
};

/** Virtual seconds since the timeline's epoch. */
const now = (): number => (Date.now() - SANDBOX_EPOCH) / 1000;

export const defaultStory: Story = {
  name: 'default',
  description: storyCatalog.default,
  settings: DEFAULT_STORY_SETTINGS,
  run: (region, options) => runDefaultStory(region, options),
};

/**
 * Runs the story; `observe` receives the facts its checks judged (the scenario test breaks them
 * one at a time to show each check failing).
 */
export async function runDefaultStory(
  region: Region,
  options: StoryOptions,
  observe?: (facts: DefaultStoryFacts) => void,
): Promise<StoryResult> {
  const { print } = options;
  const narrator = new Narrator(region, print);
  const aws = region.clientsFor('story:platform-team', 'operator');
  const store = operatorStore(region);
  const acts: Acts = { releases: {}, transitions: narrator.transitions, failures: [] };

  // 1. Infrastructure and the manifest.
  const world: World = await step('setup', async () => {
    const made = await provisionWorld(region, aws, {
      ...options,
      declareEnvironment: narrator.declarer(options.declareEnvironment),
    });
    const { staging, production } = made;
    print(
      `platform: ${staging.groupName} (${staging.size}) and ${production.groupName} (${production.size}) on checkout 1.0.0, ` +
        `5xx alarms, Kiln's drain hook on production, Slack notifications, signing secret`,
    );
    await waitUntilHealthy(aws, [staging, production], 1800);
    narrator.tellFleets();
    const stored = await store.putServiceManifest(
      defaultManifest(region, made, options.settings, made.notifications),
      { actor: 'kiln-cli:platform-team' },
    );
    print(
      `kiln   services apply ${SERVICE} → manifest v${stored.version}: staging rolling (${describeStrategy(rollingStrategy(options.settings))}); ` +
        `production blue/green after ${STAGING_BAKE_MINUTES} min in staging and ${SANDBOX_USERS.lead}'s approval`,
    );
    return { aws, store, staging, production, manifestVersion: stored.version };
  });

  /**
   * Runs one act; when the simulation makes it impossible (a call failing past its retries, a wait
   * past its deadline) the act becomes a failed check and the story goes on to its checks.
   */
  const act = async <T>(name: string, body: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await step(name, body);
    } catch (error) {
      const failure = storyStepFailure(name, error);
      if (failure === undefined) throw error;
      print(`story  ${name} could not finish: ${failure.detail}`);
      acts.failures.push({ name: failure.step, ok: false, detail: failure.detail });
      return undefined;
    }
  };

  const api = await region.startHttpApi();
  const slack = new SlackClient(api, SIGNING_SECRET);

  /** The lead presses Approve on Kiln's own Slack message for `deployment`, then Confirm. */
  const approveFromSlack = async (deployment: Deployment): Promise<ApprovalPress | undefined> => {
    const post = [...region.slack.posts]
      .reverse()
      .find((p) => approveValueOf(p.message?.blocks, deployment.id) !== undefined);
    const value = approveValueOf(post?.message?.blocks, deployment.id);
    if (post === undefined || value === undefined) return undefined; // not posted yet: next look
    const url = slack.newResponseUrl();
    const body = slack.buttonBody(SANDBOX_USERS.lead, CHAT_ACTIONS.approve, value, url);
    const pressedAt = now();
    const pressed = await converse(region, slack, {
      rawBody: body,
      headers: slack.headersFor(body),
      responseUrl: url,
    });
    print(
      `slack  ${SANDBOX_USERS.lead} presses Approve on Kiln's message → "${pressed.answer?.text ?? 'no answer'}"`,
    );
    const confirmValue = confirmValueOf(pressed.answer?.blocks);
    // No preview to confirm (the request failed on its way): the lead presses again at the next look.
    if (confirmValue === undefined) return undefined;
    const confirmUrl = slack.newResponseUrl();
    const confirmBody = slack.buttonBody(SANDBOX_USERS.lead, 'kiln.confirm', confirmValue, confirmUrl);
    const confirmedAt = now();
    const confirmed = await converse(region, slack, {
      rawBody: confirmBody,
      headers: slack.headersFor(confirmBody),
      responseUrl: confirmUrl,
    });
    print(`slack  ${SANDBOX_USERS.lead} presses Confirm → "${confirmed.answer?.text ?? 'no answer'}"`);
    return {
      notifiedAt: (post.at - SANDBOX_EPOCH) / 1000,
      pressedAt,
      confirmedAt,
      status: pressed.sent.status,
      preview: pressed.answer?.text ?? '',
      answer: confirmed.answer?.text ?? '',
    };
  };

  /**
   * CI pushes `version`; Kiln bakes and rolls it through both environments; the lead approves.
   * No deployment (the artifact event lost, on-artifact failing) is an outcome the checks explain.
   */
  const release = (version: string) =>
    act(`release ${version}`, async () => {
      const { uri } = uploadArtifact(region, { service: SERVICE, version, etag: ETAGS[version] ?? '' });
      const pushedAt = now();
      print(`ci     pushed ${uri}`);
      acts.releases[version] = { pushedAt, endedAt: pushedAt };
      // EventBridge may deliver late (up to five minutes) and Lambda retries a failed asynchronous
      // invocation for up to three more: ten minutes, polled every 5 s as a person watching would.
      let started: Deployment | undefined;
      for (let waited = 0; started === undefined && waited <= 600; waited += 5) {
        started = (await store.listDeployments(SERVICE, {})).items.find((d) => d.releaseVersion === version);
        if (started === undefined) await sleep(5);
      }
      if (started === undefined) {
        print(`kiln   no deployment of ${SERVICE}@${version} after 600 s`);
        return undefined;
      }
      let approval: ApprovalPress | undefined;
      const deployment = await narrator.follow(store, started.id, {
        onRecord: async (d) => {
          if (d.status === 'waiting-approval' && approval === undefined) approval = await approveFromSlack(d);
        },
      });
      acts.releases[version] = { pushedAt, deploymentId: deployment.id, approval, endedAt: now() };
      return deployment;
    });

  // 2-3. Two releases through both environments.
  const good = await release(GOOD);
  const bad = good?.status === 'succeeded' ? await release(BAD) : undefined;

  // 4. 1.2.0 turns bad; production's alarm rolls it back.
  if (bad?.status === 'succeeded') {
    acts.flagAt = now();
    await act('alarm rollback', async () => {
      region.ec2.setBehaviourResolver((image) =>
        image.tags['kiln:version'] === BAD
          ? { ...DEFAULT_APP_BEHAVIOUR, mode: 'errors', errorRate: 0.25 }
          : { ...DEFAULT_APP_BEHAVIOUR },
      );
      print(`story  a feature flag turns on in ${BAD}: its instances answer 25 % of requests with 5xx`);
      const rollback = await until(
        'a rollback of production',
        async () => {
          narrator.tellFleets();
          return (await store.listDeployments(SERVICE, { environment: 'production' })).items.find(
            (d) => d.mode === 'rollback',
          );
        },
        { everySeconds: 15, limitSeconds: 30 * 60 },
      );
      print(
        `kiln   ${rollback.id}: rollback of production to ${rollback.releaseVersion} by ${rollback.actor}`,
      );
      acts.alarmRollback = await narrator.follow(store, rollback.id);
    });
  }

  // 5. The developer reads Kiln's notice about staging and rolls it back from Slack.
  if (acts.alarmRollback?.status === 'succeeded') {
    await act('rollback from Slack', async () => {
      await until(
        "Kiln's notice about staging's alarm",
        async () => {
          narrator.tellFleets();
          return region.slack.posts.some((p) => p.message?.text?.includes(world.staging.alarmName))
            ? true
            : undefined;
        },
        { everySeconds: 15, limitSeconds: 30 * 60 },
      );
      print(
        `story  ${SANDBOX_USERS.dev} reads Kiln's message: staging's alarm is past its watch window, so it is a person's to act on`,
      );
      const command = `rollback ${SERVICE} staging`;
      const url = slack.newResponseUrl();
      const body = slack.slashBody(SANDBOX_USERS.dev, command, url);
      const asked = await converse(region, slack, {
        rawBody: body,
        headers: slack.headersFor(body),
        responseUrl: url,
      });
      print(`slack  ${SANDBOX_USERS.dev}: /kiln ${command} → "${asked.answer?.text ?? 'no answer'}"`);
      const confirmUrl = slack.newResponseUrl();
      const confirmBody = slack.buttonBody(
        SANDBOX_USERS.dev,
        'kiln.confirm',
        confirmValueOf(asked.answer?.blocks) ?? '',
        confirmUrl,
      );
      const confirmed = await converse(region, slack, {
        rawBody: confirmBody,
        headers: slack.headersFor(confirmBody),
        responseUrl: confirmUrl,
      });
      print(`slack  ${SANDBOX_USERS.dev} presses Confirm → "${confirmed.answer?.text ?? 'no answer'}"`);
      const rollback = await until(
        'the rollback of staging',
        async () =>
          (await store.listDeployments(SERVICE, { environment: 'staging' })).items.find(
            (d) => d.mode === 'rollback',
          ),
        { everySeconds: 5, limitSeconds: 300 },
      );
      acts.chatRollback = {
        preview: asked.answer?.text ?? '',
        status: asked.sent.status,
        deployment: await narrator.follow(store, rollback.id),
      };
    });
  }

  // 6. A scale-in of production drains through Kiln's hook.
  if (acts.chatRollback?.deployment.status === 'succeeded') {
    await act('scale in', async () => {
      const state = await store.getEnvironmentState(SERVICE, 'production');
      const groupName = state.activeGroup ?? world.production.groupName;
      const group = required(await describeGroup(aws, groupName), `group ${groupName}`);
      const from = group.DesiredCapacity ?? 0;
      const to = options.fleet;
      acts.scaleIn = { groupName, from, to, at: now() };
      await aws.autoScaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: groupName,
          MinSize: to,
          DesiredCapacity: to,
        }),
      );
      print(`platform: scale ${groupName} in, ${from} → ${to} instances`);
      const prefix = `autoscaling:${groupName}/`;
      const since = acts.scaleIn.at;
      await until(
        'every instance of the scale-in terminated',
        async () => {
          narrator.tellFleets();
          const gone = region.engine.timeline.entries.filter(
            (e) =>
              e.kind === 'state' && e.t >= since && e.to === 'Terminated' && e.resource.startsWith(prefix),
          ).length;
          return gone >= from - to ? true : undefined;
        },
        { everySeconds: 15, limitSeconds: 3 * DRAIN_HEARTBEAT_SECONDS * 10 },
      );
      acts.scaleIn.doneAt = now();
    });
  }

  // 7. Alarms settle (a 5xx alarm needs three quiet minutes), then the checks and the summary.
  return step('checks', async () => {
    await until(
      'both alarms OK',
      async () => {
        narrator.tellFleets();
        const states = [world.staging, world.production].map((e) =>
          region.cloudWatch.alarmState(e.alarmName),
        );
        return states.every((s) => s === 'OK') ? true : undefined;
      },
      { everySeconds: 15, limitSeconds: 15 * 60 },
    ).catch(() => undefined); // the end-state check says which alarm did not settle
    const facts = await gatherFacts(region, world, options, acts);
    observe?.(facts);
    const checks = [...acts.failures, ...defaultChecks(facts)];
    print('');
    for (const line of summaryLines(facts)) print(line);
    return {
      checks,
      figures: {
        'staging instances': world.staging.size,
        'production instances': world.production.size,
        deployments: facts.deployments.length,
      },
    };
  });
}

/** The Approve button's value in a Slack message, when it approves `deploymentId`. */
function approveValueOf(blocks: unknown[] | undefined, deploymentId: string): string | undefined {
  const value = buttonValueOf(blocks, CHAT_ACTIONS.approve);
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' &&
      parsed !== null &&
      'deploymentId' in parsed &&
      parsed.deploymentId === deploymentId
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}
