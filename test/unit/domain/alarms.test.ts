import fc from 'fast-check';
import {
  decideAlarm,
  rollbackClaimKey,
  watchersOf,
  type AlarmSignal,
  type AlarmWatcher,
  type AlarmedManifest,
  type EnvironmentFacts,
} from '../../../shared/domain/alarms';

const T0 = Date.parse('2026-06-01T09:00:00.000Z');
const MINUTE = 60_000;

function manifests(): AlarmedManifest[] {
  return [
    {
      name: 'checkout',
      environments: [
        {
          name: 'staging',
          region: 'us-east-1',
          alarms: { rollout: ['web-5xx'], watch: ['web-5xx', 'web-p99'], watchWindowMinutes: 15 },
        },
        {
          name: 'production',
          region: 'us-west-2',
          alarms: { rollout: ['web-5xx'], watch: ['web-5xx'], watchWindowMinutes: 60 },
        },
      ],
    },
    {
      name: 'ledger',
      environments: [
        {
          name: 'staging',
          region: 'us-east-1',
          alarms: { rollout: [], watch: ['web-5xx'], watchWindowMinutes: 30 },
        },
      ],
    },
  ];
}

function signal(overrides: Partial<AlarmSignal> = {}): AlarmSignal {
  return {
    alarmName: 'web-5xx',
    region: 'us-east-1',
    kind: 'metric',
    state: 'ALARM',
    previousState: 'OK',
    at: T0 + 5 * MINUTE,
    reason: 'Threshold Crossed',
    ...overrides,
  };
}

function watcher(overrides: Partial<AlarmWatcher> = {}): AlarmWatcher {
  return {
    service: 'checkout',
    environment: 'staging',
    region: 'us-east-1',
    rollout: true,
    watch: true,
    watchWindowMinutes: 15,
    ...overrides,
  };
}

/** 2.0.0 became current at T0 by a deploy; 1.9.0 before it; no rollout in flight. */
function afterDeploy(overrides: Partial<EnvironmentFacts> = {}): EnvironmentFacts {
  return { current: { release: '2.0.0', since: T0, mode: 'deploy' }, previousRelease: '1.9.0', ...overrides };
}

const rolling = (overrides: Partial<NonNullable<EnvironmentFacts['rollout']>> = {}): EnvironmentFacts => ({
  ...afterDeploy(),
  rollout: { deploymentId: 'd-2', mode: 'deploy', status: 'rolling-out', since: T0 + MINUTE, ...overrides },
});

