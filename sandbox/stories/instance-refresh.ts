/**
 * The instance-refresh story: one Auto Scaling group of N instances behind a target group rolls
 * to a new launch template version with checkpoints at 25/50/100 %, MinHealthyPercentage 90 and
 * InstanceWarmup 60 s — the figure the sandbox is measured by (bench/).
 *
 * The checks hold the simulation to the rules in the Auto Scaling user guide, computed here
 * independently of the simulator:
 * - a batch replaces at most (100 − MinHealthy) % of the group, at least one instance
 *   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html);
 * - with checkpoints, a batch may be smaller so that the refresh lands exactly on each checkpoint
 *   ("will sometimes replace fewer but never more")
 *   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html);
 * - the refresh pauses CheckpointDelay (default 3600 s) at every checkpoint but the last;
 * - the group never drops below MinHealthy % of its capacity InService.
 */
import { DescribeInstanceRefreshesCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import type { Region } from '../region';
import { provisionFleet, REFRESH_IN_MOTION, refreshOutcome, sleep, waitUntilHealthy } from './fleet';
import { storyCatalog } from './catalog';
import type { Story, StoryOptions, StoryResult } from './types';

export const REFRESH_PREFERENCES = {
  checkpoints: [25, 50, 100],
  minHealthyPercentage: 90,
  instanceWarmupSeconds: 60,
  /** AWS's default CheckpointDelay. */
  checkpointDelaySeconds: 3600,
} as const;

/** The batch sizes the documented rules give for `capacity` instances. */
export function expectedBatches(
  capacity: number,
  minHealthy: number,
  checkpoints: readonly number[],
): number[] {
  const maxBatch = Math.max(1, Math.floor((capacity * (100 - minHealthy)) / 100));
  const batches: number[] = [];
  let replaced = 0;
  for (const checkpoint of checkpoints) {
    const target = Math.ceil((capacity * checkpoint) / 100);
    while (replaced < target) {
      const size = Math.min(maxBatch, target - replaced);
      batches.push(size);
      replaced += size;
    }
  }
  return batches;
}

export interface RefreshMeasurement {
  refreshId: string;
  status: string;
  /** Why the refresh ended as it did (AWS's StatusReason), e.g. why it failed. */
  statusReason: string;
  batches: number[];
  /** Virtual seconds from StartInstanceRefresh to a terminal status. */
  refreshSeconds: number;
  /** Gaps between batches (virtual seconds), in order. */
  gaps: number[];
  /** The fewest healthy targets seen (sampled every 5 virtual seconds). */
  minHealthy: number;
  wallMs: number;
}

/** Builds the group, waits for it to be healthy, then runs and measures the refresh. */
export async function runMeasuredRefresh(region: Region, fleet: number, print: (line: string) => void) {
  const aws = region.clientsFor('story:refresh');
  const ami = (version: string) =>
    region.ec2.seedImage({ name: `kiln-web-${version}`, tags: { 'kiln:version': version } });
  // 1.1.0 is the release `--bad-version 1.1.0:…` makes misbehave, as in the default story.
  const [v1, v2] = [ami('1.0.0'), ami('1.1.0')];
  const web = await provisionFleet(region, aws, {
    name: 'web',
    size: fleet,
    imageId: v1,
    instanceType: 'm7g.large',
  });
  const { launchTemplateId, targetGroupArn } = web;
  await waitUntilHealthy(aws, [web]);
  print(`web: ${fleet} instances healthy; refreshing to launch template version 2`);
  await aws.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: launchTemplateId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: v2 },
    }),
  );

  // Watch the group from inside the simulation (no API calls, so watching does not change the
  // timeline): launches of new instances, and every 5 s how many targets serve healthy.
  const launchTimes: number[] = [];
  region.ec2.onStateChange((instance, from, to) => {
    if (from === null && to === 'pending' && instance.imageId === v2)
      launchTimes.push(region.engine.clock.now());
  });
  let minHealthy = fleet;
  let watching = true;
  const clock = region.engine.context.clock;
  const sample = (): void => {
    if (!watching) return;
    const healthy = region.ec2
      .listInstances()
      .filter((i) => i.tags['aws:autoscaling:groupName'] === 'web')
      .filter((i) => region.elbv2.health(targetGroupArn, i.instanceId) === 'healthy').length;
    minHealthy = Math.min(minHealthy, healthy);
    clock.setTimeout(sample, 5000);
  };
  sample();

  const wallStart = performance.now();
  const started = region.engine.clock.now();
  const { InstanceRefreshId } = await aws.autoScaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '2' } },
      Preferences: {
        MinHealthyPercentage: REFRESH_PREFERENCES.minHealthyPercentage,
        InstanceWarmup: REFRESH_PREFERENCES.instanceWarmupSeconds,
        CheckpointPercentages: [...REFRESH_PREFERENCES.checkpoints],
      },
    }),
  );
  let status = 'Pending';
  let statusReason = '';
  for (;;) {
    await sleep(60);
    const out = await aws.autoScaling.send(
      new DescribeInstanceRefreshesCommand({
        AutoScalingGroupName: 'web',
        InstanceRefreshIds: [InstanceRefreshId ?? ''],
      }),
    );
    status = out.InstanceRefreshes?.[0]?.Status ?? 'unknown';
    statusReason = out.InstanceRefreshes?.[0]?.StatusReason ?? '';
    if (!REFRESH_IN_MOTION.includes(status)) break;
  }
  const wallMs = performance.now() - wallStart;
  watching = false;
  const refreshSeconds = (region.engine.clock.now() - started) / 1000;

  // Instances launched at the same virtual instant form one batch.
  const batches: number[] = [];
  const batchStarts: number[] = [];
  for (const t of launchTimes) {
    if (batchStarts[batchStarts.length - 1] === t) batches[batches.length - 1]! += 1;
    else {
      batchStarts.push(t);
      batches.push(1);
    }
  }
  const gaps = batchStarts.slice(1).map((t, i) => (t - (batchStarts[i] ?? t)) / 1000);
  return {
    refreshId: InstanceRefreshId ?? '',
    status,
    statusReason,
    batches,
    refreshSeconds,
    gaps,
    minHealthy,
    wallMs,
  } satisfies RefreshMeasurement;
}

