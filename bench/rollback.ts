/**
 * Blue/green against rolling, in the sandbox on its virtual clock (part of
 * `KILN_BENCH_SECTIONS=rollout`): the same environment and fleet as bench/rollout.ts, rolled by the
 * real deploy state machine and functions.
 *
 * - **Green healthy → traffic moved**: a blue/green rollout to its end; from the timeline, the last
 *   moment a green target became healthy before the first blue target started draining (blue
 *   detached), and that first drain. The health gate (`healthyForSeconds`) and its 15 s poll sit
 *   in between by design.
 * - **Rollback time**, the same fleet both ways, each aborted (`kiln abort`, the real use case) once
 *   the new release serves: rolling once the refresh has passed its 66 % checkpoint (Kiln then calls
 *   RollbackInstanceRefresh, and AWS replaces the new instances with the old version's); blue/green
 *   once traffic moved to green (Kiln restores blue: scales the kept group back to its recorded
 *   capacity, waits until every blue target is healthy, reattaches it, detaches green). Figures:
 *   virtual seconds from the abort until only the previous release serves (rolling: the refresh's
 *   RollbackSuccessful; blue/green: the first green target draining after the abort, which Kiln
 *   starts only once blue is healthy), and until the deployment is recorded rolled back (the
 *   execution's end).
 */
import { DescribeInstanceRefreshesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SfnTasks } from '../shared/aws/sfn';
import { abortDeployment } from '../shared/usecases/deployments/abort';
import { SANDBOX_EPOCH } from '../sandbox/core/context';
import type { TimedEntry } from '../sandbox/core/timeline';
import { createRegion } from '../sandbox/region';
import { executionEnd, until } from '../sandbox/stories/rollout-kit';
import { renderTable } from './paired';
import type { Headline, SectionResult } from './results';
import {
  prepareRollout,
  startBenchRollout,
  type BlueGreenStrategyInput,
  type PreparedRollout,
  type StrategySpec,
} from './rollout';

export type Strategy = 'rolling' | 'blue-green';

/** Blue/green as the manifest writes it: the default health gate (60 s healthy) and watch (300 s). */
export const BLUE_GREEN: BlueGreenStrategyInput = {
  type: 'blue-green',
  healthGate: { healthyForSeconds: 60 },
  bakeTimeSeconds: 300,
  keepOldGroups: 1,
};
/** Where a rolling rollout is aborted: its refresh past this share (the 66 % checkpoint). */
export const ROLLING_ABORT_AT = 66;

/** Target states in one target group from the timeline, by instance id (entries `${tg}/${id}`). */
function targetEntries(entries: readonly TimedEntry[], targetGroupArn: string) {
  const prefix = `${targetGroupArn}/`;
  return entries.flatMap((entry) =>
    entry.kind === 'state' && entry.resource.startsWith(prefix)
      ? [{ t: entry.t, id: entry.resource.slice(prefix.length), to: String(entry.to) }]
      : [],
  );
}

/**
 * From the timeline: the first blue target draining (traffic moved off blue) and the last green
 * target becoming healthy before it. Blue = the targets registered before `since`.
 */
export function greenHealthyToSwitch(
  entries: readonly TimedEntry[],
  targetGroupArn: string,
  blue: ReadonlySet<string>,
): { greenHealthy: number; moved: number } | undefined {
  const targets = targetEntries(entries, targetGroupArn);
  const moved = targets.find((e) => e.to === 'draining' && blue.has(e.id))?.t;
  if (moved === undefined) return undefined;
  let greenHealthy: number | undefined;
  for (const e of targets) {
    if (e.t > moved) break;
    if (e.to === 'healthy' && !blue.has(e.id)) greenHealthy = e.t;
  }
  return greenHealthy === undefined ? undefined : { greenHealthy, moved };
}

async function healthyTargetIds(prepared: PreparedRollout): Promise<Set<string>> {
  const health = await prepared.aws.elbv2.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: prepared.environment.targetGroupArn }),
  );
  return new Set(
    (health.TargetHealthDescriptions ?? []).flatMap((d) =>
      d.TargetHealth?.State === 'healthy' && d.Target?.Id ? [d.Target.Id] : [],
    ),
  );
}

export interface SwitchFigures {
  status: string;
  deploymentStatus: string;
  /** Virtual seconds from the last green target healthy to the first blue target draining. */
  seconds: number;
}

