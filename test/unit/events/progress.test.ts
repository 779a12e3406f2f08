import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRoutes } from '../../../sandbox/core/routes';
import { PROGRESS_DETAIL_TYPES, ProgressEventSchema } from '../../../shared/events/progress';
import { InvalidInputError } from '../../../shared/runtime/errors';
import { parseOrThrow } from '../../../shared/runtime/validation';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as Record<string, unknown>;

const parse = (event: unknown) => parseOrThrow(ProgressEventSchema, event, 'progress event');

function refusal(event: unknown): InvalidInputError {
  try {
    parse(event);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('the event was accepted');
}

describe('progress events', () => {
  describe('EC2 AMI State Change', () => {
    it.each([
      ['ec2/ami-state-change-available.json', 'available'],
      ['ec2/ami-state-change-failed.json', 'failed'],
    ])('reads the documented sample %s as a signal for the image', (file, state) => {
      expect(parse(fixture(file))).toEqual({
        waitKind: 'image',
        key: 'ami-0123456789example',
        detailType: 'EC2 AMI State Change',
        state,
      });
    });

    it('refuses an event without an image id, naming the field', () => {
      const event = structuredClone(fixture('ec2/ami-state-change-available.json'));
      delete (event.detail as Record<string, unknown>).ImageId;
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['detail.ImageId']);
    });

    it('refuses an image id the store could not key a token by, naming the field', () => {
      const event = structuredClone(fixture('ec2/ami-state-change-available.json'));
      (event.detail as Record<string, unknown>).ImageId = 'ami#1';
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['detail.ImageId']);
    });

    it('refuses an AMI event that does not come from EC2', () => {
      const event = {
        ...structuredClone(fixture('ec2/ami-state-change-available.json')),
        source: 'com.acme',
      };
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['source']);
    });

    it('accepts a state it does not know (waits.ts decides whether it wakes)', () => {
      const event = structuredClone(fixture('ec2/ami-state-change-available.json'));
      (event.detail as Record<string, unknown>).State = 'some-future-state';
      expect(parse(event)).toMatchObject({ state: 'some-future-state' });
    });
  });

  describe('EC2 Command Status-change Notification', () => {
    it('reads the documented sample as a signal for the command', () => {
      expect(parse(fixture('ssm/command-status-change.json'))).toEqual({
        waitKind: 'command',
        key: 'e8d3c0e4-71f7-4491-898f-c9b35bee5f3b',
        detailType: 'EC2 Command Status-change Notification',
        state: 'Success',
      });
    });

    it('refuses an event without a status, naming the field', () => {
      const event = structuredClone(fixture('ssm/command-status-change.json'));
      delete (event.detail as Record<string, unknown>).status;
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['detail.status']);
    });
  });

  describe('EC2 Auto Scaling Instance Refresh events', () => {
    it.each([
      ['autoscaling/instance-refresh-checkpoint-reached.json', 'Checkpoint Reached'],
      ['autoscaling/instance-refresh-succeeded.json', 'Succeeded'],
      ['autoscaling/instance-refresh-failed.json', 'Failed'],
      ['autoscaling/instance-refresh-cancelled.json', 'Cancelled'],
      ['autoscaling/instance-refresh-rollback-started.json', 'Rollback Started'],
      ['autoscaling/instance-refresh-rollback-succeeded.json', 'Rollback Succeeded'],
      ['autoscaling/instance-refresh-rollback-failed.json', 'Rollback Failed'],
    ])('reads the documented sample %s as a signal for the refresh', (file, state) => {
      const event = fixture(file);
      expect(parse(event)).toEqual({
        waitKind: 'refresh',
        key: (event.detail as { InstanceRefreshId: string }).InstanceRefreshId,
        detailType: event['detail-type'],
        state,
      });
    });

    it('refuses an event without a refresh id, naming the field', () => {
      const event = structuredClone(fixture('autoscaling/instance-refresh-failed.json'));
      delete (event.detail as Record<string, unknown>).InstanceRefreshId;
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['detail.InstanceRefreshId']);
    });

    it('refuses a refresh event that does not come from Auto Scaling', () => {
      const event = {
        ...structuredClone(fixture('autoscaling/instance-refresh-succeeded.json')),
        source: 'com.acme',
      };
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['source']);
    });

    it('reads Started too (it ends no wait: shared/domain/waits.ts)', () => {
      expect(parse(fixture('autoscaling/instance-refresh-started.json'))).toMatchObject({
        waitKind: 'refresh',
        state: 'Started',
      });
    });
  });

  it('refuses a detail-type it does not handle, naming the field', () => {
    expect(refusal(fixture('ssm/command-invocation-status-change.json')).issues.map((i) => i.field)).toEqual([
      'detail-type',
    ]);
  });

  it('handles exactly the detail-types serverless.yml routes to on-progress', () => {
    const routes = loadRoutes(join(__dirname, '../../../serverless.yml'), { stage: 'sandbox' });
    const routed = routes.eventBridge
      .filter((route) => route.functionName === 'onProgress')
      .flatMap((route) => (route.pattern as { 'detail-type'?: string[] })['detail-type'] ?? []);
    expect(routed.sort()).toEqual([...PROGRESS_DETAIL_TYPES].sort());
  });
});
