import { join } from 'node:path';
import { estimateCost } from '../../../bench/cost';
import { readDeployedSettings } from '../../../bench/deployed-functions';
import { meterRun } from '../../../bench/deployment-cost';

/**
 * The cost section's metering (`KILN_BENCH_SECTIONS=cost`) on one small blue/green run, through the
 * real deploy state machine and functions: what it counts as the deployment's is Kiln's work after
 * the deployment started, the scheduled functions apart. No price is asserted (bench/cost.ts's unit
 * tests hold the arithmetic); no wall time either.
 */
describe('the deployment cost bench', () => {
  it("meters a blue/green deployment's transitions, invocations and DynamoDB requests, the schedules apart", async () => {
    const run = await meterRun(7, 'blue-green', 2);
    const deployed = readDeployedSettings(join(__dirname, '..', '..', '..')).functions;
    const scheduled = ['reconcile', 'retainImages'];

    expect(run.ok).toBe(true);
    expect(run.deployment.stateTransitions).toBeGreaterThan(0);
    const keys = new Set(run.deployment.invocations.map((i) => i.functionKey));
    expect(keys.has('rolloutSteps')).toBe(true);
    for (const key of scheduled) expect(keys.has(key)).toBe(false);
    expect(run.scheduled.invocations.every((i) => scheduled.includes(i.functionKey))).toBe(true);
    // Memory and architecture as serverless.yml deploys each function.
    for (const invocation of run.deployment.invocations) {
      const fn = deployed.find((f) => f.key === invocation.functionKey);
      expect([invocation.memoryMb, invocation.architecture]).toEqual([fn?.memorySizeMb, fn?.architecture]);
    }
    // Every invocation made AWS calls, so every one has a modelled duration beyond the 1 ms floor.
    expect(run.deployment.invocations.every((i) => Object.keys(i.calls).length > 0)).toBe(true);
    expect(run.deployment.dynamo.length).toBeGreaterThan(0);
    expect(run.deployment.dynamo.every((r) => r.invoked && r.caller.startsWith('fn:'))).toBe(true);
    expect(run.operator.every((r) => !r.invoked)).toBe(true);
    expect(estimateCost(run.deployment).totalUsd).toBeGreaterThan(0);
  }, 120_000);
});