/** A blue/green rollout of `fleet` instances to its end; the seconds from green healthy to the switch. */
export async function measureSwitch(options: { seed: number; fleet: number }): Promise<SwitchFigures> {
  const region = await createRegion({ seed: options.seed });
  try {
    const prepared = await prepareRollout(region, { fleet: options.fleet, strategy: BLUE_GREEN });
    return await region.engine.run(async () => {
      const blue = await healthyTargetIds(prepared);
      const arn = await startBenchRollout(region, prepared, 'bench-blue-green');
      const execution = await executionEnd(prepared.aws, arn);
      const deployment = await prepared.store.getDeployment('bench-blue-green');
      const moved = greenHealthyToSwitch(
        region.engine.timeline.entries,
        prepared.environment.targetGroupArn,
        blue,
      );
      return {
        status: execution.status ?? '',
        deploymentStatus: deployment?.status ?? 'missing',
        seconds: moved ? moved.moved - moved.greenHealthy : Number.NaN,
      };
    });
  } finally {
    await region.dispose();
  }
}

export interface RollbackFigures {
  strategy: Strategy;
  status: string;
  deploymentStatus: string;
  /** Virtual seconds from the abort until only the previous release serves. */
  restoredSeconds: number;
  /** Virtual seconds from the abort until the execution ended (the deployment recorded rolled back). */
  recordedSeconds: number;
}

/** The refresh's share done, as Auto Scaling reports it (undefined: no refresh yet). */
async function refreshPercentage(prepared: PreparedRollout): Promise<number | undefined> {
  const { InstanceRefreshes = [] } = await prepared.aws.autoScaling.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: prepared.environment.groupName }),
  );
  return InstanceRefreshes[0]?.PercentageComplete;
}

/** When only the previous release serves again, from the timeline after `from` (virtual s). */
function restoredAt(
  strategy: Strategy,
  entries: readonly TimedEntry[],
  prepared: PreparedRollout,
  blue: ReadonlySet<string>,
  from: number,
): number | undefined {
  if (strategy === 'rolling') {
    return entries.find(
      (e) =>
        e.t >= from &&
        e.kind === 'state' &&
        e.resource.startsWith(`instance-refresh:${prepared.environment.groupName}/`) &&
        e.to === 'RollbackSuccessful',
    )?.t;
  }
  return targetEntries(entries, prepared.environment.targetGroupArn).find(
    (e) => e.t >= from && e.to === 'draining' && !blue.has(e.id),
  )?.t;
}

/** Rolls `strategy` out to `fleet` instances, aborts once the new release serves, and times the rollback. */
export async function measureRollback(options: {
  seed: number;
  fleet: number;
  strategy: Strategy;
}): Promise<RollbackFigures> {
  const region = await createRegion({ seed: options.seed });
  const strategy: StrategySpec | undefined = options.strategy === 'blue-green' ? BLUE_GREEN : undefined;
  try {
    const prepared = await prepareRollout(region, {
      fleet: options.fleet,
      ...(strategy === undefined ? {} : { strategy }),
    });
    const id = `bench-rollback-${options.strategy}`;
    return await region.engine.run(async () => {
      const blue = await healthyTargetIds(prepared);
      const arn = await startBenchRollout(region, prepared, id);
      const reached = await until(
        options.strategy === 'rolling' ? `the refresh past ${ROLLING_ABORT_AT} %` : 'traffic moved to green',
        async () => {
          const ended = region.engine.timeline.entries.some(
            (e) => e.kind === 'state' && e.resource === arn && e.to !== 'RUNNING',
          );
          if (ended) return 'ended' as const;
          if (options.strategy === 'rolling') {
            const done = await refreshPercentage(prepared);
            return done !== undefined && done >= ROLLING_ABORT_AT ? ('reached' as const) : undefined;
          }
          const moved = greenHealthyToSwitch(
            region.engine.timeline.entries,
            prepared.environment.targetGroupArn,
            blue,
          );
          return moved ? ('reached' as const) : undefined;
        },
        { everySeconds: 5 },
      );
      if (reached === 'ended') {
        // The rollout ended before the new release served: nothing to roll back by an abort.
        const execution = await executionEnd(prepared.aws, arn);
        const deployment = await prepared.store.getDeployment(id);
        return {
          strategy: options.strategy,
          status: execution.status ?? '',
          deploymentStatus: deployment?.status ?? 'missing',
          restoredSeconds: Number.NaN,
          recordedSeconds: Number.NaN,
        };
      }
      // Timeline time: virtual seconds since the sandbox's epoch.
      const from = (Date.now() - SANDBOX_EPOCH) / 1000;
      await abortDeployment(
        { deploymentId: id, actor: 'bench', reason: 'rollback time' },
        { store: prepared.store, tasks: new SfnTasks(prepared.aws.sfn), now: () => Date.now() },
      );
      const execution = await executionEnd(prepared.aws, arn);
      // executionEnd polls every 60 s: the execution's own end is on the timeline.
      const endedAt = region.engine.timeline.entries.find(
        (e) => e.kind === 'state' && e.resource === arn && e.to !== 'RUNNING',
      )?.t;
      const deployment = await prepared.store.getDeployment(id);
      const restored = restoredAt(options.strategy, region.engine.timeline.entries, prepared, blue, from);
      return {
        strategy: options.strategy,
        status: execution.status ?? '',
        deploymentStatus: deployment?.status ?? 'missing',
        restoredSeconds: restored === undefined ? Number.NaN : restored - from,
        recordedSeconds: endedAt === undefined ? Number.NaN : endedAt - from,
      };
    });
  } finally {
    await region.dispose();
  }
}

