import {
  finalStatusOf,
  gateBefore,
  historyAfter,
  movesTo,
  recordOf,
  refreshPreferences,
  refreshVerdict,
  rollbackRefreshPreferences,
  rolloutCourse,
  stepFailure,
  supersededBy,
  type DeploymentFacts,
} from '../../../shared/domain/rollout';
import { RollingStrategySchema } from '../../../shared/domain/manifest/schema';
import * as z from '../../../shared/domain/zod';

const rolling = (input: Record<string, unknown> = {}) =>
  z.parse(RollingStrategySchema, { type: 'rolling', ...input });

describe('rollout rules', () => {
  describe('rolloutCourse', () => {
    it('rolls every environment of the manifest, in its order, when none are named', () => {
      expect(rolloutCourse(['dev', 'staging', 'prod'])).toEqual(['dev', 'staging', 'prod']);
    });

    it('keeps the manifest order for a requested subset, whatever order it was asked in', () => {
      expect(rolloutCourse(['dev', 'staging', 'prod'], ['prod', 'dev'])).toEqual(['dev', 'prod']);
    });

    it('refuses an environment the manifest does not have, naming it and what the manifest has', () => {
      expect(() => rolloutCourse(['dev', 'prod'], ['qa'])).toThrow(
        'environments: "qa" is not in the manifest (it has dev, prod)',
      );
    });
  });

  describe('refreshPreferences', () => {
    it('sends every preference explicitly, with SkipMatching and AutoRollback on and the rollout alarms', () => {
      const strategy = rolling({
        minHealthyPercentage: 80,
        maxHealthyPercentage: 120,
        instanceWarmupSeconds: 30,
        checkpoints: [20, 100],
        checkpointDelaySeconds: 60,
        bakeTimeSeconds: 300,
      });
      expect(refreshPreferences(strategy, ['web-5xx'])).toEqual({
        minHealthyPercentage: 80,
        maxHealthyPercentage: 120,
        instanceWarmupSeconds: 30,
        checkpoints: [20, 100],
        checkpointDelaySeconds: 60,
        bakeTimeSeconds: 300,
        skipMatching: true,
        autoRollback: true,
        alarms: ['web-5xx'],
        scaleInProtectedInstances: 'Wait',
        standbyInstances: 'Wait',
      });
    });

    it('leaves warm-up and checkpoints out when the manifest leaves them out (the group default applies)', () => {
      const preferences = refreshPreferences(rolling(), []);
      expect(preferences).not.toHaveProperty('instanceWarmupSeconds');
      expect(preferences).not.toHaveProperty('checkpoints');
      expect(preferences.alarms).toEqual([]);
    });

    it("never lets Kiln's own rollback refresh roll back onto the bad version", () => {
      const preferences = rollbackRefreshPreferences(rolling({ minHealthyPercentage: 50 }));
      expect(preferences).toMatchObject({
        autoRollback: false,
        alarms: [],
        skipMatching: true,
        minHealthyPercentage: 50,
      });
      expect(preferences).not.toHaveProperty('checkpoints');
    });
  });

  describe('refreshVerdict', () => {
    it.each([
      ['Successful', 'succeeded'],
      ['RollbackSuccessful', 'rolled-back'],
      ['Failed', 'failed'],
      ['Cancelled', 'failed'],
      ['RollbackFailed', 'failed'],
      ['Pending', 'waiting'],
      ['InProgress', 'waiting'],
      ['Baking', 'waiting'],
      ['Cancelling', 'waiting'],
      ['RollbackInProgress', 'waiting'],
      ['SomethingAwsAddsLater', 'waiting'],
    ])('reads %s as %s', (status, verdict) => {
      expect(refreshVerdict(status)).toBe(verdict);
    });
  });

  describe('supersededBy', () => {
    const deployment = (
      id: string,
      createdAt: string,
      change: Partial<DeploymentFacts> = {},
    ): DeploymentFacts => ({
      id,
      status: 'baking',
      environments: ['staging', 'prod'],
      createdAt,
      ...change,
    });
    const older = deployment('a', '2026-03-01T12:00:00.000Z');
    const middle = deployment('b', '2026-03-01T12:00:20.000Z');
    const newest = deployment('c', '2026-03-01T12:00:40.000Z');

    it('makes an older waiting deployment give way to the newest one of the environment', () => {
      expect(supersededBy(older, [older, middle, newest], 'staging')?.id).toBe('c');
    });

    it('lets the newest wait', () => {
      expect(supersededBy(newest, [older, middle, newest], 'staging')).toBeUndefined();
    });

    it('never supersedes a deployment that already rolls out', () => {
      expect(supersededBy({ ...older, status: 'rolling-out' }, [older, newest], 'staging')).toBeUndefined();
    });

    it('ignores newer deployments that ended or that do not include the environment', () => {
      const ended = deployment('d', '2026-03-01T12:01:00.000Z', { status: 'failed' });
      const elsewhere = deployment('e', '2026-03-01T12:01:00.000Z', { environments: ['prod'] });
      expect(supersededBy(older, [older, ended, elsewhere], 'staging')).toBeUndefined();
    });

    it('breaks a tie of creation times by id (ids sort by time)', () => {
      const twin = deployment('b2', older.createdAt);
      expect(supersededBy({ ...older, id: 'b1' }, [twin], 'staging')?.id).toBe('b2');
      expect(supersededBy(twin, [{ ...older, id: 'b1' }], 'staging')).toBeUndefined();
    });
  });

  describe('history', () => {
    it('puts the new record first and keeps six at most', () => {
      expect(historyAfter(7, [6, 5, 4, 3, 2, 1])).toEqual([7, 6, 5, 4, 3, 2]);
      expect(historyAfter(1, undefined)).toEqual([1]);
    });

    it('finds the newest record of a release', () => {
      const history = [
        { release: '1.2.0', n: 3 },
        { release: '1.1.0', n: 2 },
        { release: '1.1.0', n: 1 },
      ];
      expect(recordOf(history, '1.1.0', 'checkout/prod').n).toBe(2);
    });

    it('refuses a release the history does not hold, naming what it holds', () => {
      expect(() => recordOf([{ release: '1.2.0' }, { release: '1.1.0' }], '0.9.0', 'checkout/prod')).toThrow(
        'checkout/prod has no record of release 0.9.0 to roll back to (its history holds 1.2.0, 1.1.0)',
      );
      expect(() => recordOf(undefined, '0.9.0', 'checkout/prod')).toThrow('(its history is empty)');
    });
  });

  describe('gateBefore', () => {
    it("takes the next environment's bake time and approval, in seconds", () => {
      expect(
        gateBefore(
          { name: 'prod', bakeTimeMinutes: 120, approval: { required: true, timeoutMinutes: 60 } },
          1000,
        ),
      ).toEqual({
        bakeSeconds: 7200,
        approval: true,
        approvalTimeoutSeconds: 3600,
        next: 'prod',
        since: 1000,
      });
    });
  });

  describe('how a rollout ends', () => {
    it.each([
      ['succeeded', false, 'succeeded'],
      ['rolled-back', false, 'rolled-back'],
      ['rolled-back', true, 'failed'],
      ['rollback-failed', false, 'failed'],
      ['failed', false, 'failed'],
      ['approval-timed-out', false, 'aborted'],
      ['approval-refused', false, 'aborted'],
      ['aborted', false, 'aborted'],
    ] as const)('ends %s (nothing undone: %s) as %s', (ending, nothingUndone, status) => {
      expect(finalStatusOf(ending, nothingUndone)).toBe(status);
    });

    it('moves one allowed step at a time', () => {
      expect(movesTo('baking', 'succeeded')).toEqual(['rolling-out', 'succeeded']);
      expect(movesTo('rolling-out', 'rolled-back')).toEqual(['rolling-back', 'rolled-back']);
      expect(movesTo('rolling-back', 'rolled-back')).toEqual(['rolled-back']);
      expect(movesTo('rolling-back', 'aborted')).toEqual(['failed']);
      expect(movesTo('succeeded', 'failed')).toEqual([]);
    });
  });

  describe('stepFailure', () => {
    it("keeps a Lambda error's message and names the error", () => {
      expect(
        stepFailure({
          Error: 'Error',
          Cause: JSON.stringify({ errorType: 'Error', errorMessage: 'preparing the environment: boom' }),
        }),
      ).toBe('preparing the environment: boom (Error)');
      expect(stepFailure({ Error: 'States.Timeout' })).toBe('States.Timeout');
    });
  });
});
