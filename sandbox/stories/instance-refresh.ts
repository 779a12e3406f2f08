/**
 * The instance-refresh story: one Auto Scaling group of N instances behind a target group rolls
 * to a new launch template version. By default with checkpoints at 25/50/100 %, MinHealthy 90 %
 * (MaxHealthy 100 %, sent as Kiln sends it) and InstanceWarmup 60 s — the figure the sandbox is
 * measured by (bench/); `settings` (stories/settings.ts) runs it with others.
 *
 * The checks hold the simulation to the rules in the Auto Scaling documentation, computed here
 * independently of the simulator:
 * - at least MinHealthy % of the group, rounded up, stays healthy, and at most MaxHealthy %
 *   (rounded down: AWS documents no rounding for it) runs, so a batch replaces what lies between
 *   the two, at least one instance: when nothing lies between them the group launches one before
 *   it terminates one, so the minimum still holds (that takes an explicit MaxHealthyPercentage,
 *   which the story always sends; omitted, AWS terminates and relaunches together)
 *   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html,
 *   https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html);
 * - with checkpoints, a batch may be smaller so that the refresh lands exactly on each checkpoint
 *   ("will sometimes replace fewer but never more")
 *   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html);
 * - the refresh pauses CheckpointDelay (default 3600 s) at each checkpoint reached before the
 *   last, reporting only the highest one a batch carries it past (same page);
 * - the group never drops below MinHealthy % (rounded up) of its capacity healthy.
 */
import type { EnvironmentDeclaration } from '../observe/record';
import { DescribeInstanceRefreshesCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import { SANDBOX_EPOCH } from '../core/context';
import type { Region } from '../region';
import { provisionFleet, REFRESH_IN_MOTION, refreshOutcome, sleep, waitUntilHealthy } from './fleet';
import { storyCatalog } from './catalog';
import {
  DEFAULT_CHECKPOINT_DELAY_SECONDS,
  describeStrategy,
  rollingStrategy,
  refreshPreferences,
  storySettings,
  type StorySettings,
} from './settings';
import { step, StoryDeadlineError } from './steps';
import type { Story, StoryOptions, StoryResult } from './types';

/** The story's own settings: what the bench measures and `kiln sandbox --scenario instance-refresh` runs. */
export const INSTANCE_REFRESH_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 90,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
    checkpoints: [25, 50, 100],
  },
});

/** The part of a rolling strategy the batch rules read. */
export interface BatchRules {
  minHealthyPercentage: number;
  maxHealthyPercentage: number;
  checkpoints?: readonly number[] | undefined;
}

/** The batch sizes the documented rules give for `capacity` instances. */
export function expectedBatches(capacity: number, rules: BatchRules): number[] {
  const keepHealthy = Math.ceil((capacity * rules.minHealthyPercentage) / 100);
  const mayRun = Math.floor((capacity * rules.maxHealthyPercentage) / 100);
  const perBatch = Math.max(1, mayRun - keepHealthy);
  const batches: number[] = [];
  let replaced = 0;
  for (const checkpoint of rules.checkpoints ?? [100]) {
    const target = Math.ceil((capacity * checkpoint) / 100);
    while (replaced < target) {
      const size = Math.min(perBatch, target - replaced);
      batches.push(size);
      replaced += size;
    }
  }
  return batches;
}

/**
 * After which batches (0-based) the refresh pauses: those that reach a checkpoint while another,
 * higher one is still ahead (the last checkpoint ends the refresh instead).
 */
export function expectedPauses(capacity: number, rules: BatchRules): number[] {
  const targets = (rules.checkpoints ?? [100]).map((checkpoint) => Math.ceil((capacity * checkpoint) / 100));
  const final = targets[targets.length - 1] ?? capacity;
  const pauses: number[] = [];
  let replaced = 0;
  expectedBatches(capacity, rules).forEach((size, index) => {
    const before = replaced;
    replaced += size;
    if (replaced < final && targets.some((target) => target > before && target <= replaced))
      pauses.push(index);
  });
  return pauses;
}

const CHECKPOINT_REACHED = 'EC2 Auto Scaling Instance Refresh Checkpoint Reached';

/** How long the story follows the refresh before calling it stuck (its two hour-long checkpoint pauses fit). */
export const REFRESH_DEADLINE_SECONDS = 12 * 3600;

export interface RefreshMeasurement {
  refreshId: string;
  status: string;
  /** Why the refresh ended as it did (AWS's StatusReason), e.g. why it failed. */
  statusReason: string;
  batches: number[];
  /** Virtual time (ms) each batch's launches began. */
  batchStarts: number[];
  /** Virtual time (ms) of each "Checkpoint Reached" event. */
  checkpointsReached: number[];
  /** Virtual seconds from StartInstanceRefresh to a terminal status. */
  refreshSeconds: number;
  /** Gaps between batches (virtual seconds), in order. */
  gaps: number[];
  /** The fewest healthy targets seen (sampled every 5 virtual seconds). */
  minHealthy: number;
  wallMs: number;
}

