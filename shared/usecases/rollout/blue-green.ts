/**
 * Blue/green (issue 10, item 3): the steps from `CreateGreen` to `RetireBlue` in
 * statemachines/deploy.asl.json, and the blue/green half of the rollback (item 6). Contract:
 * shared/usecases/rollout/deps.ts; rules: shared/domain/blue-green.ts; README "Blue/green".
 *
 * - ./blue-green/green.ts: `create-green`, `check-green`, `attach-green`
 * - ./blue-green/switch.ts: `check-health-gate`, `switch-traffic`, `watch-alarms`, `check-watch`, `retire-blue`
 * - ./blue-green/rollback.ts: `rollback-environment` and `check-rollback` for blue/green
 */
export { attachGreen, checkGreen, createGreen } from './blue-green/green';
export { checkHealthGate, checkWatch, retireBlue, switchTraffic, watchAlarms } from './blue-green/switch';
export { checkBlueGreenRollback, rollbackBlueGreen } from './blue-green/rollback';
export { resumeSwitchProcesses } from './blue-green/context';
