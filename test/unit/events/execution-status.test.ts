import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SweepEventSchema } from '../../../shared/events/execution-status';
import { InvalidInputError } from '../../../shared/runtime/errors';
import { parseOrThrow } from '../../../shared/runtime/validation';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as Record<string, unknown>;

const parse = (event: unknown) => parseOrThrow(SweepEventSchema, event, 'sweep event');

function refusal(event: unknown): InvalidInputError {
  try {
    parse(event);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('the event was accepted');
}

describe('sweep-bakes events', () => {
  describe('Step Functions Execution Status Change', () => {
    it.each([
      ['stepfunctions/execution-status-change-aborted.json', 'ABORTED'],
      ['stepfunctions/execution-status-change-timed-out.json', 'TIMED_OUT'],
      ['stepfunctions/execution-status-change-failed.json', 'FAILED'],
    ])('reads the documented sample %s as a request to sweep that execution’s deployment', (file, status) => {
      expect(parse(fixture(file))).toEqual({
        kind: 'execution',
        deploymentId: 'execution-name',
        stateMachineArn: 'arn:aws:states:us-east-1:012345678912:stateMachine:state-machine',
        status,
      });
    });

    it('refuses an event without the execution name, naming the field', () => {
      const event = structuredClone(fixture('stepfunctions/execution-status-change-aborted.json'));
      delete (event.detail as Record<string, unknown>).name;
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['detail.name']);
    });

    it('refuses a state machine ARN that is not one, naming the field', () => {
      const event = structuredClone(fixture('stepfunctions/execution-status-change-aborted.json'));
      (event.detail as Record<string, unknown>).stateMachineArn = 'deploy';
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['detail.stateMachineArn']);
    });

    it('refuses the event from a source other than aws.states', () => {
      const event = structuredClone(fixture('stepfunctions/execution-status-change-aborted.json'));
      event.source = 'my.ci';
      expect(refusal(event).issues.map((i) => i.field)).toEqual(['source']);
    });
  });

  it('refuses a scheduled event, naming the field: the schedule is the reconciler’s now', () => {
    expect(refusal(fixture('events/scheduled-event.json')).issues.map((i) => i.field)).toEqual([
      'detail-type',
    ]);
  });

  it('refuses any other detail-type, naming the field', () => {
    const event = { ...fixture('ec2/ami-state-change-available.json') };
    expect(refusal(event).issues.map((i) => i.field)).toEqual(['detail-type']);
  });
});
