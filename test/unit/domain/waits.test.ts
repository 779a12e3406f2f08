import {
  endsWait,
  TERMINAL_COMMAND_STATUSES,
  TERMINAL_IMAGE_STATES,
  wakeOutput,
} from '../../../shared/domain/waits';

describe('waits', () => {
  describe('endsWait', () => {
    it.each(TERMINAL_IMAGE_STATES)('ends an image wait when the image is %s', (state) => {
      expect(endsWait({ waitKind: 'image', state })).toBe(true);
    });

    it('does not end an image wait while the image is pending', () => {
      expect(endsWait({ waitKind: 'image', state: 'pending' })).toBe(false);
    });

    it.each(TERMINAL_COMMAND_STATUSES)('ends a command wait at %s', (state) => {
      expect(endsWait({ waitKind: 'command', state })).toBe(true);
    });

    it.each(['Pending', 'InProgress', 'Delayed', 'Cancelling'])(
      'does not end a command wait at %s',
      (state) => {
        expect(endsWait({ waitKind: 'command', state })).toBe(false);
      },
    );

    it('reads a status spelt with spaces as the API spells it', () => {
      expect(endsWait({ waitKind: 'command', state: 'Delivery Timed Out' })).toBe(true);
    });

    it.each([
      'Checkpoint Reached',
      'Succeeded',
      'Failed',
      'Cancelled',
      'Rollback Started',
      'Rollback Succeeded',
      'Rollback Failed',
    ])('ends a refresh wait on %s (the task reads the refresh itself)', (state) => {
      expect(endsWait({ waitKind: 'refresh', state })).toBe(true);
    });

    it('does not end a refresh wait when the refresh only started', () => {
      expect(endsWait({ waitKind: 'refresh', state: 'Started' })).toBe(false);
    });

    it('does not take an image state for a command status', () => {
      expect(endsWait({ waitKind: 'command', state: 'available' })).toBe(false);
      expect(endsWait({ waitKind: 'image', state: 'Success' })).toBe(false);
    });
  });

  describe('wakeOutput', () => {
    it('says what woke the task and nothing it should trust as a result', () => {
      expect(
        wakeOutput({ waitKind: 'image', key: 'ami-1', detailType: 'EC2 AMI State Change', state: 'failed' }),
      ).toEqual({ woken: 'event', detailType: 'EC2 AMI State Change', state: 'failed' });
    });
  });
});
