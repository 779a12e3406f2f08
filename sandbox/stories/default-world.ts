/**
 * The default story's world (sandbox/stories/default.ts): what the platform team made before Kiln
 * arrives, and the service manifest it applies. Service `checkout`:
 * - staging: N instances rolled with an instance refresh (the story's settings: rolling, with
 *   checkpoints), its 5xx alarm a rollout and a watch alarm;
 * - production: 2N instances rolled blue/green (health gate, traffic moved, a watch, the old group
 *   kept), approval required from the lead, a bake time in staging before it, its 5xx alarm a
 *   rollout and a watch alarm, and Kiln's terminate lifecycle hook on the group (Kiln copies it to
 *   every green group it makes), so a scale-in drains through Kiln;
 * - notifications to a Slack incoming webhook (recorded, never sent) and the Slack signing secret
 *   in Parameter Store, so Kiln's approval message carries buttons a person can press.
 * Every resource is made through the real SDK clients; no release is recorded: Kiln bakes them.
 */
import { PutLifecycleHookCommand } from '@aws-sdk/client-auto-scaling';
import { parseManifest, type ServiceManifest } from '../../shared/domain/manifest/schema';
import type { KilnStore } from '../../shared/store';
import type { SandboxClients } from '../core/sdk';
import type { Region } from '../region';
import { bakeSection, s3ArtifactSection, seedBaseImage } from './bake-kit';
import { putSigningSecret, SANDBOX_USERS } from './chat-kit';
import {
  provisionNotifications,
  provisionRolloutEnvironment,
  seedReleaseImage,
  type RolloutEnvironment,
} from './rollout-kit';
import { storySettings, type StorySettings } from './settings';
import type { StoryOptions } from './types';

export const SERVICE = 'checkout';
/** What the fleets run when the story starts (an earlier bake's AMI, before Kiln managed them). */
export const FIRST = '1.0.0';
/** The release CI pushes first: good. */
export const GOOD = '1.1.0';
/** The release CI pushes next: good while it rolls, then a feature flag turns it bad. */
export const BAD = '1.2.0';
export const SIGNING_SECRET = 'sandbox-signing-secret-0123456789';
/** Kiln's terminate hook on production (README "Lifecycle hooks": the platform team adds it). */
export const DRAIN_HOOK = 'kiln-drain';
/** The hook's heartbeat timeout: Kiln heartbeats while the target drains (deregistration delay below). */
export const DRAIN_HEARTBEAT_SECONDS = 120;
/** How long a release must run in staging before production (minutes). */
export const STAGING_BAKE_MINUTES = 5;
/**
 * Both environments' watch window (minutes after a release became current): production's alarm
 * fires inside its window; staging, promoted `STAGING_BAKE_MINUTES` earlier, is past its own.
 */
export const WATCH_WINDOW_MINUTES = 5;

/**
 * Production's blue/green strategy: every green target healthy for 60 s (within 15 minutes), then
 * traffic moves; a 2-minute watch with the old group parked; one old group kept for a rollback.
 */
export const PRODUCTION_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'blue-green',
    healthGate: { healthyForSeconds: 60, timeoutSeconds: 900 },
    bakeTimeSeconds: 120,
    keepOldGroups: 1,
  },
  targetGroup: { healthCheckIntervalSeconds: 10, healthyThresholdCount: 3, deregistrationDelaySeconds: 60 },
});

export interface Environment extends RolloutEnvironment {
  name: 'staging' | 'production';
}

export interface World {
  aws: SandboxClients;
  store: KilnStore<ServiceManifest>;
  staging: Environment;
  production: Environment;
  manifestVersion: number;
}

/** The platform team's infrastructure: images, both fleets, alarms, the drain hook, notifications. */
export async function provisionWorld(
  region: Region,
  aws: SandboxClients,
  options: StoryOptions,
): Promise<{ staging: Environment; production: Environment; notifications: ManifestNotifications }> {
  const base = seedBaseImage(region);
  const imageId = seedReleaseImage(region, SERVICE, FIRST, base);
  const made: Environment[] = [];
  for (const [name, size, settings] of [
    ['staging', options.fleet, options.settings],
    ['production', options.fleet * 2, PRODUCTION_SETTINGS],
  ] as const) {
    const env: Environment = {
      ...(await provisionRolloutEnvironment(region, aws, {
        service: SERVICE,
        name,
        size,
        imageId,
        settings,
      })),
      name,
    };
    made.push(env);
    // Blue/green: the base group is declared; Kiln's green groups join by their tags.
    options.declareEnvironment({
      service: SERVICE,
      environment: name,
      groups: [env.groupName],
      targetGroupArns: [env.targetGroupArn],
      alarmNames: [env.alarmName],
      minHealthyPercentage:
        settings.strategy.type === 'rolling' ? settings.strategy.minHealthyPercentage : 100,
    });
  }
  const [staging, production] = made as [Environment, Environment];
  await aws.autoScaling.send(
    new PutLifecycleHookCommand({
      AutoScalingGroupName: production.groupName,
      LifecycleHookName: DRAIN_HOOK,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: DRAIN_HEARTBEAT_SECONDS,
      DefaultResult: 'ABANDON',
    }),
  );
  const notifications = await provisionNotifications(region, aws, SERVICE);
  await putSigningSecret(aws, SIGNING_SECRET);
  return { staging, production, notifications };
}

type ManifestNotifications = Awaited<ReturnType<typeof provisionNotifications>>;

/** checkout's manifest, as `kiln services apply` reads it from the service's repository. */
export function defaultManifest(
  region: Region,
  environments: { staging: Environment; production: Environment },
  settings: StorySettings,
  notifications: ManifestNotifications,
): ServiceManifest {
  const regionName = region.engine.context.region;
  const alarmsOf = (env: Environment) => ({
    rollout: [env.alarmName],
    watch: [env.alarmName],
    watchWindowMinutes: WATCH_WINDOW_MINUTES,
  });
  const { staging, production } = environments;
  return parseManifest({
    apiVersion: 'kiln.dev/v1',
    kind: 'Service',
    name: SERVICE,
    notifications,
    artifact: s3ArtifactSection(SERVICE),
    // One Region: a copy elsewhere would add ten virtual minutes per bake (the bake story shows it).
    bake: bakeSection(region, { service: SERVICE, copyToRegions: [] }),
    environments: [
      {
        name: staging.name,
        region: regionName,
        autoScalingGroup: staging.groupName,
        targetGroupArns: [staging.targetGroupArn],
        strategy: settings.strategy,
        alarms: alarmsOf(staging),
        bakeTimeMinutes: 0,
        access: {
          deploy: [SANDBOX_USERS.lead, SANDBOX_USERS.dev],
          rollback: [SANDBOX_USERS.lead, SANDBOX_USERS.dev],
          approve: [SANDBOX_USERS.lead],
        },
      },
      {
        name: production.name,
        region: regionName,
        autoScalingGroup: production.groupName,
        targetGroupArns: [production.targetGroupArn],
        strategy: PRODUCTION_SETTINGS.strategy,
        alarms: alarmsOf(production),
        bakeTimeMinutes: STAGING_BAKE_MINUTES,
        approval: { required: true, timeoutMinutes: 60 },
        access: {
          deploy: [SANDBOX_USERS.lead],
          rollback: [SANDBOX_USERS.lead],
          approve: [SANDBOX_USERS.lead],
        },
        lifecycle: { drain: { stopCommand: `systemctl stop ${SERVICE}` } },
      },
    ],
  });
}
