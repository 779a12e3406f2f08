/**
 * Kiln's launch hook end to end in the sandbox (on-lifecycle → the lifecycle state machine →
 * lifecycle-steps): a scale-out instance on the environment's release AMI goes in service; one on
 * another AMI is abandoned and audited as drift.
 */
import { PutLifecycleHookCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { AuditEntry } from '../../../shared/store';
import { runSandbox } from '../../../sandbox/run';
import { operatorStore, seedBaseImage } from '../../../sandbox/stories/bake-kit';
import { waitUntilHealthy } from '../../../sandbox/stories/fleet';
import {
  provisionRolloutEnvironment,
  recordRelease,
  rolloutManifest,
  seedReleaseImage,
  until,
} from '../../../sandbox/stories/rollout-kit';
import { storySettings } from '../../../sandbox/stories/settings';
import type { Story } from '../../../sandbox/stories/types';

const SETTINGS = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 50,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
  },
  targetGroup: { deregistrationDelaySeconds: 0 },
});

/** A group of 2 on 1.0.0's AMI with Kiln's launch hook, scaled out by one; `recorded` is the environment's release. */
function launchStory(recorded: '1.0.0' | '2.0.0', seen: AuditEntry[]): Story {
  return {
    name: 'launch-verify',
    description: 'launch verification',
    settings: SETTINGS,
    async run(region, options) {
      const aws = region.clientsFor('story:platform-team', 'operator');
      const store = operatorStore(region);
      const base = seedBaseImage(region);
      const images = {
        '1.0.0': seedReleaseImage(region, 'shop', '1.0.0', base),
        '2.0.0': seedReleaseImage(region, 'shop', '2.0.0', base),
      };
      const env = await provisionRolloutEnvironment(region, aws, {
        service: 'shop',
        name: 'production',
        size: 2,
        imageId: images['1.0.0'],
        settings: options.settings,
      });
      await waitUntilHealthy(aws, [env], 1800);
      await store.putServiceManifest(rolloutManifest(region, 'shop', [env], options.settings), {
        actor: 'test',
      });
      await recordRelease(store, region, { service: 'shop', version: recorded, imageId: images[recorded] });
      await store.updateEnvironmentState('shop', 'production', { currentRelease: recorded }, 0);
      await aws.autoScaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: env.groupName,
          LifecycleHookName: 'kiln-verify',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          HeartbeatTimeout: 300,
          DefaultResult: 'ABANDON',
        }),
      );
      await aws.autoScaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 3 }),
      );
      const entry = await until(
        'the launch hook audited',
        async () =>
          (await store.listAudit({ service: 'shop' })).items.find((a) => a.action.startsWith('lifecycle.')),
        { everySeconds: 15, limitSeconds: 1800 },
      );
      seen.push(entry);
      // Stop the group relaunching after an abandoned launch, so the run ends.
      await aws.autoScaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }),
      );
      return { checks: [], figures: {} };
    },
  };
}

describe("Kiln's launch hook in the sandbox", () => {
  it('lets an instance on the release’s AMI into service (CONTINUE)', async () => {
    const seen: AuditEntry[] = [];
    await runSandbox({
      seed: 7,
      fleet: 2,
      scenario: 'launch-verify',
      stories: { 'launch-verify': launchStory('1.0.0', seen) },
    });
    expect(seen).toEqual([
      expect.objectContaining({
        action: 'lifecycle.launch',
        after: expect.objectContaining({ result: 'CONTINUE', outcome: 'completed' }),
      }),
    ]);
  }, 60_000);

  it('abandons an instance on a stale AMI and records the drift', async () => {
    const seen: AuditEntry[] = [];
    await runSandbox({
      seed: 7,
      fleet: 2,
      scenario: 'launch-verify',
      stories: { 'launch-verify': launchStory('2.0.0', seen) },
    });
    expect(seen).toEqual([
      expect.objectContaining({
        action: 'lifecycle.drift',
        reason: expect.stringContaining('drift: the instance runs'),
        after: expect.objectContaining({ result: 'ABANDON', outcome: 'completed' }),
      }),
    ]);
  }, 60_000);
});
