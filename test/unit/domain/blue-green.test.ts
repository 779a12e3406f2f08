import fc from 'fast-check';
import {
  GROUP_TAGS,
  existingGreen,
  greenGroupName,
  greenTags,
  groupReadiness,
  groupsBeyondKeep,
  healthGate,
  releaseNamePart,
  retiredTags,
  rollbackDeadline,
  unhealthyTargets,
  watchSeconds,
} from '../../../shared/domain/blue-green';

const TG_A = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-a/1a2b3c4d5e6f7a8b';
const TG_B = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-b/2b3c4d5e6f7a8b9c';

describe('blue/green rules', () => {
  describe('greenGroupName', () => {
    it('is the manifest group, -kiln- and the release', () => {
      expect(greenGroupName({ baseGroup: 'web-prod', release: '1.4.2', blueGroup: 'web-prod' })).toBe(
        'web-prod-kiln-1.4.2',
      );
    });

    it('builds on the manifest group, not on the green group serving now', () => {
      expect(
        greenGroupName({ baseGroup: 'web-prod', release: '1.5.0', blueGroup: 'web-prod-kiln-1.4.2' }),
      ).toBe('web-prod-kiln-1.5.0');
    });

    it('alternates with a -re name when the release already serves from its plain name', () => {
      const again = greenGroupName({
        baseGroup: 'web-prod',
        release: '1.4.2',
        blueGroup: 'web-prod-kiln-1.4.2',
      });
      expect(again).toBe('web-prod-kiln-1.4.2-re');
      expect(greenGroupName({ baseGroup: 'web-prod', release: '1.4.2', blueGroup: again })).toBe(
        'web-prod-kiln-1.4.2',
      );
    });

    it('replaces characters outside letters, digits, dot, dash and underscore, and keeps releases apart by a hash', () => {
      const plus = releaseNamePart('1.4.2+build.7');
      const slash = releaseNamePart('1.4.2/build.7');
      expect(plus).toMatch(/^1\.4\.2-build\.7-[0-9a-f]{8}$/);
      expect(plus).not.toBe(slash);
    });

    it('gives the same name for the same inputs and fits 255 characters whatever their length', () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 1, maxLength: 255 }),
          fc.string({ minLength: 1, maxLength: 128 }),
          (baseGroup, release) => {
            const input = { baseGroup, release, blueGroup: baseGroup };
            const name = greenGroupName(input);
            expect(name.length).toBeLessThanOrEqual(255);
            expect(name).toBe(greenGroupName({ ...input }));
            expect(name).not.toBe(baseGroup);
          },
        ),
      );
    });

    it('keeps two long releases that share a prefix apart', () => {
      const long = 'x'.repeat(100);
      expect(releaseNamePart(`${long}-a`)).not.toBe(releaseNamePart(`${long}-b`));
      expect(releaseNamePart(`${long}-a`).length).toBeLessThanOrEqual(64);
    });
  });

  describe('greenTags', () => {
    it("copies blue's own tags, drops Kiln's and aws: ones, and adds Kiln's for green", () => {
      const tags = greenTags({
        blueTags: {
          team: 'payments',
          'kiln:release': '1.0.0',
          'kiln:role': 'retired',
          'aws:cloudformation:stack-name': 's',
        },
        service: 'web',
        environment: 'prod',
        release: '2.0.0',
        deploymentId: 'D1',
      });
      expect(tags).toEqual({
        team: 'payments',
        'kiln:managed': 'true',
        'kiln:service': 'web',
        'kiln:environment': 'prod',
        'kiln:release': '2.0.0',
        'kiln:deployment-id': 'D1',
        'kiln:role': 'green',
      });
    });
  });

  describe('existingGreen', () => {
    const run = { deploymentId: 'D2', mode: 'deploy' as const };
    const kilns = (tags: Record<string, string>) => ({ tags: { 'kiln:managed': 'true', ...tags } });

    it('creates a group that does not exist', () => {
      expect(existingGreen(undefined, run)).toBe('create');
    });
    it('keeps the group this deployment made (a retried create)', () => {
      expect(existingGreen(kilns({ 'kiln:deployment-id': 'D2', 'kiln:role': 'green' }), run)).toBe('ours');
    });
    it('recreates the kept group of the same release on a redeploy after a rollback', () => {
      expect(existingGreen(kilns({ 'kiln:deployment-id': 'D1', 'kiln:role': 'retired' }), run)).toBe(
        'recreate',
      );
    });
    it('adopts the kept group when kiln rollback restores its release', () => {
      expect(existingGreen(kilns({ 'kiln:role': 'retired' }), { ...run, mode: 'rollback' })).toBe('adopt');
    });
    it('waits for a group being deleted', () => {
      expect(existingGreen({ ...kilns({}), status: 'Delete in progress' }, run)).toBe('wait-deleted');
    });
    it('refuses a group that is not Kiln-managed', () => {
      expect(existingGreen({ tags: { team: 'x' } }, run)).toBe('foreign');
    });
  });

  describe('groupReadiness', () => {
    const instance = (lifecycleState: string, healthStatus = 'Healthy') => ({
      instanceId: `i-${lifecycleState}`,
      lifecycleState,
      healthStatus,
    });

    it('is ready when as many healthy instances are InService as desired and none is pending', () => {
      const group = {
        capacity: { desired: 2 },
        instances: [instance('InService'), { ...instance('InService'), instanceId: 'i-2' }],
      };
      expect(groupReadiness(group)).toMatchObject({ ready: true, inService: 2, pending: 0 });
    });

    it('is not ready while an instance waits in its launch hook', () => {
      const group = {
        capacity: { desired: 2 },
        instances: [
          instance('InService'),
          { ...instance('InService'), instanceId: 'i-2' },
          instance('Pending:Wait'),
        ],
      };
      expect(groupReadiness(group)).toMatchObject({ ready: false, pending: 1, launched: 3 });
    });

    it('does not count an InService instance Auto Scaling found unhealthy', () => {
      const group = { capacity: { desired: 1 }, instances: [instance('InService', 'Unhealthy')] };
      expect(groupReadiness(group).ready).toBe(false);
    });
  });

  describe('unhealthyTargets', () => {
    it.each(['draining', 'initial', 'unhealthy', 'unused', 'unavailable', 'unhealthy.draining'])(
      'never counts a %s target as healthy',
      (state) => {
        expect(
          unhealthyTargets(['i-1'], [{ targetGroupArn: TG_A, targets: [{ instanceId: 'i-1', state }] }]),
        ).toEqual([{ instanceId: 'i-1', targetGroupArn: TG_A, state }]);
      },
    );

    it('counts an instance missing from a target group as not healthy', () => {
      const health = [
        { targetGroupArn: TG_A, targets: [{ instanceId: 'i-1', state: 'healthy' }] },
        { targetGroupArn: TG_B, targets: [] },
      ];
      expect(unhealthyTargets(['i-1'], health)).toEqual([
        { instanceId: 'i-1', targetGroupArn: TG_B, state: 'missing' },
      ]);
    });
  });

  describe('healthGate', () => {
    const healthy = [
      {
        targetGroupArn: TG_A,
        targets: [
          { instanceId: 'i-1', state: 'healthy' },
          { instanceId: 'i-2', state: 'healthy' },
        ],
      },
      {
        targetGroupArn: TG_B,
        targets: [
          { instanceId: 'i-1', state: 'healthy' },
          { instanceId: 'i-2', state: 'healthy' },
        ],
      },
    ];
    const gate = {
      instanceIds: ['i-1', 'i-2'],
      desired: 2,
      startedAt: 0,
      healthyForSeconds: 60,
      timeoutSeconds: 600,
    };

    it('starts counting at the first all-healthy look and waits', () => {
      expect(healthGate({ ...gate, health: healthy, now: 30_000 })).toMatchObject({
        outcome: 'waiting',
        healthySince: 30_000,
      });
    });

    it('passes once every target has been healthy for healthyForSeconds', () => {
      expect(healthGate({ ...gate, health: healthy, now: 90_000, healthySince: 30_000 })).toMatchObject({
        outcome: 'healthy',
      });
    });

    it('starts again after one unhealthy look', () => {
      const flapped = [
        healthy[0]!,
        {
          targetGroupArn: TG_B,
          targets: [
            { instanceId: 'i-1', state: 'healthy' },
            { instanceId: 'i-2', state: 'draining' },
          ],
        },
      ];
      const verdict = healthGate({ ...gate, health: flapped, now: 90_000, healthySince: 30_000 });
      expect(verdict.outcome).toBe('waiting');
      expect(verdict).not.toHaveProperty('healthySince');
    });

    it('does not pass with fewer green instances than desired', () => {
      expect(
        healthGate({
          ...gate,
          instanceIds: ['i-1'],
          desired: 2,
          health: healthy,
          now: 90_000,
          healthySince: 0,
        }).outcome,
      ).toBe('waiting');
    });

    it('fails after timeoutSeconds, naming what is not healthy', () => {
      const sick = [
        healthy[0]!,
        {
          targetGroupArn: TG_B,
          targets: [
            { instanceId: 'i-1', state: 'healthy' },
            { instanceId: 'i-2', state: 'unhealthy' },
          ],
        },
      ];
      const verdict = healthGate({ ...gate, health: sick, now: 600_000 });
      expect(verdict).toEqual({
        outcome: 'failed',
        reason:
          'health gate not passed within 600 s: i-2 unhealthy in targetgroup/web-b/2b3c4d5e6f7a8b9c (needed 60 s healthy)',
      });
    });

    it('passes at once with healthyForSeconds 0', () => {
      expect(healthGate({ ...gate, healthyForSeconds: 0, health: healthy, now: 1 }).outcome).toBe('healthy');
    });
  });

  describe('groupsBeyondKeep', () => {
    const kept = (name: string, at: string) => ({ name, tags: { [GROUP_TAGS.retiredAt]: at } });

    it('deletes the oldest kept groups beyond keepOldGroups, oldest first', () => {
      const groups = [
        kept('g-2', '2026-02-02T00:00:00.000Z'),
        kept('g-4', '2026-02-04T00:00:00.000Z'),
        kept('g-1', '2026-02-01T00:00:00.000Z'),
        kept('g-3', '2026-02-03T00:00:00.000Z'),
      ];
      expect(groupsBeyondKeep(groups, 2)).toEqual(['g-1', 'g-2']);
    });

    it('deletes every kept group with keepOldGroups 0', () => {
      expect(groupsBeyondKeep([kept('g-1', '2026-02-01T00:00:00.000Z')], 0)).toEqual(['g-1']);
    });

    it('deletes nothing within the bound', () => {
      expect(groupsBeyondKeep([kept('g-1', '2026-02-01T00:00:00.000Z')], 1)).toEqual([]);
    });
  });

  describe('retiredTags', () => {
    it('marks a group kept, with when it was retired', () => {
      expect(
        retiredTags({
          service: 'web',
          environment: 'prod',
          release: '1.0.0',
          at: Date.parse('2026-03-01T12:00:00Z'),
        }),
      ).toMatchObject({
        'kiln:role': 'retired',
        'kiln:retired-at': '2026-03-01T12:00:00.000Z',
        'kiln:release': '1.0.0',
      });
    });
  });

  describe('rollbackDeadline', () => {
    it("gives discarding green its longest target group's deregistration delay and the margin, whatever the gate", () => {
      expect(
        rollbackDeadline({
          kind: 'discard-green',
          healthGateTimeoutSeconds: 120,
          deregistrationDelaysSeconds: [300, 45],
        }),
      ).toEqual({ seconds: 600, why: 'deregistration delay 300 s + 300 s margin' });
    });

    it("adds the health gate's timeout for blue to serve again when restoring blue", () => {
      expect(
        rollbackDeadline({
          kind: 'restore-blue',
          healthGateTimeoutSeconds: 120,
          deregistrationDelaysSeconds: [3600],
        }),
      ).toEqual({ seconds: 4020, why: 'health gate 120 s + deregistration delay 3600 s + 300 s margin' });
    });

    it('always outlasts the longest drain, for any delays and gate', () => {
      fc.assert(
        fc.property(
          fc.constantFrom('discard-green' as const, 'restore-blue' as const),
          fc.integer({ min: 1, max: 3600 }),
          fc.array(fc.integer({ min: 0, max: 3600 }), { maxLength: 5 }),
          (kind, gate, delays) => {
            const { seconds } = rollbackDeadline({
              kind,
              healthGateTimeoutSeconds: gate,
              deregistrationDelaysSeconds: delays,
            });
            return delays.every((delay) => seconds > delay);
          },
        ),
      );
    });
  });

  describe('watchSeconds', () => {
    it('is the bake time, and at least 1 (a task timeout must be positive)', () => {
      expect(watchSeconds(300)).toBe(300);
      expect(watchSeconds(0)).toBe(1);
    });
  });
});
