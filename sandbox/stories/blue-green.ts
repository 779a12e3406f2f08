/**
 * The blue/green stories (issue 10, item 9): service `web`, environment `production` (group
 * `web-production`, the platform team's, tagged for Kiln) rolling blue/green from 1.0.0 through
 * Kiln's deploy state machine: the deployment is started as `kiln deploy` starts it, and the
 * checks read Kiln's records and the timeline, not Kiln's word alone.
 *
 * - `blue-green`: 2.0.0 goes out. Rule (DESIGN.md rule 4): no blue target starts draining (blue
 *   leaving the target group) before every green target is healthy.
 * - `scale-during-switch`: a scale-out alarm fires during the health gate: neither group resizes
 *   under the switch, then the scale-out reaches green only.
 * - `bad-release-blue-green`: 2.0.0 serves 5xx once it has traffic: the rollout alarm stops it
 *   during the watch, blue is restored (scaled back, healthy, reattached before green leaves), and
 *   Kiln's record names blue again.
 */
import { DescribeScalingActivitiesCommand, PutScalingPolicyCommand } from '@aws-sdk/client-auto-scaling';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import type { Deployment } from '../../shared/store';
import { SANDBOX_EPOCH } from '../core/context';
import type { TimedEntry } from '../core/timeline';
import type { Region } from '../region';
import {
  blueGreenService,
  describeGroup,
  enteredState,
  firstDrain,
  lastHealthy,
  targetsAt,
  type BlueGreenService,
} from './blue-green-kit';
import { storyCatalog } from './catalog';
import { sleep } from './fleet';
import { storySettings, type StorySettings } from './settings';
import { step } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

/** Gate 60 s healthy within 15 minutes, a 2-minute watch, one kept group; the target group's checks and draining. */
export const BLUE_GREEN_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'blue-green',
    healthGate: { healthyForSeconds: 60, timeoutSeconds: 900 },
    bakeTimeSeconds: 120,
    keepOldGroups: 1,
  },
  targetGroup: { healthCheckIntervalSeconds: 10, healthyThresholdCount: 3, deregistrationDelaySeconds: 30 },
});

const GREEN_OF: Record<string, string> = { '2.0.0': 'web-production-kiln-2.0.0' };

/** Instances of a group, by id. */
const idsOf = (group: Awaited<ReturnType<typeof describeGroup>>): string[] =>
  (group?.Instances ?? []).map((instance) => instance.InstanceId ?? '');

/** Healthy targets of the target group at the end of the timeline, sorted. */
function servingNow(entries: readonly TimedEntry[], targetGroupArn: string): string[] {
  return [...targetsAt(entries, targetGroupArn, Number.POSITIVE_INFINITY)]
    .filter(([, state]) => state === 'healthy')
    .map(([id]) => id)
    .sort();
}

/** Kiln's record of the deployment and of the environment, against the release and group expected. */
async function recordCheck(
  service: BlueGreenService,
  deployment: Deployment,
  expected: { status: Deployment['status']; release: string; group: string },
): Promise<StoryCheck> {
  const state = await service.store.getEnvironmentState('web', 'production');
  const ok =
    deployment.status === expected.status &&
    state.currentRelease === expected.release &&
    state.activeGroup === expected.group &&
    state.lock === undefined;
  return {
    name: `Kiln records the deployment ${expected.status} and production on ${expected.release} in ${expected.group}`,
    ok,
    detail: `deployment ${deployment.id} ${deployment.status}${deployment.reason ? ` (${deployment.reason})` : ''}; production: ${state.currentRelease ?? 'none'} in ${state.activeGroup ?? '?'}, lock ${state.lock?.holder ?? 'free'}`,
  };
}

/** Rule 4 from the timeline: when blue's first target started draining, every green target was healthy. */
function noEarlyDetach(
  entries: readonly TimedEntry[],
  targetGroupArn: string,
  blueIds: readonly string[],
  greenIds: readonly string[],
  size: number,
): StoryCheck & { drainedAt: number | undefined } {
  const drain = firstDrain(entries, targetGroupArn, blueIds);
  const atDrain =
    drain === undefined ? new Map<string, string>() : targetsAt(entries, targetGroupArn, drain.t);
  const notHealthy = greenIds.filter((id) => atDrain.get(id) !== 'healthy');
  return {
    name: 'no detach of blue before every green target is healthy',
    ok: drain !== undefined && greenIds.length === size && notHealthy.length === 0,
    detail:
      drain === undefined
        ? 'blue never left the target group'
        : `blue's first target drained at ${drain.t} s; green targets then: ${greenIds.map((id) => `${id} ${atDrain.get(id) ?? 'missing'}`).join(', ')}`,
    drainedAt: drain?.t,
  };
}

