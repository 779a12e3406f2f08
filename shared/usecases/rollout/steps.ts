/**
 * The rollout steps other than blue/green's (statemachines/deploy.asl.json, `RolloutBegin` on),
 * one file per concern beside this one; the step handler (functions/steps/rollout.ts) dispatches
 * to these names. Contract: ./deps.ts.
 *
 * - course.ts: `rollout-begin` (release, pinned manifest, environments, mode);
 * - lock.ts: `take-lock`, `wait-lock` (lease, supersede, waiters woken on release);
 * - prepare.ts: `prepare-environment` (before record, target launch template version);
 * - rolling.ts: `start-refresh`, `check-refresh`, `wait-refresh`;
 * - gate.ts: `environment-done`, `check-gate`, `wait-approval`, `pass-gate`;
 * - rollback.ts: `record-rollback`, `rollback-environment`, `check-rollback`, `wait-rollback`;
 * - finish.ts: `finish`.
 */
import type { RolloutEnding } from '../../domain/rollout';

export { beginRollout } from './course';
export { takeLock, waitForLock } from './lock';
export { prepareEnvironment } from './prepare';
export { startRefresh, checkRefresh, waitForRefresh } from './rolling';
export { environmentDone, checkGate, waitForApproval, passGate } from './gate';
export { recordRollback, rollbackEnvironment, checkRollback, waitForRollback } from './rollback';
export { finish } from './finish';

export type FinishOutcome = RolloutEnding;
