import { parseChaosArgs, replayCommand } from '../../sandbox/chaos/cli';
import { runChaosSeed, type ChaosRunOptions } from '../../sandbox/chaos/run';

/**
 * `npm run chaos`: the invariants catch a Kiln that breaks one of them on purpose (the
 * `never-complete-lifecycle` sabotage replaces on-lifecycle and the reconciler with functions that
 * do nothing, so every drain hook's action is left to its timeout), and a failing seed's printed
 * replay command runs the same seed into the same failure.
 */
jest.setTimeout(240_000);

const SEED = 2;
const drain: ChaosRunOptions = { seed: SEED, scenario: 'drain', fleet: 1 };

/** The arguments after `npm run chaos --` in a replay command. */
function argsOf(command: string): string[] {
  const [, args = ''] = command.split(' -- ');
  return args.split(' ');
}

describe('chaos runs', () => {
  describe('on an unbroken Kiln', () => {
    it("keeps every invariant under the seed's faults", async () => {
      const outcome = await runChaosSeed(drain);
      expect(outcome.violations).toEqual([]);
      expect(outcome.ok).toBe(true);
    });
  });

  describe('on a Kiln that never completes a lifecycle action', () => {
    it("reports each action left to its hook's timeout, and the replay command repeats the failure", async () => {
      const broken = await runChaosSeed({ ...drain, sabotage: 'never-complete-lifecycle' });
      expect(broken.ok).toBe(false);
      expect(broken.violations.length).toBeGreaterThan(0);
      expect(new Set(broken.violations.map((v) => v.invariant))).toEqual(new Set(['lifecycle-wait']));
      expect(broken.violations[0]?.detail).toMatch(/left to its hook's timeout: Kiln never completed it/);

      const command = replayCommand(broken);
      expect(command).toBe(
        `npm run chaos -- --seed ${SEED} --scenario drain --fleet 1 --sabotage never-complete-lifecycle`,
      );
      const replay = parseChaosArgs(argsOf(command));
      expect(replay.seeds).toEqual([SEED]);
      const again = await runChaosSeed({
        seed: SEED,
        scenario: replay.scenario,
        fleet: replay.fleet,
        ...(replay.sabotage === undefined ? {} : { sabotage: replay.sabotage }),
      });
      expect(again.violations).toEqual(broken.violations);
      expect(again.schedule).toEqual(broken.schedule);
    });
  });
});
