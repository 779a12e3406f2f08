/**
 * Blue/green (issue 10, item 3): the steps from `CreateGreen` to `RetireBlue` in
 * statemachines/deploy.asl.json, and the blue/green half of the rollback. Contract:
 * shared/usecases/rollout/deps.ts.
 *
 * CONTRACT STUBS: the blue/green helper replaces every body here.
 */
import type { CheckOutcome, EnvironmentRun, RolloutDeps, RolloutState } from './deps';

const notYet = (name: string): never => {
  throw new Error(`${name}: blue/green is not implemented yet`);
};

/** `create-green` → `$.env` */
export async function createGreen(_state: RolloutState, _deps: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('create-green');
}
/** `check-green` → `$.check` (`ready` | `waiting` | `failed` | `abort`) */
export async function checkGreen(_state: RolloutState, _deps: RolloutDeps): Promise<CheckOutcome> {
  return notYet('check-green');
}
/** `attach-green` → `$.env` */
export async function attachGreen(_state: RolloutState, _deps: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('attach-green');
}
/** `check-health-gate` → `$.check` (`healthy` | `waiting` | `failed` | `abort`) */
export async function checkHealthGate(_state: RolloutState, _deps: RolloutDeps): Promise<CheckOutcome> {
  return notYet('check-health-gate');
}
/** `switch-traffic` → `$.env` (sets `switchedAt`, `watchSeconds`) */
export async function switchTraffic(_state: RolloutState, _deps: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('switch-traffic');
}
/** `watch-alarms` (a callback wait): stores the token (waitKind `alarm`, tokenKeys.watch). */
export async function watchAlarms(
  _state: RolloutState,
  _taskToken: string,
  _deps: RolloutDeps,
): Promise<void> {
  return notYet('watch-alarms');
}
/** `check-watch` → `$.check` (`clear` | `alarm` | `abort` | `waiting`) */
export async function checkWatch(_state: RolloutState, _deps: RolloutDeps): Promise<CheckOutcome> {
  return notYet('check-watch');
}
/** `retire-blue` → `$.env` */
export async function retireBlue(_state: RolloutState, _deps: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('retire-blue');
}
/**
 * The blue/green half of `rollback-environment` → `$.env` with `rollback` set: before the switch,
 * discard green (detach, delete) and resume blue's processes; after it, scale blue back to
 * `before.capacity`.
 */
export async function rollbackBlueGreen(
  _state: RolloutState,
  _reason: string,
  _deps: RolloutDeps,
): Promise<EnvironmentRun> {
  return notYet('rollback-environment (blue/green)');
}
/** The blue/green half of `check-rollback` → `$.check` (`done` | `waiting` | `failed`). */
export async function checkBlueGreenRollback(
  _state: RolloutState,
  _deps: RolloutDeps,
): Promise<CheckOutcome> {
  return notYet('check-rollback (blue/green)');
}