export const blueGreenStory: Story = {
  name: 'blue-green',
  description: storyCatalog['blue-green'],
  settings: BLUE_GREEN_SETTINGS,
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const service = await step('setup', () =>
      blueGreenService(region, {
        size: options.fleet,
        settings: options.settings,
        releases: ['2.0.0'],
        print: options.print,
        declare: options.declareEnvironment,
      }),
    );
    const deployment = await step('rollout', async () => service.follow((await service.deploy('2.0.0')).id));
    await sleep(60);
    const green = GREEN_OF['2.0.0'] ?? '';
    const { aws, environment } = service;
    const blue = await describeGroup(aws, environment.groupName);
    const greenGroup = await describeGroup(aws, green);
    const greenIds = idsOf(greenGroup);
    const entries = region.engine.timeline.entries;
    const tg = environment.targetGroupArn;
    const rule = noEarlyDetach(entries, tg, service.blueIds, greenIds, options.fleet);
    const greenHealthy =
      rule.drainedAt === undefined ? undefined : lastHealthy(entries, tg, greenIds, rule.drainedAt);
    const serving = servingNow(entries, tg);
    const blueTag = blue?.Tags?.find((tag) => tag.Key === 'kiln:role')?.Value;
    const created = enteredState(entries, 'CreateGreen');
    const switched = enteredState(entries, 'SwitchTraffic');
    const { drainedAt, ...ruleCheck } = rule;
    return {
      checks: [
        await recordCheck(service, deployment, { status: 'succeeded', release: '2.0.0', group: green }),
        ruleCheck,
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
          detail: `${environment.groupName}: desired ${blue?.DesiredCapacity}, min ${blue?.MinSize}, ${blue?.Instances?.length ?? 0} instances, kiln:role=${blueTag}`,
        },
        {
          name: 'green scales freely again, retired blue stays parked',
          ok:
            (greenGroup?.SuspendedProcesses ?? []).length === 0 &&
            (blue?.SuspendedProcesses ?? []).length === 3,
          detail: `suspended on ${green}: [${(greenGroup?.SuspendedProcesses ?? []).map((p) => p.ProcessName).join(', ')}]; on ${environment.groupName}: [${(blue?.SuspendedProcesses ?? []).map((p) => p.ProcessName).join(', ')}]`,
        },
      ],
      figures: {
        'green group': green,
        'seconds from green all healthy to traffic moved':
          drainedAt !== undefined && greenHealthy !== undefined ? drainedAt - greenHealthy : 'n/a',
        'seconds from CreateGreen to traffic moved':
          created !== undefined && switched !== undefined ? switched - created : 'n/a',
      },
    };
  },
};

/**
 * The scale-during-switch story: a scale-out alarm fires while blue/green moves traffic
 * (aws-samples/aws-codedeploy-samples#80: scaling between "ready" and reroute broke CodeDeploy's
 * blue/green). Blue has a simple scaling policy (+2) invoked by the alarm `web-load-high`; the
 * alarm goes into ALARM once Kiln's record says the health gate runs, and stays there.
 * AlarmNotification is suspended on both groups for the switch, so neither changes size under it;
 * once blue is retired, green's copy of the policy (added to the alarm by Kiln) runs, and the
 * parked blue stays at zero.
 */
