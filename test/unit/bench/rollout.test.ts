import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkClaims,
  describePath,
  pollLoopDefinition,
  type Design,
  type RolloutFigures,
} from '../../../bench/rollout';

const DEPLOY = readFileSync(join(__dirname, '../../../statemachines/deploy.asl.json'), 'utf8');

type States = Record<string, Record<string, unknown>>;

function figures(design: Design, fleet: number, stateEntries: number, retries = 0): RolloutFigures {
  return {
    design,
    fleet,
    status: 'SUCCEEDED',
    deploymentStatus: 'succeeded',
    stateEntries,
    retries,
    states: [],
    invocations: new Map(),
    apiCalls: new Map(),
    virtualSeconds: 0,
  };
}

describe('the rollout bench', () => {
  describe('pollLoopDefinition', () => {
    it('turns the refresh callback wait into a plain 15 s Wait that goes back to CheckRefresh', () => {
      const states = (JSON.parse(pollLoopDefinition(DEPLOY)) as { States: States }).States;

      expect(states.WaitRefresh).toEqual({
        Comment: expect.any(String) as unknown,
        Type: 'Wait',
        Seconds: 15,
        Next: 'CheckRefresh',
      });
    });

    it('leaves every other state as the deploy ASL has it', () => {
      const original = (JSON.parse(DEPLOY) as { States: States }).States;
      const rewritten = (JSON.parse(pollLoopDefinition(DEPLOY)) as { States: States }).States;
      const { WaitRefresh: _before, ...others } = original;
      const { WaitRefresh: _after, ...rewrittenOthers } = rewritten;

      expect(rewrittenOthers).toEqual(others);
    });

    it('refuses an ASL whose WaitRefresh is not the callback task it replaces', () => {
      const machine = JSON.parse(DEPLOY) as { States: States };
      machine.States.WaitRefresh = { Type: 'Wait', Seconds: 30, Next: 'CheckRefresh' };

      expect(() => pollLoopDefinition(JSON.stringify(machine))).toThrow(/no WaitRefresh task/);
    });
  });

  describe('checkClaims', () => {
    it('holds when the callback transitions stay flat and the poll loop takes at least 5× more', () => {
      const claims = checkClaims([
        figures('callback', 10, 32),
        figures('poll', 10, 326),
        figures('callback', 100, 38),
        figures('poll', 100, 371),
      ]);

      expect(claims).toMatchObject({
        flat: true,
        fiveTimesBelow: true,
        largest: 38,
        belowHistoryLimit: true,
      });
      expect(claims.growth).toBeCloseTo(38 / 32);
    });

    it('fails "flat" when the callback transitions grow with the fleet', () => {
      const claims = checkClaims([
        figures('callback', 10, 30),
        figures('poll', 10, 300),
        figures('callback', 100, 60),
        figures('poll', 100, 600),
      ]);

      expect(claims.flat).toBe(false);
      expect(claims.fiveTimesBelow).toBe(true);
    });

    it('counts retries as billed transitions, so a retry storm fails "5× below the poll loop"', () => {
      const claims = checkClaims([figures('callback', 10, 30, 40), figures('poll', 10, 300)]);

      expect(claims.pollRatios.get(10)).toBeCloseTo(300 / 70);
      expect(claims.fiveTimesBelow).toBe(false);
    });
  });

  describe('describePath', () => {
    it('folds the repeated check-and-wait loop into one entry with its count', () => {
      const loop = ['CheckRefresh', 'RefreshDone', 'WaitRefresh'];

      expect(
        describePath(['StartRefresh', ...loop, ...loop, 'CheckRefresh', 'RefreshDone', 'EnvironmentDone']),
      ).toBe(
        'StartRefresh → (CheckRefresh → RefreshDone → WaitRefresh) ×2 → CheckRefresh → RefreshDone → EnvironmentDone',
      );
    });
  });
});
