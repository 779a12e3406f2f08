/**
 * `kiln sandbox --serve PORT` (issue 11, item 8): the default story's service and environments
 * (checkout in staging and production) kept running in a simulated region, with the HTTP API on
 * 127.0.0.1:PORT, so a Slack app (through a tunnel) or curl can drive `/kiln` at POST /slack.
 *
 * Course:
 * 1. The region starts with its virtual clock an hour behind the wall clock. The platform's
 *    fleets come up on checkout 1.0.0; Kiln's store gets the manifest (its access lists name the
 *    sandbox's Slack users, sandbox/stories/chat-kit.ts), releases 1.0.0 and 1.1.0, and a first
 *    deployment of 1.0.0 through both environments (approved as `kiln approve` would), so both
 *    have a record to show and to roll back to. The signing secret goes into Parameter Store.
 * 2. Virtual time catches up with the wall clock, then follows it one to one: requests signed with
 *    the real time pass the five-minute check, and a rollout takes as long as it would on AWS.
 * 3. Answers Kiln posts to response_url are printed (nothing is sent to Slack), until `signal`.
 */
import { performance } from 'node:perf_hooks';
import { DeployExecutions, SfnTasks } from '../shared/aws/sfn';
import { isFinal } from '../shared/domain/deployment';
import { approveDeployment } from '../shared/usecases/deployments/approve';
import { startDeployment } from '../shared/usecases/deployments/start';
import { realTimeout } from './core/clock';
import { createRegion, type Region } from './region';
import type { RecordedResponse } from './services/slack';
import { operatorStore, seedBaseImage } from './stories/bake-kit';
import { chatManifest, putSigningSecret, SANDBOX_TEAM, SANDBOX_USERS } from './stories/chat-kit';
import { DEFAULT_STORY_SETTINGS } from './stories/default';
import { required, sleep, waitUntilHealthy } from './stories/fleet';
import {
  provisionRolloutEnvironment,
  recordRelease,
  seedReleaseImage,
  until,
  type RolloutEnvironment,
} from './stories/rollout-kit';

export const SERVE_SERVICE = 'checkout';