export interface BlueGreenData {
  fleets: Array<{
    fleet: number;
    moved: SwitchFigures;
    rolling: RollbackFigures;
    blueGreen: RollbackFigures;
  }>;
}

export async function blueGreenTable(
  seed: number,
  fleets: readonly number[],
): Promise<SectionResult<BlueGreenData>> {
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  try {
    const lines: string[][] = [];
    const notes: string[] = [];
    const measured: BlueGreenData['fleets'] = [];
    const s = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '-');
    const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '-');
    for (const fleet of fleets) {
      const moved = await measureSwitch({ seed, fleet });
      const rolling = await measureRollback({ seed, fleet, strategy: 'rolling' });
      const blueGreen = await measureRollback({ seed, fleet, strategy: 'blue-green' });
      measured.push({ fleet, moved, rolling, blueGreen });
      if (moved.status !== 'SUCCEEDED' || moved.deploymentStatus !== 'succeeded') {
        notes.push(
          `${fleet} instances, blue/green rollout: the execution ended ${moved.status}, the deployment ${moved.deploymentStatus}`,
        );
      }
      for (const run of [rolling, blueGreen]) {
        if (run.deploymentStatus !== 'rolled-back') {
          notes.push(
            `${fleet} instances, ${run.strategy} rollback: the execution ended ${run.status}, the deployment ${run.deploymentStatus}`,
          );
        }
      }
      lines.push(
        [`${fleet} inst: green healthy → traffic moved (s)`, '-', s(moved.seconds), '-'],
        [
          `${fleet} inst: rollback, abort → previous release alone serves (s)`,
          s(rolling.restoredSeconds),
          s(blueGreen.restoredSeconds),
          ratio(blueGreen.restoredSeconds, rolling.restoredSeconds),
        ],
        [
          `${fleet} inst: rollback, abort → deployment recorded rolled back (s)`,
          s(rolling.recordedSeconds),
          s(blueGreen.recordedSeconds),
          ratio(blueGreen.recordedSeconds, rolling.recordedSeconds),
        ],
      );
    }
    const text = [
      `blue/green vs rolling in the sandbox (seed ${seed}; health gate 60 s, watch 300 s; virtual seconds): ` +
        `green healthy → traffic moved, and the rollback after \`kiln abort\` once the new release serves ` +
        `(rolling: refresh past ${ROLLING_ABORT_AT} %, RollbackInstanceRefresh; blue/green: during the watch, ` +
        'blue restored); ratio = blue/green / rolling',
      renderTable(['metric', 'rolling', 'blue/green', 'ratio'], lines),
      ...notes,
    ].join('\n');
    const last = measured[measured.length - 1];
    const headlines: Headline[] =
      last === undefined
        ? []
        : [
            {
              figure: `blue/green, ${last.fleet} instances: green healthy → traffic moved`,
              value: `${s(last.moved.seconds)} s`,
            },
            {
              figure: `${last.fleet} instances: rollback until the previous release alone serves (rolling / blue/green)`,
              value: `${s(last.rolling.restoredSeconds)} s / ${s(last.blueGreen.restoredSeconds)} s`,
            },
          ];
    return { text, headlines, data: { fleets: measured } };
  } finally {
    if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  }
}
