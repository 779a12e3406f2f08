import { checkClaims, measureRollout, renderRollout, type RolloutFigures } from '../../../bench/rollout';

/**
 * The rollout bench (`KILN_BENCH_SECTIONS=rollout`) on small fleets (10 and 20 instances): each
 * design's rollout runs to its end through the real functions, the poll loop really polls (no
 * callback, no wake), and the claims the bench prints hold. No timing is asserted: virtual seconds
 * and counts only. Why not smaller: with MinHealthy 90 % a refresh replaces 10 % of the group per
 * batch but at least one instance, so below 10 instances every instance is a batch of its own and
 * the refresh (and the callback's polls during it) grows with the fleet; from 10 up the batches,
 * like the checkpoints, are shares of the group.
 */
describe('the rollout bench on small fleets', () => {
  const runs: RolloutFigures[] = [];

  beforeAll(async () => {
    for (const fleet of [10, 20]) {
      runs.push(await measureRollout({ seed: 7, fleet, design: 'callback' }));
      runs.push(await measureRollout({ seed: 7, fleet, design: 'poll' }));
    }
  }, 240_000);

  it('rolls the release out with either design: the execution and the deployment succeed', () => {
    expect(runs.map((r) => [r.design, r.fleet, r.status, r.deploymentStatus])).toEqual([
      ['callback', 10, 'SUCCEEDED', 'succeeded'],
      ['poll', 10, 'SUCCEEDED', 'succeeded'],
      ['callback', 20, 'SUCCEEDED', 'succeeded'],
      ['poll', 20, 'SUCCEEDED', 'succeeded'],
    ]);
  });

  it('wakes the callback wait by the refresh events, and the poll loop by its Wait alone', () => {
    for (const run of runs) {
      const woken = run.apiCalls.get('SFN:SendTaskSuccess') ?? 0;
      if (run.design === 'callback') expect(woken).toBeGreaterThan(0);
      else expect(woken).toBe(0);
      expect(run.states).toContain('WaitRefresh');
      expect(run.states[run.states.length - 1]).toBe('Done');
    }
  });

  it('finds the callback design flat across fleets, 5× below the poll loop and far below the history limit', () => {
    expect(checkClaims(runs)).toMatchObject({ flat: true, fiveTimesBelow: true, belowHistoryLimit: true });
    expect(renderRollout(7, runs)).not.toMatch(/FAILS|the execution ended/);
  });
});
