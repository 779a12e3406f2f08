import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countWaits, everyWaitEventLost, releasedState } from '../../../bench/bake';
import { createFaults } from '../../../sandbox/core/faults';
import { createRng } from '../../../sandbox/core/random';
import { SANDBOX_EPOCH } from '../../../sandbox/core/testing';

describe('the bake bench', () => {
  describe('countWaits', () => {
    it('counts one wait per stay in a check-and-wait loop, however many polls it took', () => {
      const states = [
        'SendCommand',
        'CheckCommand',
        'CommandDone',
        'WaitCommand',
        'CheckCommand',
        'CommandDone',
        'WaitCommand',
        'CheckCommand',
        'CommandDone',
        'AfterCommand',
        'CreateImage',
        'CheckImage',
        'ImageDone',
        'WaitImage',
        'CheckImage',
        'ImageDone',
        'TerminateBuilder',
      ];

      expect(countWaits(states)).toEqual({ waits: 2, waitEntries: 3 });
    });

    it('counts a second command (the smoke check) as a wait of its own', () => {
      const loop = [
        'SendCommand',
        'CheckCommand',
        'CommandDone',
        'WaitCommand',
        'CheckCommand',
        'CommandDone',
      ];
      const states = [...loop, 'AfterCommand', 'StartSmokeCheck', ...loop, 'AfterCommand'];

      expect(countWaits(states)).toEqual({ waits: 2, waitEntries: 2 });
    });

    it('counts no wait when the first check already finds the work done', () => {
      expect(countWaits(['CheckImage', 'ImageDone', 'TerminateBuilder'])).toEqual({
        waits: 0,
        waitEntries: 0,
      });
    });
  });

  describe('releasedState', () => {
    it('is the state the deploy ASL enters once RecordRelease has recorded the release', () => {
      const asl = JSON.parse(
        readFileSync(join(__dirname, '../../../statemachines/deploy.asl.json'), 'utf8'),
      ) as { States: Record<string, { Next?: string }> };

      expect(releasedState()).toBe(asl.States.RecordRelease?.Next);
      expect(asl.States).toHaveProperty(releasedState());
    });
  });

  describe('the events-lost fault plan', () => {
    it("loses exactly the events on-progress's rules in serverless.yml route, and no other", () => {
      const faults = createFaults(everyWaitEventLost(), {
        rng: createRng(1),
        clock: { now: () => SANDBOX_EPOCH },
      });
      const lost = (source: string, detailType: string) =>
        faults.should('event-loss', 'e', { source, detailType });

      expect([
        lost('aws.ec2', 'EC2 AMI State Change'),
        lost('aws.ssm', 'EC2 Command Status-change Notification'),
        lost('aws.ssm', 'EC2 Command Invocation Status-change Notification'),
        lost('aws.ec2', 'EC2 Instance State-change Notification'),
        lost('aws.s3', 'Object Created'),
      ]).toEqual([true, true, false, false, false]);
    });
  });
});
