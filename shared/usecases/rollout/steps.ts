/**
 * The rollout steps other than blue/green's (statemachines/deploy.asl.json, `RolloutBegin` on):
 * the cursor, the lock, the environment's preparation, the rolling strategy, the gate between
 * environments, the rollback's dispatch and the end. Contract: ./deps.ts.
 *
 * CONTRACT STUBS: the rollout-core helper replaces every body here (and may split this file).
 */
import type {
  CheckOutcome,
  EnvironmentRun,
  LockOutcome,
  RolloutCursor,
  RolloutDeps,
  RolloutState,
} from './deps';

const notYet = (name: string): never => {
  throw new Error(`${name}: not implemented yet`);
};

export async function beginRollout(_s: RolloutState, _d: RolloutDeps): Promise<RolloutCursor> {
  return notYet('rollout-begin');
}
export async function takeLock(_s: RolloutState, _d: RolloutDeps): Promise<LockOutcome> {
  return notYet('take-lock');
}
export async function waitForLock(_s: RolloutState, _token: string, _d: RolloutDeps): Promise<void> {
  return notYet('wait-lock');
}
export async function prepareEnvironment(_s: RolloutState, _d: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('prepare-environment');
}
export async function startRefresh(_s: RolloutState, _d: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('start-refresh');
}
export async function checkRefresh(_s: RolloutState, _d: RolloutDeps): Promise<CheckOutcome> {
  return notYet('check-refresh');
}
export async function waitForRefresh(_s: RolloutState, _token: string, _d: RolloutDeps): Promise<void> {
  return notYet('wait-refresh');
}
export async function environmentDone(_s: RolloutState, _d: RolloutDeps): Promise<RolloutCursor> {
  return notYet('environment-done');
}
export async function checkGate(_s: RolloutState, _d: RolloutDeps): Promise<CheckOutcome> {
  return notYet('check-gate');
}
export async function waitForApproval(_s: RolloutState, _token: string, _d: RolloutDeps): Promise<void> {
  return notYet('wait-approval');
}
export async function passGate(_s: RolloutState, _d: RolloutDeps): Promise<RolloutCursor> {
  return notYet('pass-gate');
}
export async function recordRollback(_s: RolloutState, _d: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('record-rollback');
}
export async function rollbackEnvironment(_s: RolloutState, _d: RolloutDeps): Promise<EnvironmentRun> {
  return notYet('rollback-environment');
}
export async function checkRollback(_s: RolloutState, _d: RolloutDeps): Promise<CheckOutcome> {
  return notYet('check-rollback');
}
export async function waitForRollback(_s: RolloutState, _token: string, _d: RolloutDeps): Promise<void> {
  return notYet('wait-rollback');
}
export type FinishOutcome =
  | 'succeeded'
  | 'rolled-back'
  | 'rollback-failed'
  | 'failed'
  | 'approval-timed-out'
  | 'approval-refused'
  | 'aborted';
export async function finish(
  _s: RolloutState,
  _outcome: FinishOutcome,
  _d: RolloutDeps,
): Promise<{ status: string }> {
  return notYet('finish');
}
