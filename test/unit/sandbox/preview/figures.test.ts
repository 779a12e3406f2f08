import type { TimedEntry } from '../../../../sandbox/core/timeline';
import type { InstanceFacts, RunRecord } from '../../../../sandbox/observe/record';
import {
  environmentSpans,
  firstAlarm,
  restoredAfter,
  rolloutFigures,
} from '../../../../sandbox/preview/figures';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc';
const ALARM = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:kiln-sandbox-deploy';
const KEY = { service: 'web', environment: 'production' };

function state(t: number, resource: string, to: string): TimedEntry {
  return { t, kind: 'state', resource, from: null, to };
}

/** An instance joining the group and its target turning healthy at `t`. */
function serving(t: number, id: string): TimedEntry[] {
  return [state(t, `autoscaling:web/${id}`, 'InService'), state(t, `${TG}/${id}`, 'healthy')];
}

function leaving(t: number, id: string): TimedEntry[] {
  return [state(t, `${TG}/${id}`, 'unused'), state(t, `autoscaling:web/${id}`, 'Terminated')];
}

function launching(t: number, id: string): TimedEntry {
  return state(t, `autoscaling:web/${id}`, 'Pending');
}

function moves(execution: string, ...steps: Array<[number, string]>): TimedEntry[] {
  return steps.map(([t, to]) => state(t, `${EXECUTION}:${execution}#state`, to));
}

const VERSIONS: Record<string, string> = { 'i-1': '1.0.0', 'i-2': '1.0.0', 'i-3': '2.0.0', 'i-4': '2.0.0' };

function recordOf(entries: TimedEntry[]): RunRecord {
  const instances = new Map<string, InstanceFacts>(
    Object.entries(VERSIONS).map(([id, version]) => [
      id,
      { instanceId: id, imageId: `ami-${version}`, version, group: 'web', launchedAt: 0 },
    ]),
  );
  return {
    entries: [...entries].sort((a, b) => a.t - b.t),
    instances,
    groups: new Map(),
    environments: [
      { ...KEY, groups: ['web'], targetGroupArns: [TG], alarmNames: ['web-5xx'], alarmArns: [ALARM] },
    ],
    region: 'us-east-1',
    accountId: '123456789012',
  };
}

/** Two instances of 1.0.0 replaced one at a time by 2.0.0 between t=100 and t=400, a checkpoint at 200. */
function rollout(): TimedEntry[] {
  return [
    ...serving(0, 'i-1'),
    ...serving(0, 'i-2'),
    // Before the rollout: a dip that is not the rollout's.
    state(50, `${TG}/i-1`, 'unhealthy'),
    state(60, `${TG}/i-1`, 'healthy'),
    ...moves(
      'dep-1',
      [90, 'TakeLock'],
      [100, 'PrepareEnvironment'],
      [110, 'StartRefresh'],
      [400, 'EnvironmentDone'],
      [401, 'Done'],
    ),
    launching(110, 'i-3'),
    ...serving(150, 'i-3'),
    ...leaving(160, 'i-1'),
    {
      t: 170,
      kind: 'event',
      source: 'aws.autoscaling',
      detailType: 'EC2 Auto Scaling Instance Refresh Checkpoint Reached',
      deliveredTo: [],
    },
    launching(290, 'i-4'),
    ...serving(330, 'i-4'),
    ...leaving(340, 'i-2'),
  ];
}