describe('alarms (domain)', () => {
  describe('watchersOf', () => {
    it('finds every environment that lists the alarm in the alarm’s Region, as rollout and/or watch alarm', () => {
      expect(watchersOf(manifests(), { alarmName: 'web-5xx', region: 'us-east-1' })).toEqual([
        watcher(),
        watcher({ service: 'ledger', rollout: false, watchWindowMinutes: 30 }),
      ]);
    });

    it('ignores an environment in another Region that lists an alarm of the same name', () => {
      expect(watchersOf(manifests(), { alarmName: 'web-5xx', region: 'us-west-2' })).toEqual([
        watcher({ environment: 'production', region: 'us-west-2', watchWindowMinutes: 60 }),
      ]);
    });

    it('finds nothing for an alarm no manifest lists', () => {
      expect(watchersOf(manifests(), { alarmName: 'billing-5xx', region: 'us-east-1' })).toEqual([]);
    });
  });

  describe('decideAlarm', () => {
    describe('during a rollout', () => {
      it('aborts the deployment holding the environment when a rollout alarm goes into ALARM', () => {
        expect(decideAlarm(signal({ at: T0 + 2 * MINUTE }), watcher(), rolling())).toEqual({
          action: 'abort',
          deploymentId: 'd-2',
          reason:
            'metric alarm web-5xx went into ALARM during the rollout of checkout/staging: Threshold Crossed',
        });
      });

      it('notifies when the alarm is only a watch alarm', () => {
        const decision = decideAlarm(signal({ at: T0 + 2 * MINUTE }), watcher({ rollout: false }), rolling());
        expect(decision).toMatchObject({
          action: 'notify',
          reason: expect.stringContaining('not one of the environment'),
        });
      });

      it('leaves a rollback in flight to finish (never aborts a rollback)', () => {
        for (const facts of [rolling({ mode: 'rollback' }), rolling({ status: 'rolling-back' })]) {
          expect(decideAlarm(signal({ at: T0 + 2 * MINUTE }), watcher(), facts)).toMatchObject({
            action: 'notify',
            reason: expect.stringContaining('left to finish'),
          });
        }
      });

      it('only notifies for an ALARM older than the rollout (it was firing before the rollout began)', () => {
        const decision = decideAlarm(signal({ at: T0 + 30_000 }), watcher(), rolling({ since: T0 + MINUTE }));
        expect(decision).toMatchObject({
          action: 'notify',
          reason: expect.stringContaining('before rollout d-2'),
        });
      });
    });

    describe('after a rollout completed', () => {
      it('rolls the environment back to its previous release within the watch window', () => {
        expect(decideAlarm(signal(), watcher(), afterDeploy())).toEqual({
          action: 'rollback',
          release: '2.0.0',
          toRelease: '1.9.0',
          reason:
            'metric alarm web-5xx went into ALARM 300 s after 2.0.0 became current in checkout/staging: Threshold Crossed',
        });
      });

      it('rolls back at the last instant of the window, and only notifies one millisecond after', () => {
        const end = T0 + 15 * MINUTE;
        expect(decideAlarm(signal({ at: end }), watcher(), afterDeploy()).action).toBe('rollback');
        expect(decideAlarm(signal({ at: end + 1 }), watcher(), afterDeploy())).toMatchObject({
          action: 'notify',
          reason: expect.stringContaining('outside the 15-minute watch window'),
        });
      });

      it('notifies for an ALARM from before the release became current', () => {
        expect(decideAlarm(signal({ at: T0 - 1 }), watcher(), afterDeploy()).action).toBe('notify');
      });

      it('notifies when the alarm is only a rollout alarm', () => {
        expect(decideAlarm(signal(), watcher({ watch: false }), afterDeploy()).action).toBe('notify');
      });

      it('never rolls back a release that a rollback restored (no ping-pong)', () => {
        const facts = afterDeploy({
          current: { release: '1.9.0', since: T0, mode: 'rollback' },
          previousRelease: '2.0.0',
        });
        expect(decideAlarm(signal(), watcher(), facts)).toMatchObject({
          action: 'notify',
          reason: expect.stringContaining('does not roll back a rollback'),
        });
      });

      it('notifies when there is no earlier release to restore', () => {
        const { previousRelease: _none, ...facts } = afterDeploy();
        expect(decideAlarm(signal(), watcher(), facts).action).toBe('notify');
        expect(decideAlarm(signal(), watcher(), afterDeploy({ previousRelease: '2.0.0' })).action).toBe(
          'notify',
        );
      });

      it('notifies when nothing was ever released there', () => {
        expect(decideAlarm(signal(), watcher(), {}).action).toBe('notify');
      });

      it('names composite alarms as such', () => {
        expect(decideAlarm(signal({ kind: 'composite' }), watcher(), afterDeploy())).toMatchObject({
          reason: expect.stringMatching(/^composite alarm web-5xx/),
        });
      });
    });

    it('does nothing for OK and INSUFFICIENT_DATA, whatever the environment is doing', () => {
      const facts = fc.constantFrom<EnvironmentFacts>(
        afterDeploy(),
        rolling(),
        {},
        rolling({ mode: 'rollback' }),
      );
      fc.assert(
        fc.property(
          fc.constantFrom('OK', 'INSUFFICIENT_DATA' as const),
          facts,
          fc.integer(),
          (state, f, offset) => {
            const decision = decideAlarm(signal({ state, at: T0 + offset }), watcher(), f);
            return decision.action === 'ignore';
          },
        ),
      );
    });
  });

  describe('rollbackClaimKey', () => {
    it('is per service, environment and release (what a flapping alarm must roll back once)', () => {
      expect(rollbackClaimKey('checkout', 'staging', '2.0.0')).toBe('checkout/staging/2.0.0');
    });
  });
});