export const instanceRefreshStory: Story = {
  name: 'instance-refresh',
  description: storyCatalog['instance-refresh'],
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const m = await runMeasuredRefresh(region, options.fleet, options.print);
    const { checkpoints, minHealthyPercentage, checkpointDelaySeconds } = REFRESH_PREFERENCES;
    const expected = expectedBatches(options.fleet, minHealthyPercentage, checkpoints);
    const pauses = m.gaps.filter((gap) => gap >= checkpointDelaySeconds).length;
    const floor = Math.ceil((options.fleet * minHealthyPercentage) / 100);
    return {
      checks: [
        {
          name: 'refresh succeeded',
          ok: m.status === 'Successful',
          detail: refreshOutcome(m.refreshId, m.status, m.statusReason),
        },
        {
          name: 'batch sizes follow the documented rules',
          ok: JSON.stringify(m.batches) === JSON.stringify(expected),
          detail: `got [${m.batches.join(',')}], rules give [${expected.join(',')}]`,
        },
        {
          name: 'paused CheckpointDelay at each checkpoint before the last',
          ok: pauses === checkpoints.length - 1,
          detail: `${pauses} pause(s) of ≥ ${checkpointDelaySeconds} s`,
        },
        {
          name: `never fewer than ${minHealthyPercentage} % healthy`,
          ok: m.minHealthy >= floor,
          detail: `lowest ${m.minHealthy}/${options.fleet} (floor ${floor})`,
        },
      ],
      figures: {
        'refresh (virtual s)': Math.round(m.refreshSeconds),
        'refresh (wall ms)': Math.round(m.wallMs),
        'virtual:wall': Math.round((m.refreshSeconds * 1000) / m.wallMs),
      },
    };
  },
};