describe('preview figures', () => {
  describe('environmentSpans', () => {
    it('spans each environment of an execution from PrepareEnvironment to EnvironmentDone, numbered in order', () => {
      const spans = environmentSpans(
        recordOf([
          ...moves(
            'dep-1',
            [10, 'PrepareEnvironment'],
            [20, 'WaitRefresh'],
            [30, 'EnvironmentDone'],
            [40, 'BakeGate'],
          ),
          ...moves('dep-1', [50, 'PrepareEnvironment'], [70, 'EnvironmentDone'], [71, 'Done']),
        ]),
      );
      expect(spans).toEqual([
        { execution: 'dep-1', index: 0, from: 10, to: 30, endedIn: 'EnvironmentDone' },
        { execution: 'dep-1', index: 1, from: 50, to: 70, endedIn: 'EnvironmentDone' },
      ]);
    });

    it('ends a span that never reached EnvironmentDone at the execution’s last state', () => {
      const spans = environmentSpans(
        recordOf(moves('dep-2', [10, 'PrepareEnvironment'], [20, 'CheckRefresh'], [90, 'RolloutFailed'])),
      );
      expect(spans).toEqual([{ execution: 'dep-2', index: 0, from: 10, to: 90, endedIn: 'RolloutFailed' }]);
    });
  });

  describe('rolloutFigures', () => {
    it('measures duration, least healthy targets and peak instances within the rollout only', () => {
      const figures = rolloutFigures(recordOf(rollout()), KEY, { from: 100, to: 400 }, '2.0.0');
      expect(figures.durationSeconds).toBe(300);
      // The dip at t=50 is before the rollout: its least is 2 healthy, never fewer.
      expect(figures.leastHealthy).toEqual({ count: 2, at: 0 });
      expect(figures.peakInstances).toEqual({ count: 3, at: 10 });
      expect(figures.endedWith).toEqual({ '2.0.0': 2 });
    });

    it('counts a checkpoint pause until the fleet next starts changing, with the instances then on the release', () => {
      const figures = rolloutFigures(recordOf(rollout()), KEY, { from: 100, to: 400 }, '2.0.0');
      expect(figures.checkpoints).toEqual([{ at: 70, onRelease: 1, seconds: 120 }]);
    });

    it('sees a healthy capacity dip inside the rollout', () => {
      const entries = [
        ...rollout(),
        state(200, `${TG}/i-2`, 'unhealthy'),
        state(230, `${TG}/i-2`, 'healthy'),
      ];
      const figures = rolloutFigures(recordOf(entries), KEY, { from: 100, to: 400 }, '2.0.0');
      expect(figures.leastHealthy).toEqual({ count: 1, at: 100 });
    });
  });

  describe('restoredAfter', () => {
    it('finds the first moment from which only the previous release serves, at full strength', () => {
      const entries = [
        ...serving(0, 'i-1'),
        ...serving(0, 'i-3'),
        launching(100, 'i-2'),
        ...serving(160, 'i-2'),
        ...leaving(200, 'i-3'),
      ];
      expect(restoredAfter(recordOf(entries), KEY, 100, '1.0.0', 2)).toEqual({ seconds: 100, at: 200 });
    });

    it('says never when the fleet is not whole again', () => {
      const entries = [...serving(0, 'i-1'), ...serving(0, 'i-3')];
      expect(restoredAfter(recordOf(entries), KEY, 10, '1.0.0', 2)).toEqual({
        seconds: undefined,
        at: undefined,
      });
    });

    it('does not count a moment of wholeness that breaks again', () => {
      const entries = [
        ...serving(0, 'i-1'),
        ...serving(0, 'i-2'),
        ...serving(50, 'i-3'),
        ...leaving(80, 'i-3'),
      ];
      expect(restoredAfter(recordOf(entries), KEY, 10, '1.0.0', 2)).toEqual({ seconds: 70, at: 80 });
    });
  });

  describe('firstAlarm', () => {
    it('names the first alarm of the environment to go into ALARM after the given time', () => {
      const entries = [state(20, ALARM, 'ALARM'), state(40, ALARM, 'OK'), state(90, ALARM, 'ALARM')];
      expect(firstAlarm(recordOf(entries), KEY, 30)).toEqual({ t: 90, alarm: 'web-5xx' });
      expect(firstAlarm(recordOf(entries), KEY, 100)).toBeUndefined();
    });
  });
});
