import fc from 'fast-check';
import {
  DEPLOYMENT_STATUSES,
  INITIAL_DEPLOYMENT_STATUS,
  IllegalTransitionError,
  canTransition,
  isDeploymentStatus,
  isFinal,
  predecessorsOf,
  successorsOf,
  transition,
  type DeploymentStatus,
} from '../../../shared/domain/deployment';

const status = fc.constantFrom(...DEPLOYMENT_STATUSES);

/** Every status reachable from `from` by legal moves (not counting `from` itself unless it loops). */
function reachableFrom(from: DeploymentStatus): Set<DeploymentStatus> {
  const seen = new Set<DeploymentStatus>();
  const queue = [...successorsOf(from)];
  while (queue.length > 0) {
    const next = queue.shift() as DeploymentStatus;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...successorsOf(next));
  }
  return seen;
}

describe('deployment statuses', () => {
  describe('the course of a deployment', () => {
    it.each<[string, DeploymentStatus[]]>([
      ['bake, one environment, success', ['queued', 'baking', 'rolling-out', 'succeeded']],
      [
        'two environments with an approval between',
        ['queued', 'baking', 'rolling-out', 'waiting-approval', 'rolling-out', 'succeeded'],
      ],
      ['an old release deployed again (no bake)', ['queued', 'rolling-out', 'succeeded']],
      ['an alarm during the rollout', ['queued', 'baking', 'rolling-out', 'rolling-back', 'rolled-back']],
      [
        'an alarm in the watch window while waiting for approval',
        ['queued', 'baking', 'rolling-out', 'waiting-approval', 'rolling-back', 'rolled-back'],
      ],
      ['a failed bake', ['queued', 'baking', 'failed']],
      ['a newer artifact while queued', ['queued', 'superseded']],
      ['an approval refused', ['queued', 'baking', 'rolling-out', 'waiting-approval', 'aborted']],
      ['a rollback that cannot finish', ['queued', 'rolling-out', 'rolling-back', 'failed']],
    ])('allows %s', (_name, course) => {
      expect(course[0]).toBe(INITIAL_DEPLOYMENT_STATUS);
      for (let i = 1; i < course.length; i++) {
        expect(transition(course[i - 1] as DeploymentStatus, course[i] as DeploymentStatus)).toBe(course[i]);
      }
      expect(isFinal(course[course.length - 1] as DeploymentStatus)).toBe(true);
    });
  });

  describe('transition', () => {
    it.each<[DeploymentStatus, DeploymentStatus]>([
      ['queued', 'succeeded'],
      ['queued', 'rolling-back'],
      ['baking', 'waiting-approval'],
      ['rolling-back', 'aborted'],
      ['rolling-back', 'rolling-out'],
      ['waiting-approval', 'succeeded'],
      ['baking', 'baking'],
    ])('refuses %s → %s with IllegalTransitionError', (from, to) => {
      expect(() => transition(from, to, 'd-1')).toThrow(IllegalTransitionError);
    });

    it('names the deployment, both statuses and the moves allowed instead', () => {
      expect(() => transition('baking', 'succeeded', '01J0ABC')).toThrow(
        'deployment 01J0ABC cannot move from baking to succeeded: from baking it may move to rolling-out, superseded, aborted, failed',
      );
    });

    it('says a final status is final', () => {
      const error = (() => {
        try {
          transition('succeeded', 'rolling-back');
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();

      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error).toMatchObject({
        name: 'IllegalTransitionError',
        from: 'succeeded',
        to: 'rolling-back',
        message: 'deployment cannot move from succeeded to rolling-back: succeeded is final',
      });
    });

    it('never allows staying put (property)', () => {
      fc.assert(fc.property(status, (s) => !canTransition(s, s)));
    });

    it('agrees with predecessorsOf and successorsOf (property)', () => {
      fc.assert(
        fc.property(status, status, (from, to) => {
          const allowed = canTransition(from, to);
          return predecessorsOf(to).includes(from) === allowed && successorsOf(from).includes(to) === allowed;
        }),
      );
    });
  });

  describe('the graph', () => {
    it('reaches every status from queued', () => {
      const reachable = reachableFrom(INITIAL_DEPLOYMENT_STATUS);

      expect([...reachable, INITIAL_DEPLOYMENT_STATUS].sort()).toEqual([...DEPLOYMENT_STATUSES].sort());
    });

    it('lets every status that is not final end in a final one', () => {
      for (const from of DEPLOYMENT_STATUSES.filter((s) => !isFinal(s))) {
        expect([...reachableFrom(from)].some(isFinal)).toBe(true);
      }
    });

    it('never returns to queued', () => {
      expect(predecessorsOf('queued')).toEqual([]);
    });

    it('lets anything still running fail', () => {
      for (const from of DEPLOYMENT_STATUSES.filter((s) => !isFinal(s)))
        expect(canTransition(from, 'failed')).toBe(true);
    });

    it('does not abort a rollback half-way', () => {
      expect(canTransition('rolling-back', 'aborted')).toBe(false);
    });
  });

  describe('isDeploymentStatus', () => {
    it('knows the statuses and nothing else', () => {
      expect(DEPLOYMENT_STATUSES.every(isDeploymentStatus)).toBe(true);
      expect(isDeploymentStatus('pending')).toBe(false);
      expect(isDeploymentStatus('running')).toBe(false);
    });
  });
});
