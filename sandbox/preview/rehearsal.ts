/**
 * The rehearsal `kiln preview` runs: one environment of a real manifest, set up in the sandbox as
 * its platform team would have it (a fleet on release 1.0.0 behind a target group, tagged for
 * Kiln), then a deployment of 2.0.0 started as `kiln deploy` starts it and carried out by Kiln's
 * deploy state machine with the environment's own strategy, lifecycle and watch settings. After
 * it, either `kiln rollback` (how long going back takes) or, when 2.0.0 is the bad release, the
 * automatic rollback Kiln starts on its own.
 *
 * What the rehearsal cannot take from the manifest it stands in for, and says so: the fleet's
 * size (`--fleet`), the target group's health checks (AWS's defaults unless given), and the
 * alarms (one 5xx alarm stands in for the environment's rollout alarms and one for its watch
 * alarms, only where the manifest lists some). Gates (bake time, approval) come between
 * environments, so a one-environment rehearsal has none.
 */
import { DeployExecutions } from '../../shared/aws/sfn';
import { isFinal } from '../../shared/domain/deployment';
import { parseManifest, type ServiceManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore } from '../../shared/store';
import { startDeployment } from '../../shared/usecases/deployments/start';
import type { Region } from '../region';
import { minHealthyCount } from '../services/autoscaling/refresh-rules';
import { bakeSection, operatorStore, s3ArtifactSection, seedBaseImage } from '../stories/bake-kit';
import { required, waitUntilHealthy } from '../stories/fleet';
import {
  provisionRolloutEnvironment,
  recordRelease,
  seedReleaseImage,
  until,
  type RolloutEnvironment,
} from '../stories/rollout-kit';
import { step, StoryDeadlineError } from '../stories/steps';
import type { Story, StoryOptions, StoryResult } from '../stories/types';
import type { PreviewInput } from './input';

/** The release the fleet runs before, and the one the rehearsal rolls out. */
export const PREVIOUS_RELEASE = '1.0.0';
export const NEW_RELEASE = '2.0.0';

export interface RehearsedDeployment {
  id: string;
  status: Deployment['status'];
  reason: string | undefined;
}

/** What the rehearsal did, for the figures (filled in as it goes). */
export interface RehearsalLog {
  group?: string;
  alarmName?: string;
  deploy?: RehearsedDeployment;
  rollback?: RehearsedDeployment;
  /** With a bad release: whether the environment was back on the previous release in the end. */
  restored?: boolean;
}

/** The capacity a rollout must keep healthy: the rolling minimum, or all of it for blue/green. */
export function healthyFloor(input: Pick<PreviewInput, 'environment' | 'fleet'>): number {
  const { strategy } = input.environment;
  return strategy.type === 'rolling'
    ? minHealthyCount(input.fleet, strategy.minHealthyPercentage)
    : input.fleet;
}

/** The manifest Kiln gets in the rehearsal: the environment's own settings on the sandbox's fleet. */
function rehearsalManifest(
  region: Region,
  input: PreviewInput,
  environment: RolloutEnvironment,
): ServiceManifest {
  const service = input.manifest.name;
  const env = input.environment;
  const stand = (alarms: readonly string[]) => (alarms.length > 0 ? [environment.alarmName] : []);
  return parseManifest({
    apiVersion: input.manifest.apiVersion,
    kind: input.manifest.kind,
    name: service,
    artifact: s3ArtifactSection(service),
    bake: bakeSection(region, { service, copyToRegions: [] }),
    environments: [
      {
        name: env.name,
        region: region.engine.context.region,
        autoScalingGroup: environment.groupName,
        targetGroupArns: [environment.targetGroupArn],
        strategy: env.strategy,
        alarms: {
          rollout: stand(env.alarms.rollout),
          watch: stand(env.alarms.watch),
          watchWindowMinutes: env.alarms.watchWindowMinutes,
        },
        bakeTimeMinutes: 0,
        approval: { required: false },
        access: env.access,
        lifecycle: env.lifecycle,
      },
    ],
  });
}

/** Follows a deployment through Kiln's record until it ends. */
async function follow(
  store: KilnStore<ServiceManifest>,
  id: string,
  print: (line: string) => void,
): Promise<RehearsedDeployment> {
  let said = '';
  const ended = await until(
    `deployment ${id} ends`,
    async () => {
      const deployment = await store.getDeployment(id);
      const progress = deployment?.rollout;
      const line = progress ? `${progress.phase}${progress.detail ? ` (${progress.detail})` : ''}` : '';
      if (line !== '' && line !== said) print(`kiln: ${id} ${line}`);
      said = line;
      return deployment !== undefined && isFinal(deployment.status) ? deployment : undefined;
    },
    { everySeconds: 15, limitSeconds: 12 * 3600 },
  );
  print(`kiln: ${id} ${ended.status}${ended.reason ? `: ${ended.reason}` : ''}`);
  return { id: ended.id, status: ended.status, reason: ended.reason };
}

