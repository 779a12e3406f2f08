import { runSandbox } from '../../sandbox/run';
import type { SandboxFunctionFactory } from '../../sandbox/functions';

/**
 * `kiln sandbox --scenario alarm-rollback`: a release that starts serving 5xx after it completed is
 * rolled back by its alarm inside the watch window, once. The checks read Kiln's records and the
 * timeline, so the scenario fails when nothing reacts to the alarm (the last case); with on-alarm
 * deaf, the reconciler's call to reconcileAlarms still rolls back.
 */
jest.setTimeout(240_000);

/** A function that receives its events (or schedule) and does nothing with them. */
const deafOnAlarm: SandboxFunctionFactory = async () => async () => ({ ignored: true });

describe('alarm-rollback scenario', () => {
  it('passes every check: one rollback by the alarm, the previous release restored', async () => {
    const result = await runSandbox({ seed: 7, fleet: 2, scenario: 'alarm-rollback' });

    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.length).toBeGreaterThanOrEqual(6);
    expect(result.figures['ALARM → rollback started (s)']).toEqual(expect.any(Number));
  });

  it('passes when on-alarm never acts: the reconciler finds the alarm in ALARM and rolls back', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 2,
      scenario: 'alarm-rollback',
      region: { functions: { onAlarm: deafOnAlarm } },
    });

    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    const starts = result.timeline
      .split('\n')
      .filter(
        (line) => line.includes('"operation":"StartExecution"') && line.includes('"caller":"fn:reconcile"'),
      );
    expect(starts).toHaveLength(1);
  });

  it('fails when nothing acts on the alarm, neither on-alarm nor the reconciler (the release is never rolled back)', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 2,
      scenario: 'alarm-rollback',
      region: { functions: { onAlarm: deafOnAlarm, reconcile: deafOnAlarm } },
    });

    expect(result.ok).toBe(false);
    expect(result.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(['rollout']);
  });
});
