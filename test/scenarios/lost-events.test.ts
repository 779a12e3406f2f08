import { runSandbox } from '../../sandbox/run';

/**
 * `kiln sandbox --scenario lost-events`: 30 % of events lost, duplicates on, the fleet scaled under
 * Kiln's drain hook and two deploy executions killed; the reconciler converges the region. Its checks read Kiln's
 * records and the timeline, and they fail when the reconciler does nothing (the same story with
 * the `reconcile` function replaced by one that does nothing).
 */
jest.setTimeout(180_000);

const NOTHING_STUCK = [
  'no deployment is left non-final',
  'no lock is held',
  'no orphaned task token is left',
  'no instance was left waiting in a lifecycle hook: Kiln completed each before its timeout',
  'what the reconciler healed is audited as reconciler',
];

describe('the lost-events scenario', () => {
  it('converges: every check passes, with events lost along the way', async () => {
    const result = await runSandbox({ seed: 7, fleet: 1, scenario: 'lost-events' });
    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.map((check) => check.name)).toEqual(expect.arrayContaining(NOTHING_STUCK));
    expect(result.faultsStruck.map((fault) => fault.rule)).toEqual(
      expect.arrayContaining(['event-loss@0.3', 'event-duplicate@0.5']),
    );
    const reconcilerCalls = result.timeline
      .split('\n')
      .filter((line) => line.includes('"caller":"fn:reconcile"')).length;
    expect(reconcilerCalls).toBeGreaterThan(0);
  });

  it('fails its nothing-stuck checks when the reconciler does nothing', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 1,
      scenario: 'lost-events',
      region: { functions: { reconcile: async () => async () => ({ reconciled: 'nothing' }) } },
    });
    expect(result.ok).toBe(false);
    const failed = result.checks.filter((check) => !check.ok).map((check) => check.name);
    expect(failed.sort()).toEqual([...NOTHING_STUCK].sort());
  });
});
