/**
 * A chaos run's fault schedule, drawn from its seed: fault rules for the engine (throttling, 5xx,
 * lost, duplicate and delayed events, handler crashes, boot and bake failures) and disturbances the
 * runner schedules on the virtual clock (alarm flaps, a concurrent artifact, a Step Functions
 * execution killed mid-rollout). Pure: the same seed gives the same schedule, on any machine.
 *
 * The draw uses its own generator (mulberry32 on the seed), apart from the region's, so the
 * schedule does not depend on what the region draws and a schedule can be printed before a run.
 * Every fault is bounded in time (from/until within the first FAULT_HORIZON_SECONDS) so the region
 * gets a quiet tail: the invariants judge what Kiln converges to once AWS behaves again.
 */
import { createRng } from '../core/random';
import type { SimRng } from '../core/context';
import { describeFaultRule, type FaultRule } from '../core/faults';

/** Faults strike somewhere in the first two hours of virtual time (the default story's span). */
export const FAULT_HORIZON_SECONDS = 2 * 3600;

export type Disturbance =
  /** An alarm goes to ALARM (SetAlarmState) and back to OK `holdSeconds` later. */
  | { kind: 'alarm-flap'; atSeconds: number; holdSeconds: number; pick: number }
  /** CI publishes another version of every service Kiln knows (a newer artifact mid-rollout). */
  | { kind: 'concurrent-artifact'; atSeconds: number; version: string }
  /** An operator stops a running deploy execution (StopExecution), as if it died mid-rollout. */
  | { kind: 'kill-execution'; atSeconds: number; pick: number };

export interface ChaosSchedule {
  seed: number;
  faults: FaultRule[];
  disturbances: Disturbance[];
}

/** How likely each fault kind is to be in a seed's schedule at all. */
const FAULT_CHANCE = 0.45;
/** How likely each bake failure is (one ends the story before its rollout). */
const BAKE_FAILURE_CHANCE = 0.15;
/** How likely each disturbance is to be in a seed's schedule. */
const DISTURBANCE_CHANCE = 0.35;

function window(rng: SimRng): { from: number; until: number } {
  const from = rng.int(0, FAULT_HORIZON_SECONDS / 2);
  const until = rng.int(from + 600, FAULT_HORIZON_SECONDS);
  return { from, until };
}

function probability(rng: SimRng, low: number, high: number): number {
  // Two decimals keep the printed schedule readable and the rule's text stable.
  return Math.round((low + rng.next() * (high - low)) * 100) / 100;
}

/** The faults and disturbances of one seed. */
export function drawSchedule(seed: number): ChaosSchedule {
  const rng = createRng(seed ^ 0x5eed_c4a0);
  const faults: FaultRule[] = [];
  const maybe = (make: () => FaultRule, chance = FAULT_CHANCE): void => {
    if (rng.next() < chance) faults.push(make());
  };
  maybe(() => ({ kind: 'throttle', probability: probability(rng, 0.02, 0.1), ...window(rng) }));
  maybe(() => ({ kind: 'api-5xx', probability: probability(rng, 0.01, 0.06), ...window(rng) }));
  maybe(() => ({ kind: 'event-loss', probability: probability(rng, 0.05, 0.3), ...window(rng) }));
  maybe(() => ({ kind: 'event-duplicate', probability: probability(rng, 0.1, 0.5), ...window(rng) }));
  maybe(() => ({ kind: 'event-delay', probability: probability(rng, 0.1, 0.5), ...window(rng) }));
  maybe(() => ({ kind: 'handler-crash', probability: probability(rng, 0.05, 0.2), ...window(rng) }));
  maybe(() => ({
    kind: 'instance-boot-failure',
    probability: probability(rng, 0.05, 0.3),
    count: rng.int(1, 3),
    ...window(rng),
  }));
  // A failed bake ends the story early (nothing to roll out): rarer, so most seeds reach the rollout.
  maybe(() => ({ kind: 'create-image-failure', count: 1 }), BAKE_FAILURE_CHANCE);
  maybe(() => ({ kind: 'ssm-command-failure', count: 1 }), BAKE_FAILURE_CHANCE);

  const disturbances: Disturbance[] = [];
  const at = (): number => rng.int(300, FAULT_HORIZON_SECONDS - 600);
  if (rng.next() < DISTURBANCE_CHANCE) {
    disturbances.push({
      kind: 'alarm-flap',
      atSeconds: at(),
      holdSeconds: rng.int(20, 180),
      pick: rng.next(),
    });
  }
  if (rng.next() < DISTURBANCE_CHANCE) {
    disturbances.push({ kind: 'concurrent-artifact', atSeconds: at(), version: `1.9.${rng.int(0, 9)}` });
  }
  if (rng.next() < DISTURBANCE_CHANCE) {
    disturbances.push({ kind: 'kill-execution', atSeconds: at(), pick: rng.next() });
  }
  disturbances.sort((a, b) => a.atSeconds - b.atSeconds);
  return { seed, faults, disturbances };
}

/** One line per fault and disturbance, as a failing seed prints its schedule. */
export function describeSchedule(schedule: ChaosSchedule): string[] {
  const lines = schedule.faults.map((rule) => `fault ${describeFaultRule(rule)}`);
  for (const d of schedule.disturbances) {
    if (d.kind === 'alarm-flap')
      lines.push(`at ${d.atSeconds} s: an alarm flaps to ALARM for ${d.holdSeconds} s`);
    else if (d.kind === 'concurrent-artifact') lines.push(`at ${d.atSeconds} s: CI publishes ${d.version}`);
    else lines.push(`at ${d.atSeconds} s: a running deploy execution is stopped`);
  }
  return lines.length > 0 ? lines : ['no fault, no disturbance'];
}