export const scaleDuringSwitchStory: Story = {
  name: 'scale-during-switch',
  description: storyCatalog['scale-during-switch'],
  settings: BLUE_GREEN_SETTINGS,
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const service = await step('setup', () =>
      blueGreenService(region, {
        size: options.fleet,
        settings: options.settings,
        releases: ['2.0.0'],
        print: options.print,
        declare: options.declareEnvironment,
      }),
    );
    const { aws, environment } = service;
    const blueName = environment.groupName;
    const green = GREEN_OF['2.0.0'] ?? '';
    await step('scaling policy', async () => {
      const policy = await aws.autoScaling.send(
        new PutScalingPolicyCommand({
          AutoScalingGroupName: blueName,
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
    let alarmAt: number | undefined;
    let duringWatch: { blue: number | undefined; green: number | undefined; greenIds: string[] } | undefined;
    const deployment = await step('rollout', async () =>
      service.follow((await service.deploy('2.0.0')).id, async (record) => {
        const phase = record.rollout?.phase;
        if (phase === 'health-gate' && alarmAt === undefined) {
          alarmAt = Date.now();
          await aws.cloudWatch.send(
            new SetAlarmStateCommand({
              AlarmName: 'web-load-high',
              StateValue: 'ALARM',
              StateReason: 'load above 100',
            }),
          );
          options.print('web-load-high in ALARM during the health gate');
        }
        // After the switch, before the retire: both groups' sizes as the switch left them.
        if (phase === 'watching' && duringWatch === undefined) {
          const greenNow = await describeGroup(aws, green);
          duringWatch = {
            blue: (await describeGroup(aws, blueName))?.DesiredCapacity,
            green: greenNow?.DesiredCapacity,
            greenIds: idsOf(greenNow),
          };
        }
      }),
    );
    // Cooldown 300 s: one scale-out of green in the next four minutes.
    await sleep(240);
    const blue = await describeGroup(aws, blueName);
    const greenGroup = await describeGroup(aws, green);
    const entries = region.engine.timeline.entries;
    const retireAt = enteredState(entries, 'RetireBlue') ?? Number.POSITIVE_INFINITY;

    // One scaling activity per instance launched, each with the cause: one cause per scale-out.
    const alarmScaled = async (group: string): Promise<number[]> => {
      const activities =
        (await aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group })))
          .Activities ?? [];
      const byCause = new Map<string, number>();
      for (const activity of activities) {
        const cause = activity.Cause ?? '';
        if (cause.includes('monitor alarm web-load-high'))
          byCause.set(cause, Math.round(((activity.StartTime?.getTime() ?? 0) - SANDBOX_EPOCH) / 1000));
      }
      return [...byCause.values()];
    };
    const blueScaled = await alarmScaled(blueName);
    const greenScaled = await alarmScaled(green);
    const refusedDuringSwitch = entries.filter(
      (entry) =>
        entry.kind === 'log' &&
        entry.message.includes('web-load-high') &&
        entry.message.includes('AlarmNotification is suspended') &&
        entry.t < retireAt,
    ).length;
    const greenIds = idsOf(greenGroup);
    const tg = environment.targetGroupArn;
    const serving = servingNow(entries, tg);
    const size = options.fleet;
    // The rule is about the green targets of the switch (green grows by the scale-out after it).
    const { drainedAt, ...ruleCheck } = noEarlyDetach(
      entries,
      tg,
      service.blueIds,
      duringWatch?.greenIds ?? [],
      size,
    );
    const alarmSeconds = alarmAt === undefined ? undefined : Math.round((alarmAt - SANDBOX_EPOCH) / 1000);
    return {
      checks: [
        await recordCheck(service, deployment, { status: 'succeeded', release: '2.0.0', group: green }),
        {
          name: 'the alarm asked during the switch and neither group changed size',
          ok:
            alarmAt !== undefined &&
            refusedDuringSwitch > 0 &&
            blueScaled.every((at) => at >= retireAt) &&
            greenScaled.every((at) => at >= retireAt) &&
            duringWatch?.blue === size &&
            duringWatch.green === size,
          detail: `web-load-high in ALARM from ${alarmSeconds ?? '?'} s; ${refusedDuringSwitch} asks refused before the retire at ${retireAt} s; desired during the watch: ${blueName} ${duringWatch?.blue}, ${green} ${duringWatch?.green}`,
        },
        ruleCheck,
        {
          name: 'after the switch the scale-out reaches green, and the retired blue stays at zero',
          ok:
            greenGroup?.DesiredCapacity === Math.min(size + 2, size * 2) &&
            greenScaled.length === 1 &&
            blue?.DesiredCapacity === 0 &&
            (blue.Instances ?? []).length === 0 &&
            blueScaled.length === 0,
          detail: `${green}: desired ${greenGroup?.DesiredCapacity} (${greenScaled.length} alarm scale-out); ${blueName}: desired ${blue?.DesiredCapacity}, ${blue?.Instances?.length ?? 0} instances`,
        },
        {
          name: 'only green serves, every green instance healthy',
          ok: serving.join(',') === [...greenIds].sort().join(','),
          detail: `healthy targets: ${serving.join(', ')}; green instances: ${greenIds.join(', ')}`,
        },
      ],
      figures: {
        'green group': green,
        'green desired after the switch': greenGroup?.DesiredCapacity ?? 0,
        'blue drained at (s)': drainedAt ?? 'n/a',
      },
    };
  },
};

/**
 * The blue/green half of `bad-release`: 2.0.0 passes its health checks but serves 5xx once it
 * has traffic. The environment's rollout alarm (`web-production-5xx`) goes off during the watch
 * after the switch (the gate holds for no time); Kiln restores blue (scaled back to its recorded capacity, healthy, reattached)
 * before green leaves the target group, deletes green, and records blue's release as current.
 */
export const badReleaseBlueGreenStory: Story = {
  name: 'bad-release-blue-green',
  description: storyCatalog['bad-release-blue-green'],
  // No hold at the gate: traffic moves as soon as every green target is healthy, before the 5xx
  // alarm has its two bad minutes (with a hold, the alarm stops the release at the gate instead,
  // while blue still serves: test/integration/rollout/blue-green.test.ts).
  settings: {
    ...BLUE_GREEN_SETTINGS,
    strategy: {
      type: 'blue-green',
      healthGate: { healthyForSeconds: 0, timeoutSeconds: 900 },
      bakeTimeSeconds: 300,
      keepOldGroups: 1,
    },
  },
  region: { badVersions: [{ version: '2.0.0', mode: 'errors' }] },
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const service = await step('setup', () =>
      blueGreenService(region, {
        size: options.fleet,
        settings: options.settings,
        releases: ['2.0.0'],
        print: options.print,
        declare: options.declareEnvironment,
      }),
    );
    const before = await service.store.getEnvironmentState('web', 'production');
    const deployment = await step('rollout', async () => service.follow((await service.deploy('2.0.0')).id));
    const { aws, environment } = service;
    const blueName = environment.groupName;
    const green = GREEN_OF['2.0.0'] ?? '';
    const blue = await describeGroup(aws, blueName);
    const greenGroup = await describeGroup(aws, green);
    // Kiln's record after the rollback: blue's before record (release, capacity) current again.
    const recorded = (await service.store.getEnvironmentState('web', 'production')).capacity;
    const entries = region.engine.timeline.entries;
    const tg = environment.targetGroupArn;
    const blueIds = idsOf(blue);
    // The timeline's moves of the groups in and out of the target group, in order.
    const moves = entries.flatMap((entry) =>
      entry.kind === 'api' &&
      entry.ok &&
      entry.caller === 'fn:rolloutSteps' &&
      (entry.operation === 'AttachTrafficSources' || entry.operation === 'DetachTrafficSources')
        ? [{ t: entry.t, operation: entry.operation }]
        : [],
    );
    const greenLeft = moves[3];
    const atGreenLeft =
      greenLeft === undefined ? new Map<string, string>() : targetsAt(entries, tg, greenLeft.t);
    const alarmed = entries.find(
      (entry) =>
        entry.kind === 'state' &&
        entry.resource.endsWith(':alarm:web-production-5xx') &&
        entry.to === 'ALARM',
    );
    const switched = enteredState(entries, 'SwitchTraffic');
    const serving = servingNow(entries, tg);
    return {
      checks: [
        await recordCheck(service, deployment, {
          status: 'rolled-back',
          release: before.currentRelease ?? 'unrecorded',
          group: blueName,
        }),
        {
          name: 'the rollout alarm stopped 2.0.0 during the watch after the switch',
          ok:
            alarmed !== undefined &&
            switched !== undefined &&
            alarmed.t > switched &&
            /web-production-5xx/.test(deployment.reason ?? ''),
          detail: `traffic moved at ${switched ?? '?'} s; web-production-5xx in ALARM at ${alarmed?.t ?? 'never'} s; reason: ${deployment.reason ?? 'none'}`,
        },
        {
          name: 'blue was healthy and attached again before green left',
          ok:
            moves.map((move) => move.operation).join(',') ===
              'AttachTrafficSources,DetachTrafficSources,AttachTrafficSources,DetachTrafficSources' &&
            blueIds.length === options.fleet &&
            blueIds.every((id) => atGreenLeft.get(id) === 'healthy'),
          detail: `moves: ${moves.map((move) => `${move.operation} at ${move.t} s`).join(', ')}; blue targets when green left: ${blueIds.map((id) => `${id} ${atGreenLeft.get(id) ?? 'missing'}`).join(', ')}`,
        },
        {
          name: 'blue serves at its recorded capacity, green is gone',
          ok:
            greenGroup === undefined &&
            blue?.DesiredCapacity === options.fleet &&
            recorded?.desired === options.fleet &&
            serving.join(',') === [...blueIds].sort().join(',') &&
            (blue?.SuspendedProcesses ?? []).length === 0,
          detail: `${blueName}: desired ${blue?.DesiredCapacity} (recorded ${recorded?.desired ?? '?'}), suspended [${(blue?.SuspendedProcesses ?? []).map((p) => p.ProcessName).join(', ')}]; ${green} ${greenGroup === undefined ? 'deleted' : 'still there'}; healthy targets: ${serving.join(', ')}`,
        },
      ],
      figures: {
        'seconds from alarm to blue serving alone':
          alarmed !== undefined && greenLeft !== undefined ? greenLeft.t - alarmed.t : 'n/a',
      },
    };
  },
};