/** Builds the group, waits for it to be healthy, then runs and measures the refresh. */
export async function runMeasuredRefresh(
  region: Region,
  fleet: number,
  print: (line: string) => void,
  settings: StorySettings = INSTANCE_REFRESH_SETTINGS,
  declare?: (environment: EnvironmentDeclaration) => void,
) {
  const aws = region.clientsFor('story:refresh', 'operator');
  const ami = (version: string) =>
    region.ec2.seedImage({ name: `kiln-web-${version}`, tags: { 'kiln:version': version } });
  // 1.1.0 is the release `--bad-version 1.1.0:…` makes misbehave, as in the default story.
  const [v1, v2] = [ami('1.0.0'), ami('1.1.0')];
  const web = await step('setup', () =>
    provisionFleet(region, aws, {
      name: 'web',
      size: fleet,
      imageId: v1,
      instanceType: 'm7g.large',
      targetGroup: settings.targetGroup,
    }),
  );
  const { launchTemplateId, targetGroupArn } = web;
  // Not Kiln's fleet (no alarm, no manifest): declared so the report draws the refresh.
  declare?.({
    service: 'web',
    environment: 'web',
    groups: [web.groupName],
    targetGroupArns: [targetGroupArn],
    alarmNames: [],
    minHealthyPercentage: rollingStrategy(settings).minHealthyPercentage,
  });
  await step('fleet healthy', () => waitUntilHealthy(aws, [web]));
  print(
    `web: ${fleet} instances healthy; refreshing to launch template version 2 (${describeStrategy(rollingStrategy(settings))})`,
  );
  await step('launch template version', () =>
    aws.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: launchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: v2 },
      }),
    ),
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
  // The count is read again only when the fleet or the target group has changed since.
  let healthy = 0;
  let seenInstances: number | undefined;
  let seenTargets: number | undefined;
  const sample = (): void => {
    if (!watching) return;
    const instancesVersion = region.ec2.instancesVersion();
    const targetsVersion = region.elbv2.targetsVersion(targetGroupArn);
    if (instancesVersion !== seenInstances || targetsVersion !== seenTargets) {
      healthy = region.ec2
        .idsTagged('aws:autoscaling:groupName', 'web')
        .filter((id) => region.elbv2.health(targetGroupArn, id) === 'healthy').length;
      seenInstances = instancesVersion;
      seenTargets = targetsVersion;
    }
    minHealthy = Math.min(minHealthy, healthy);
    // Reading and counting only: the scheduler need not wait for quiet after it.
    clock.setTimeout(sample, 5000, { synchronous: true });
  };
  sample();

  const wallStart = performance.now();
  const started = region.engine.clock.now();
  const outcome = await step('refresh', async () => {
    const { InstanceRefreshId } = await aws.autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: 'web',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '2' } },
        Preferences: refreshPreferences(rollingStrategy(settings)),
      }),
    );
    for (;;) {
      await sleep(60);
      const out = await aws.autoScaling.send(
        new DescribeInstanceRefreshesCommand({
          AutoScalingGroupName: 'web',
          InstanceRefreshIds: [InstanceRefreshId ?? ''],
        }),
      );
      const current = out.InstanceRefreshes?.[0]?.Status ?? 'unknown';
      if (!REFRESH_IN_MOTION.includes(current)) {
        const statusReason = out.InstanceRefreshes?.[0]?.StatusReason ?? '';
        return { refreshId: InstanceRefreshId ?? '', status: current, statusReason };
      }
      if (region.engine.clock.now() - started > REFRESH_DEADLINE_SECONDS * 1000) {
        throw new StoryDeadlineError(
          `refresh ${InstanceRefreshId ?? '?'} still ${current} after ${REFRESH_DEADLINE_SECONDS} s`,
        );
      }
    }
  }).finally(() => {
    watching = false;
  });
  const wallMs = performance.now() - wallStart;
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
  // Auto Scaling's events are on the timeline (delivered or not); the story reads when they came.
  const checkpointsReached = region.engine.timeline.entries
    .filter((e) => e.kind === 'event' && e.detailType === CHECKPOINT_REACHED)
    .map((e) => SANDBOX_EPOCH + e.t * 1000)
    .filter((t) => t >= started);
  return {
    refreshId: outcome.refreshId,
    status: outcome.status,
    statusReason: outcome.statusReason,
    batches,
    batchStarts,
    checkpointsReached,
    refreshSeconds,
    gaps,
    minHealthy,
    wallMs,
  } satisfies RefreshMeasurement;
}

export const instanceRefreshStory: Story = {
  name: 'instance-refresh',
  description: storyCatalog['instance-refresh'],
  settings: INSTANCE_REFRESH_SETTINGS,
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const strategy = rollingStrategy(options.settings);
    const m = await runMeasuredRefresh(
      region,
      options.fleet,
      options.print,
      options.settings,
      options.declareEnvironment,
    );
    const expected = expectedBatches(options.fleet, strategy);
    const pausesDue = expectedPauses(options.fleet, strategy);
    const delay = strategy.checkpointDelaySeconds ?? DEFAULT_CHECKPOINT_DELAY_SECONDS;
    // Each pause: the checkpoint is reported after the batch that reached it began, and the next
    // batch waits CheckpointDelay after the report.
    const waits = pausesDue.map((after, k) => {
      const reached = m.checkpointsReached[k];
      const began = m.batchStarts[after];
      const next = m.batchStarts[after + 1];
      if (reached === undefined || began === undefined || next === undefined || reached < began) return -1;
      return (next - reached) / 1000;
    });
    const paused = m.checkpointsReached.length === pausesDue.length && waits.every((wait) => wait >= delay);
    const floor = Math.ceil((options.fleet * strategy.minHealthyPercentage) / 100);
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
          ok: paused,
          detail: `${m.checkpointsReached.length} checkpoint(s) reported, rules give ${pausesDue.length}; next batch after ${waits.length > 0 ? waits.join(', ') : '-'} s (CheckpointDelay ${delay} s)`,
        },
        {
          name: `never fewer than ${strategy.minHealthyPercentage} % healthy`,
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
