import fc from 'fast-check';
import { DEPLOYMENT_STATUSES, isFinal } from '../../../shared/domain/deployment';
import {
  RECONCILE_LIMITS,
  bakeSweepDue,
  deploymentStalled,
  recordsScanDue,
  judgeDeployment,
  judgeLock,
  judgeToken,
  tokenNeedsLook,
  type ExecutionState,
} from '../../../shared/domain/reconcile';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const EXECUTIONS: ExecutionState[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
  'missing',
];
const ENDED: ExecutionState[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

describe("the reconciler's judgement", () => {
  describe('deployments', () => {
    const created = (minutesAgo: number) => new Date(T0 - minutesAgo * MINUTE).toISOString();

    it.each(ENDED)('sweeps a non-final deployment whose execution ended %s', (execution) => {
      expect(judgeDeployment({ status: 'rolling-out', createdAt: created(30) }, execution, T0)).toEqual({
        action: 'sweep',
      });
    });

    it('fails one whose execution never started once the start grace has passed, saying how long ago', () => {
      const verdict = judgeDeployment({ status: 'queued', createdAt: created(12) }, 'missing', T0);
      expect(verdict).toEqual({
        action: 'fail',
        reason: 'its deploy execution never started (recorded 12 min ago); failed by the reconciler',
      });
    });

    it('gives one recorded a moment ago the time to start its execution', () => {
      expect(judgeDeployment({ status: 'queued', createdAt: created(4) }, 'missing', T0)).toEqual({
        action: 'leave',
        why: 'starting',
      });
    });

    it('leaves one whose execution runs or waits for a redrive', () => {
      for (const execution of ['RUNNING', 'PENDING_REDRIVE'] as const) {
        expect(judgeDeployment({ status: 'baking', createdAt: created(90) }, execution, T0).action).toBe(
          'leave',
        );
      }
    });

    it('does not overwrite the record of an execution that succeeded', () => {
      expect(judgeDeployment({ status: 'rolling-out', createdAt: created(90) }, 'SUCCEEDED', T0)).toEqual({
        action: 'leave',
        why: 'execution-succeeded',
      });
    });

    it('never acts on a final deployment, whatever its execution', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...DEPLOYMENT_STATUSES.filter(isFinal)),
          fc.constantFrom(...EXECUTIONS),
          fc.integer({ min: 0, max: 10_000 }),
          (status, execution, minutes) =>
            judgeDeployment({ status, createdAt: created(minutes) }, execution, T0).action === 'leave',
        ),
      );
    });

    it('looks only at a non-final deployment whose record has not changed for five minutes', () => {
      const updated = (minutesAgo: number) => new Date(T0 - minutesAgo * MINUTE).toISOString();
      expect(deploymentStalled({ status: 'rolling-out', updatedAt: updated(5) }, T0)).toBe(true);
      expect(deploymentStalled({ status: 'rolling-out', updatedAt: updated(4) }, T0)).toBe(false);
      expect(deploymentStalled({ status: 'succeeded', updatedAt: updated(60) }, T0)).toBe(false);
    });
  });

  describe('locks', () => {
    const expired = { holder: 'd-1', expiresAt: T0 - MINUTE };

    it('leaves a lease that has not run out, whoever holds it', () => {
      expect(
        judgeLock({ holder: 'd-1', expiresAt: T0 + 1 }, { status: 'failed', execution: 'FAILED' }, T0),
      ).toEqual({
        action: 'leave',
        why: 'live',
      });
    });

    it('leaves an expired lease whose holder still runs: it may renew a lease nobody took over', () => {
      expect(judgeLock(expired, { status: 'rolling-out', execution: 'RUNNING' }, T0)).toEqual({
        action: 'leave',
        why: 'holder-running',
      });
    });

    it('releases an expired lease whose holder is final, even if its execution still runs a moment', () => {
      expect(judgeLock(expired, { status: 'succeeded', execution: 'RUNNING' }, T0).action).toBe('release');
    });

    it.each(ENDED)('releases an expired lease whose holder’s execution ended %s', (execution) => {
      const verdict = judgeLock(expired, { status: 'rolling-out', execution }, T0);
      expect(verdict).toEqual({
        action: 'release',
        reason: `lease expired 2026-03-01T11:59:00.000Z and its holder is gone (d-1 is rolling-out, execution ${execution})`,
      });
    });

    it('releases an expired lease whose holder is no deployment at all', () => {
      expect(judgeLock(expired, { execution: 'missing' }, T0)).toMatchObject({
        action: 'release',
        reason: expect.stringContaining('no deployment d-1'),
      });
    });
  });

  describe('task tokens', () => {
    const grace = RECONCILE_LIMITS.tokenGraceMs;

    it('deletes the token of a task whose execution is not running', () => {
      for (const execution of [...ENDED, 'SUCCEEDED', 'missing'] as const) {
        expect(judgeToken({ waitKind: 'refresh', expiresAt: T0 + MINUTE }, execution, T0).action).toBe(
          'delete',
        );
      }
    });

    it('wakes a running task past its deadline and the grace, naming how late it is', () => {
      expect(judgeToken({ waitKind: 'lock', expiresAt: T0 - grace - 30_000 }, 'RUNNING', T0)).toEqual({
        action: 'wake',
        reason: "no progress 150 s past the lock wait's deadline: woken to poll",
      });
    });

    it('never wakes an approval, and never wakes a task before its deadline and the grace', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(
            'refresh',
            'image',
            'command',
            'lock',
            'alarm',
            'group',
            'approval',
            'target-health',
          ),
          fc.integer({ min: -48 * 60, max: 48 * 60 }),
          (waitKind, minutes) => {
            const token = { waitKind, expiresAt: T0 + minutes * MINUTE };
            const verdict = judgeToken(token, 'RUNNING', T0);
            if (verdict.action !== 'wake') return true;
            return waitKind !== 'approval' && token.expiresAt + grace <= T0;
          },
        ),
      );
    });

    it('looks up the execution only for a token past due or of a final deployment', () => {
      expect(tokenNeedsLook({ expiresAt: T0 + MINUTE }, 'rolling-out', T0)).toBe(false);
      expect(tokenNeedsLook({ expiresAt: T0 - grace }, 'rolling-out', T0)).toBe(true);
      expect(tokenNeedsLook({ expiresAt: T0 + MINUTE }, 'failed', T0)).toBe(true);
    });
  });

  describe('the records scan', () => {
    it('is due every fifth minute', () => {
      const hour = Date.parse('2026-03-01T12:00:00.000Z');
      const due = Array.from({ length: 60 }, (_, minute) => minute).filter((minute) =>
        recordsScanDue(hour + minute * MINUTE),
      );
      expect(due).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]);
    });
  });

  describe('the bake sweep', () => {
    it('is due on the quarter hours only', () => {
      const hour = Date.parse('2026-03-01T12:00:00.000Z');
      const due = Array.from({ length: 60 }, (_, minute) => minute).filter((minute) =>
        bakeSweepDue(hour + minute * MINUTE),
      );
      expect(due).toEqual([0, 15, 30, 45]);
    });
  });
});
