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
import { DescribeScalingActivitiesCommand, PutScalingPolicyCommand } from '@aws-sdk/client-auto-scaling';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { SANDBOX_EPOCH } from '../core/context';
import type { Region } from '../region';
import {
  attachGreen,
  checkGreen,
  checkHealthGate,
  checkWatch,
  createGreen,
  retireBlue,
  switchTraffic,
} from '../../shared/usecases/rollout/blue-green';
import type { RolloutState } from '../../shared/usecases/rollout/deps';
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

/**
 * The scale-during-switch story: a scale-out alarm fires while blue/green moves traffic
 * (aws-samples/aws-codedeploy-samples#80: scaling between "ready" and reroute broke CodeDeploy's
 * blue/green). Blue has a simple scaling policy (+2) invoked by the alarm `web-load-high`; the
 * alarm goes into ALARM during the health gate and stays there. AlarmNotification is suspended on
 * both groups for the switch, so neither changes size under it; once blue is retired, green's copy
 * of the policy (added to the alarm by Kiln) runs, and the parked blue stays at zero.
 */
export const scaleDuringSwitchStory: Story = {
  name: 'scale-during-switch',
  description: storyCatalog['scale-during-switch'],
  settings: blueGreenStory.settings,
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const world = await step('setup', () =>
      blueGreenWorld(region, {
        deploymentId: 'D-STORY-SCALE-DURING-SWITCH',
        size: options.fleet,
        strategy: BLUE_GREEN_STRATEGY,
        targetGroup: options.settings.targetGroup,
      }),
    );
    const aws = world.operator;
    await step('scaling policy', async () => {
      const policy = await aws.autoScaling.send(
        new PutScalingPolicyCommand({
          AutoScalingGroupName: 'web',
          PolicyName: 'load-out',
          PolicyType: 'SimpleScaling',
          AdjustmentType: 'ChangeInCapacity',
          ScalingAdjustment: 2,
          Cooldown: 300,
        }),
      );
      // `ignore`: with no datapoints the alarm keeps the state it is set to.
      await aws.cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: 'web-load-high',
          Namespace: 'Web',
          MetricName: 'Load',
          Statistic: 'Maximum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 100,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'ignore',
          AlarmActions: [policy.PolicyARN ?? ''],
        }),
      );
    });
    const { deps } = world;
    let state: RolloutState = {
      ...world.state,
      env: await step('create green', () => createGreen(world.state, deps)),
    };
    const ready = await step('green ready', () => untilDecided('green', () => checkGreen(state, deps), 20));
    state = { ...state, env: await step('attach green', () => attachGreen(state, deps)) };
    const alarmAt = Date.now();
    await step('load rises', () =>
      aws.cloudWatch.send(
        new SetAlarmStateCommand({
          AlarmName: 'web-load-high',
          StateValue: 'ALARM',
          StateReason: 'load above 100',
        }),
      ),
    );
    options.print('web-load-high in ALARM during the health gate');
    const gate = await step('health gate', () =>
      untilDecided(
        'health gate',
        (previous) => checkHealthGate({ ...state, check: previous ?? ready }, deps),
        15,
      ),
    );
    if (gate.outcome !== 'healthy') {
      return {
        checks: [
          { name: 'traffic moved to green', ok: false, detail: `${gate.outcome}: ${gate.reason ?? ''}` },
        ],
        figures: {},
      };
    }
    state = { ...state, env: await step('switch', () => switchTraffic(state, deps)) };
    const green = state.env?.target.group ?? '';
    await sleep(state.env?.watchSeconds ?? 1);
    const watch = await step('watch', () => untilDecided('watch', () => checkWatch(state, deps), 15));
    const beforeRetire = { blue: await describeGroup(aws, 'web'), green: await describeGroup(aws, green) };
    const retireAt = Date.now();
    await step('retire', () => retireBlue(state, deps));
    // Cooldown 300 s: one scale-out of green in the next four minutes.
    await sleep(240);
    const blue = await describeGroup(aws, 'web');
    const greenGroup = await describeGroup(aws, green);

    // One scaling activity per instance launched, each with the cause: one cause per scale-out.
    const alarmScaled = async (group: string) => {
      const activities =
        (await aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group })))
          .Activities ?? [];
      const byCause = new Map<string, number>();
      for (const activity of activities) {
        const cause = activity.Cause ?? '';
        if (cause.includes('monitor alarm web-load-high'))
          byCause.set(cause, activity.StartTime?.getTime() ?? 0);
      }
      return [...byCause.values()];
    };
    const blueScaled = await alarmScaled('web');
    const greenScaled = await alarmScaled(green);
    const entries = region.engine.timeline.entries;
    const refused = entries.filter(
      (entry) =>
        entry.kind === 'log' &&
        entry.message.includes('web-load-high') &&
        entry.message.includes('AlarmNotification is suspended'),
    );
    const refusedDuringSwitch = refused.filter((entry) => entry.t * 1000 + SANDBOX_EPOCH < retireAt).length;
    const tg = world.fleet.targetGroupArn;
    const greenIds = (greenGroup?.Instances ?? []).map((instance) => instance.InstanceId ?? '');
    const serving = [...targetsAt(entries, tg, Number.POSITIVE_INFINITY)]
      .filter(([, targetState]) => targetState === 'healthy')
      .map(([id]) => id)
      .sort();
    const drain = firstDrain(entries, tg, world.blueIds);
    const atDrain = drain === undefined ? new Map<string, string>() : targetsAt(entries, tg, drain.t);
    const size = options.fleet;
    return {
      checks: [
        {
          name: 'the alarm asked during the switch and neither group changed size',
          ok:
            refusedDuringSwitch > 0 &&
            blueScaled.every((at) => at >= retireAt) &&
            greenScaled.every((at) => at >= retireAt) &&
            beforeRetire.blue?.DesiredCapacity === size &&
            beforeRetire.green?.DesiredCapacity === size,
          detail: `web-load-high in ALARM from ${seconds(alarmAt)} s; ${refusedDuringSwitch} asks refused before the retire at ${seconds(retireAt)} s; desired before the retire: web ${beforeRetire.blue?.DesiredCapacity}, ${green} ${beforeRetire.green?.DesiredCapacity}`,
        },
        {
          name: 'no detach of blue before every green target is healthy',
          ok:
            drain !== undefined &&
            [...(beforeRetire.green?.Instances ?? [])].every(
              (i) => atDrain.get(i.InstanceId ?? '') === 'healthy',
            ),
          detail:
            drain === undefined
              ? 'blue never left the target group'
              : `blue's first target drained at ${drain.t} s`,
        },
        {
          name: 'after the switch the scale-out reaches green, and the retired blue stays at zero',
          ok:
            greenGroup?.DesiredCapacity === Math.min(size + 2, size * 2) &&
            greenScaled.length === 1 &&
            blue?.DesiredCapacity === 0 &&
            (blue.Instances ?? []).length === 0 &&
            blueScaled.length === 0,
          detail: `${green}: desired ${greenGroup?.DesiredCapacity} (${greenScaled.length} alarm scale-out); web: desired ${blue?.DesiredCapacity}, ${blue?.Instances?.length ?? 0} instances`,
        },
        {
          name: 'only green serves, every green instance healthy',
          ok: watch.outcome === 'clear' && serving.join(',') === [...greenIds].sort().join(','),
          detail: `watch ${watch.outcome}; healthy targets: ${serving.join(', ')}; green instances: ${greenIds.join(', ')}`,
        },
      ],
      figures: { 'green group': green, 'green desired after the switch': greenGroup?.DesiredCapacity ?? 0 },
    };
  },
};