/**
 * The rehearsal as a story for runSandbox. `bad`: 2.0.0 misbehaves (the region's bad-version
 * knob) and the rehearsal waits for Kiln's own rollback; otherwise, once 2.0.0 is out,
 * `kiln rollback` takes the environment back to 1.0.0.
 */
export function rehearsalStory(input: PreviewInput, bad: boolean, log: RehearsalLog): Story {
  const service = input.manifest.name;
  const envName = input.environment.name;
  return {
    name: 'preview',
    description: `rehearse ${service}/${envName}`,
    settings: { strategy: input.environment.strategy, targetGroup: input.targetGroup },
    async run(region: Region, options: StoryOptions): Promise<StoryResult> {
      const aws = region.clientsFor('story:platform-team', 'operator');
      const store = operatorStore(region);
      await step('setup', async () => {
        const base = seedBaseImage(region);
        const images = {
          previous: seedReleaseImage(region, service, PREVIOUS_RELEASE, base),
          next: seedReleaseImage(region, service, NEW_RELEASE, base),
        };
        const made = await provisionRolloutEnvironment(region, aws, {
          service,
          name: envName,
          size: options.fleet,
          imageId: images.previous,
          settings: options.settings,
        });
        options.declareEnvironment({
          service,
          environment: envName,
          groups: [made.groupName],
          targetGroupArns: [made.targetGroupArn],
          alarmNames: [made.alarmName],
          minHealthyPercentage:
            input.environment.strategy.type === 'rolling'
              ? input.environment.strategy.minHealthyPercentage
              : 100,
        });
        log.group = made.groupName;
        log.alarmName = made.alarmName;
        await waitUntilHealthy(aws, [made], 3600);
        await store.putServiceManifest(rehearsalManifest(region, input, made), { actor: 'kiln-cli:preview' });
        for (const [version, imageId] of [
          [PREVIOUS_RELEASE, images.previous],
          [NEW_RELEASE, images.next],
        ] as const)
          await recordRelease(store, region, { service, version, imageId });
        // Kiln's record as an earlier deployment of 1.0.0 left it (launch template version 1, the
        // fleet's capacity), so `kiln rollback` has a release to restore, as it would in real life.
        const record = {
          release: PREVIOUS_RELEASE,
          group: made.groupName,
          launchTemplate: { id: made.launchTemplateId, version: 1 },
          capacity: { min: made.size, max: made.size * 2, desired: made.size },
          since: new Date(Date.now()).toISOString(),
        };
        await store.updateEnvironmentState(
          service,
          envName,
          {
            currentRelease: record.release,
            launchTemplate: record.launchTemplate,
            capacity: record.capacity,
            activeGroup: record.group,
            history: [record],
          },
          0,
          { actor: 'story:platform-team' },
        );
        options.print(`platform: ${made.groupName} (${options.fleet}) on ${PREVIOUS_RELEASE}`);
      });
      const executions = new DeployExecutions(
        aws.sfn,
        required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine'),
      );
      const start = async (mode: 'deploy' | 'rollback'): Promise<string> => {
        const { deployment } = await startDeployment(
          {
            service,
            ...(mode === 'deploy' ? { version: NEW_RELEASE } : {}),
            environments: [envName],
            mode,
            trigger: 'cli',
            actor: 'cli:preview',
          },
          { store, executions, ids: region.engine.kilnIds, now: () => Date.now() },
        );
        options.print(`kiln ${mode}: ${deployment.id} ${service}@${deployment.releaseVersion} to ${envName}`);
        return deployment.id;
      };
      log.deploy = await step('rollout', async () => follow(store, await start('deploy'), options.print));
      if (bad) {
        // A release that slipped past the rollout alarms is caught in the watch window, by a
        // rollback Kiln starts itself: wait for it as long as the window lasts.
        const limit = input.environment.alarms.watchWindowMinutes * 60 + 3600;
        log.restored = await step('automatic rollback', async () =>
          until(
            `${envName} back on ${PREVIOUS_RELEASE}`,
            async () => {
              const state = await store.getEnvironmentState(service, envName);
              if (state.lock !== undefined) return undefined;
              return state.currentRelease === PREVIOUS_RELEASE ? true : undefined;
            },
            { everySeconds: 30, limitSeconds: limit },
          ).catch((error: unknown) => {
            if (error instanceof StoryDeadlineError) return false;
            throw error;
          }),
        );
      } else if (log.deploy.status === 'succeeded') {
        log.rollback = await step('rollback', async () =>
          follow(store, await start('rollback'), options.print),
        );
      }
      return { checks: [], figures: {} };
    },
  };
}