export interface ServeOptions {
  port: number;
  secret: string;
  seed: number;
  fleet: number;
  print: (line: string) => void;
  /** Stops serving (SIGINT in the CLI). */
  signal: AbortSignal;
  /** Called once the API listens, with its URL and the region (tests send requests then). */
  onListening?: (url: string, region: Region) => void;
  /** Log level of Kiln's functions (Powertools); default WARN keeps the answers readable. */
  functionLogLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

/** How far behind the wall clock the virtual clock starts: room for the setup's virtual time. */
const HEAD_START_MS = 60 * 60 * 1000;

export async function serveSandbox(options: ServeOptions): Promise<void> {
  const wallStart = Date.now();
  const perfStart = performance.now();
  // The wall clock while Date is virtual: performance.now() is not faked (sandbox/core/clock.ts).
  const wallNow = () => wallStart + (performance.now() - perfStart);
  // Functions build their loggers when first invoked, reading the level from the environment.
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = options.functionLogLevel ?? 'WARN';
  const region = await createRegion({
    seed: options.seed,
    epochMs: Math.floor((wallStart - HEAD_START_MS) / 1000) * 1000,
    // A server runs until stopped: the guards at their widest (a timer cannot be armed past 2^31 - 1
    // ms, so one session serves at most 24.8 days).
    limits: { maxSteps: 2 ** 50, maxVirtualMs: 2 ** 31 - 1 },
  });
  try {
    region.slackResponses.onResponse((response) => options.print(describeResponse(response)));
    await region.engine.run(async () => {
      await setup(region, options);
      const api = await region.startHttpApi(options.port);
      // 2. Catch up, then keep pace: virtual time moves only in the sleeps, never ahead of the wall.
      let announced = false;
      while (!options.signal.aborted) {
        const behind = wallNow() - Date.now();
        if (behind > 50) {
          await sleep(behind / 1000);
          continue;
        }
        if (!announced) {
          announced = true;
          printWelcome(api.url, options);
          options.onListening?.(api.url, region);
        }
        // Hold the clock while the wall catches up, so requests in flight never see it jump.
        const release = region.engine.scheduler.holdClock();
        await new Promise<void>((resolve) => realTimeout(resolve, 100));
        release();
      }
    });
  } finally {
    await region.dispose();
    if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  }
}

function printWelcome(url: string, options: ServeOptions): void {
  const p = options.print;
  p(
    `kiln sandbox: serving ${SERVE_SERVICE} (staging, production) — Slack requests at ${url}/slack (Ctrl-C to stop)`,
  );
  p(
    `  team ${SANDBOX_TEAM}; users: ${SANDBOX_USERS.lead} deploys, rolls back and approves everywhere; ${SANDBOX_USERS.dev} deploys and rolls back staging; anyone else reads status and history`,
  );
  p(
    '  requests must be signed with KILN_SANDBOX_SLACK_SECRET (README "ChatOps: `/kiln` in Slack"); answers to response_url are printed here',
  );
}

function describeResponse(response: RecordedResponse): string {
  const buttons = (response.message.blocks ?? [])
    .flatMap((b) => (b as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? [])
    .map((e) => `[${e.action_id ?? '?'} value=${e.value ?? ''}]`);
  return `slack ← ${response.responseUrl}: ${response.message.text}${buttons.length > 0 ? ` ${buttons.join(' ')}` : ''}`;
}

async function setup(region: Region, options: ServeOptions): Promise<void> {
  const aws = region.clientsFor('serve:platform-team', 'operator');
  const store = operatorStore(region);
  const base = seedBaseImage(region);
  const images = Object.fromEntries(
    ['1.0.0', '1.1.0'].map((v) => [v, seedReleaseImage(region, SERVE_SERVICE, v, base)]),
  );
  const environments: RolloutEnvironment[] = [];
  for (const [name, size] of [
    ['staging', options.fleet],
    ['production', options.fleet * 2],
  ] as const) {
    environments.push(
      await provisionRolloutEnvironment(region, aws, {
        service: SERVE_SERVICE,
        name,
        size,
        imageId: images['1.0.0'] ?? '',
        settings: DEFAULT_STORY_SETTINGS,
      }),
    );
  }
  await waitUntilHealthy(aws, environments, 1800);
  await store.putServiceManifest(
    chatManifest(region, SERVE_SERVICE, environments, DEFAULT_STORY_SETTINGS, {
      production: { approval: true },
    }),
    { actor: 'kiln-cli:platform-team' },
  );
  for (const version of ['1.0.0', '1.1.0'])
    await recordRelease(store, region, { service: SERVE_SERVICE, version, imageId: images[version] ?? '' });
  await putSigningSecret(aws, options.secret);
  const executions = new DeployExecutions(
    aws.sfn,
    required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine'),
  );
  const { deployment } = await startDeployment(
    {
      service: SERVE_SERVICE,
      version: '1.0.0',
      environments: ['staging', 'production'],
      mode: 'deploy',
      trigger: 'cli',
      actor: 'cli:sandbox',
    },
    { store, executions, ids: region.engine.kilnIds, now: () => Date.now() },
  );
  const settled = async (d: (typeof deployment)['status'][]) =>
    until(
      `deployment ${deployment.id}`,
      async () => {
        const found = await store.getDeployment(deployment.id);
        return found !== undefined && (d.includes(found.status) || isFinal(found.status)) ? found : undefined;
      },
      { everySeconds: 30, limitSeconds: 3000 },
    );
  await settled(['waiting-approval']);
  await approveDeployment(
    { deploymentId: deployment.id, actor: 'cli:sandbox', approved: true },
    { store, tasks: new SfnTasks(aws.sfn) },
  );
  const done = await settled([]);
  options.print(
    `kiln sandbox: ${SERVE_SERVICE} 1.0.0 recorded in staging and production (${done.status}); release 1.1.0 ready to deploy`,
  );
}
