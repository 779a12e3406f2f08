/**
 * One chaos run: the story under one seed's fault schedule (sandbox/chaos/schedule.ts), the
 * disturbances scheduled before it starts, and after it — whatever its checks said — the region
 * left to settle (the reconciler runs every minute) and the invariants checked inside the
 * simulation. A thrown error (a Kiln or sandbox bug) is a failure of its own.
 */
import { isFinal } from '../../shared/domain/deployment';
import type { RunRecord } from '../observe/record';
import type { Region } from '../region';
import { runSandbox } from '../run';
import type { SandboxFunctionFactory } from '../functions';
import { sleep } from '../stories/fleet';
import { scheduleDisturbances } from './disturbances';
import { checkHealthyCapacity, checkLifecycle, lifecycleWaits, type Violation } from './fleet-invariants';
import { describeSchedule, drawSchedule } from './schedule';
import {
  checkAudit,
  checkBakeCleanup,
  checkDeployments,
  checkLocks,
  inspectionStore,
  readStore,
} from './store-invariants';
import { RegionWatch } from './watch';

/**
 * Deliberate breakage, to prove the invariants catch what they claim (README "Chaos"):
 * `never-complete-lifecycle` replaces on-lifecycle and the reconciler with functions that do
 * nothing, so every lifecycle action is left to its hook's timeout.
 */
export const SABOTAGES = ['never-complete-lifecycle'] as const;
export type Sabotage = (typeof SABOTAGES)[number];

const doNothing: SandboxFunctionFactory = async () => async () => ({ handled: 'nothing (chaos sabotage)' });

const SABOTAGE_FUNCTIONS: Record<Sabotage, Record<string, SandboxFunctionFactory>> = {
  'never-complete-lifecycle': { onLifecycle: doNothing, reconcile: doNothing },
};

export interface ChaosRunOptions {
  seed: number;
  scenario: string;
  fleet: number;
  sabotage?: Sabotage;
  /** Write the run's timeline (JSON Lines) here, whatever the outcome. */
  timelineFile?: string;
}

export interface ChaosOutcome extends ChaosRunOptions {
  ok: boolean;
  violations: Violation[];
  /** The seed's faults and disturbances, one per line. */
  schedule: string[];
  /** Story checks that failed (the story may fail under faults; chaos judges the invariants). */
  storyChecksFailed: string[];
  faultsStruck: string[];
  virtualSeconds: number;
  /** Virtual seconds the region needed after the story to settle. */
  settleSeconds: number;
  wallMs: number;
}

/** The reconciler's longest grace (5 min) and a few of its one-minute runs. */
const MIN_SETTLE_SECONDS = 10 * 60;
/** Long enough for a bake's timeout (60 min) and an instance refresh's retry hour to run out. */
const MAX_SETTLE_SECONDS = 4 * 3600;
const SETTLE_STEP_SECONDS = 60;

/** Nothing left in flight: every deployment final, no lock, no lifecycle wait, no execution running. */
async function quiet(region: Region, record: RunRecord): Promise<boolean> {
  if (region.stepFunctions.running().length > 0) return false;
  if (lifecycleWaits(record.entries).some((w) => w.end === undefined)) return false;
  const view = await readStore(inspectionStore(region), region.engine.timeline.epochMs);
  return view.services.every(
    (s) => s.deployments.every((d) => isFinal(d.status)) && s.environments.every((e) => e.lock === undefined),
  );
}

async function inspect(
  region: Region,
  record: RunRecord,
  watch: RegionWatch,
): Promise<{ violations: Violation[]; settleSeconds: number }> {
  const startedAt = region.engine.clock.now();
  await sleep(MIN_SETTLE_SECONDS);
  while (
    (region.engine.clock.now() - startedAt) / 1000 < MAX_SETTLE_SECONDS &&
    !(await quiet(region, record))
  ) {
    await sleep(SETTLE_STEP_SECONDS);
  }
  const settleSeconds = Math.round((region.engine.clock.now() - startedAt) / 1000);
  const now = (region.engine.clock.now() - region.engine.timeline.epochMs) / 1000;
  const view = await readStore(inspectionStore(region), region.engine.timeline.epochMs);
  const violations = [
    ...checkLifecycle(record, watch, view.lifecycleAudit, now),
    ...checkHealthyCapacity(record, watch),
    ...(await checkDeployments(region, view, record)),
    ...checkLocks(view),
    ...(await checkAudit(view)),
    ...(await checkBakeCleanup(region, view)),
  ];
  return { violations, settleSeconds };
}

export async function runChaosSeed(options: ChaosRunOptions): Promise<ChaosOutcome> {
  const schedule = drawSchedule(options.seed);
  const wallStart = performance.now();
  let watch: RegionWatch | undefined;
  const base = { ...options, schedule: describeSchedule(schedule) };
  try {
    const result = await runSandbox({
      seed: options.seed,
      fleet: options.fleet,
      scenario: options.scenario,
      functionLogLevel: 'SILENT',
      ...(options.timelineFile === undefined ? {} : { timelineFile: options.timelineFile }),
      region: {
        faults: schedule.faults,
        ...(options.sabotage === undefined ? {} : { functions: SABOTAGE_FUNCTIONS[options.sabotage] }),
      },
      prepare: (region) => {
        watch = new RegionWatch(region);
        scheduleDisturbances(region, schedule.disturbances);
      },
      inspect: (region, record) => {
        if (watch === undefined) throw new Error('chaos: the watch was not installed before the story');
        return inspect(region, record, watch);
      },
    });
    const { violations, settleSeconds } = result.inspection as {
      violations: Violation[];
      settleSeconds: number;
    };
    return {
      ...base,
      ok: violations.length === 0,
      violations,
      storyChecksFailed: result.checks.filter((c) => !c.ok).map((c) => c.name),
      faultsStruck: result.faultsStruck.map((f) => `${f.rule} ×${f.strikes}`),
      virtualSeconds: result.virtualSeconds,
      settleSeconds,
      wallMs: Math.round(performance.now() - wallStart),
    };
  } catch (error) {
    return {
      ...base,
      ok: false,
      violations: [
        {
          invariant: 'run',
          detail: `the run threw (a Kiln or sandbox bug): ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        },
      ],
      storyChecksFailed: [],
      faultsStruck: [],
      virtualSeconds: 0,
      settleSeconds: 0,
      wallMs: Math.round(performance.now() - wallStart),
    };
  }
}
