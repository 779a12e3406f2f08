/**
 * The blue/green story (issue 10, item 9): service `web` in one environment rolling blue/green
 * from 1.0.0 to 2.0.0. Blue is the platform team's group behind one target group; Kiln makes green
 * beside it, waits for every green target to be healthy for the health gate's duration, moves
 * traffic, watches, and retires blue at zero.
 *
 * Its rule (DESIGN.md rule 4), read from the timeline rather than from Kiln's own word: no blue
 * target starts draining (blue leaving the target group) before every green target is healthy.
 *
 * Until the rollout's core steps are on main the story drives the blue/green steps itself, in the
 * state machine's order (blue-green-kit.ts); the deploy state machine is not yet what runs them.
 */
import { SANDBOX_EPOCH } from '../core/context';
import type { Region } from '../region';
import { checkWatch, retireBlue } from '../../shared/usecases/rollout/blue-green';
import {
  blueGreenWorld,
  describeGroup,
  firstDrain,
  lastHealthy,
  targetsAt,
  throughSwitch,
  untilDecided,
} from './blue-green-kit';
import { storyCatalog } from './catalog';
import { sleep } from './fleet';
import { storySettings } from './settings';
import { step } from './steps';
import type { Story, StoryOptions, StoryResult } from './types';

/** The story's strategy (a manifest's blue-green section); story settings carry rolling strategies only. */
export const BLUE_GREEN_STRATEGY = {
  healthGate: { healthyForSeconds: 60, timeoutSeconds: 900 },
  bakeTimeSeconds: 120,
  keepOldGroups: 1,
};

const seconds = (ms: number): number => Math.round((ms - SANDBOX_EPOCH) / 1000);

export const blueGreenStory: Story = {
  name: 'blue-green',
  description: storyCatalog['blue-green'],
  // The target group's checks and draining; the strategy is BLUE_GREEN_STRATEGY.
  settings: storySettings({
    strategy: { type: 'rolling' },
    targetGroup: { healthCheckIntervalSeconds: 10, healthyThresholdCount: 3, deregistrationDelaySeconds: 30 },
  }),
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const world = await step('setup', () =>
      blueGreenWorld(region, {
        deploymentId: 'D-STORY-BLUE-GREEN',
        size: options.fleet,
        strategy: BLUE_GREEN_STRATEGY,
        targetGroup: options.settings.targetGroup,
      }),
    );
    options.print(
      `blue web: ${world.blueIds.length} instances of 1.0.0 healthy; rolling to 2.0.0 blue/green`,
    );
    const switched = await step('switch', () => throughSwitch(world));
    if ('failed' in switched) {
      return {
        checks: [
          {
            name: 'traffic moved to green',
            ok: false,
            detail: `${switched.failed.outcome}: ${switched.failed.reason ?? ''}`,
          },
        ],
        figures: {},
      };
    }
    const { state, green } = switched;
    options.print(`traffic moved to ${green}; watching ${state.env?.watchSeconds ?? 0} s`);
    const watch = await step('watch', async () => {
      await sleep(state.env?.watchSeconds ?? 1);
      return untilDecided('watch', () => checkWatch(state, world.deps), 15);
    });
    await step('retire', () => retireBlue(state, world.deps));
    await sleep(60);
    const blue = await describeGroup(world.operator, 'web');
    const greenGroup = await describeGroup(world.operator, green);
    const greenIds = (greenGroup?.Instances ?? []).map((instance) => instance.InstanceId ?? '');

    const entries = region.engine.timeline.entries;
    const tg = world.fleet.targetGroupArn;
    const drain = firstDrain(entries, tg, world.blueIds);
    const atDrain = drain === undefined ? new Map<string, string>() : targetsAt(entries, tg, drain.t);
    const notHealthy = greenIds.filter((id) => atDrain.get(id) !== 'healthy');
    const greenHealthy = drain === undefined ? undefined : lastHealthy(entries, tg, greenIds, drain.t);
    const nowTargets = targetsAt(entries, tg, Number.POSITIVE_INFINITY);
    const serving = [...nowTargets]
      .filter(([, s]) => s === 'healthy')
      .map(([id]) => id)
      .sort();
    const blueTag = blue?.Tags?.find((tag) => tag.Key === 'kiln:role')?.Value;
    return {
      checks: [
        {
          name: 'no detach of blue before every green target is healthy',
          ok: drain !== undefined && greenIds.length === options.fleet && notHealthy.length === 0,
          detail:
            drain === undefined
              ? 'blue never left the target group'
              : `blue's first target drained at ${drain.t} s; green targets then: ${greenIds.map((id) => `${id} ${atDrain.get(id) ?? 'missing'}`).join(', ')}`,
        },
        {
          name: 'the watch ended clear',
          ok: watch.outcome === 'clear',
          detail: `${watch.outcome}${watch.reason ? `: ${watch.reason}` : ''}`,
        },
        {
          name: 'only green serves',
          ok: serving.join(',') === [...greenIds].sort().join(','),
          detail: `healthy targets: ${serving.join(', ')}`,
        },
        {
          name: 'blue retired at zero and kept',
          ok:
            blue?.DesiredCapacity === 0 &&
            blue.MinSize === 0 &&
            (blue.Instances ?? []).length === 0 &&
            blueTag === 'retired',
          detail: `web: desired ${blue?.DesiredCapacity}, min ${blue?.MinSize}, ${blue?.Instances?.length ?? 0} instances, kiln:role=${blueTag}`,
        },
        {
          name: 'green scales freely again, retired blue stays parked',
          ok:
            (greenGroup?.SuspendedProcesses ?? []).length === 0 &&
            (blue?.SuspendedProcesses ?? []).length === 3,
          detail: `suspended on ${green}: [${(greenGroup?.SuspendedProcesses ?? []).map((p) => p.ProcessName).join(', ')}]; on web: [${(blue?.SuspendedProcesses ?? []).map((p) => p.ProcessName).join(', ')}]`,
        },
      ],
      figures: {
        'green group': green,
        'seconds from green all healthy to traffic moved':
          drain !== undefined && greenHealthy !== undefined ? drain.t - greenHealthy : 'n/a',
        'seconds from CreateGreen to traffic moved':
          seconds(switched.switchedAt) - seconds(world.state.env?.startedAt ?? SANDBOX_EPOCH),
      },
    };
  },
};
