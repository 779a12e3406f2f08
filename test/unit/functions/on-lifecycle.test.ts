import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createOnLifecycleHandler } from '../../../functions/on-lifecycle';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as Record<string, unknown>;

const context = {
  functionName: 'kiln-test-on-lifecycle',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30000,
} as Context;

const MACHINE = 'arn:aws:states:us-west-2:123456789012:stateMachine:kiln-test-lifecycle';
const NOW = Date.parse('2026-06-01T09:00:00.000Z');
const sfnMock = mockClient(SFNClient);

describe('on-lifecycle', () => {
  let handler: ReturnType<typeof createOnLifecycleHandler>;

  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });

  beforeEach(() => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: `${MACHINE}:x`, startDate: new Date(NOW) });
    const sfn = new SFNClient({ region: 'us-west-2', maxAttempts: 1 });
    handler = createOnLifecycleHandler(() => ({ sfn, lifecycleStateMachineArn: MACHINE, now: () => NOW }));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const started = () => sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);

  describe('with AWS’s documented events', () => {
    it.each([
      ['instance-terminate-lifecycle-action.json', 'terminate'],
      ['instance-launch-lifecycle-action.json', 'launch'],
    ])(
      'starts one handling of %s named after the instance, transition and hook',
      async (file, transition) => {
        const result = await handler(fixture(`autoscaling/${file}`), context);
        expect(result).toEqual({
          outcome: 'started',
          execution: `i-1234567890abcdef0-${transition}-my-lifecycle-hook`,
        });
        const [input] = started();
        expect(input?.stateMachineArn).toBe(MACHINE);
        expect(JSON.parse(input?.input ?? '{}')).toEqual({
          action: {
            region: 'us-west-2',
            groupName: 'my-asg',
            instanceId: 'i-1234567890abcdef0',
            transition,
            hookName: 'my-lifecycle-hook',
            token: '87654321-4321-4321-4321-210987654321',
            // The sample's time is a placeholder: the action opened about now.
            startedAt: NOW,
            source: 'event',
          },
          progress: { phase: 'begin', next: 'wait' },
        });
      },
    );
  });

  it('answers a duplicate delivery as already handled', async () => {
    sfnMock.on(StartExecutionCommand).rejects(
      new ExecutionAlreadyExists({
        message: 'Execution Already Exists',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const result = await handler(fixture('autoscaling/instance-terminate-lifecycle-action.json'), context);
    expect(result).toMatchObject({ outcome: 'already-started' });
  });

  it('refuses an event without an instance id, naming the field, and starts nothing', async () => {
    const event = fixture('autoscaling/instance-terminate-lifecycle-action.json');
    const detail = { ...(event.detail as Record<string, unknown>) };
    delete detail.EC2InstanceId;
    const result = await handler({ ...event, detail }, context);
    expect(result).toMatchObject({ ignored: true, reason: expect.stringContaining('EC2InstanceId') });
    expect(started()).toEqual([]);
  });

  it('refuses a transition that does not match the detail-type and starts nothing', async () => {
    const event = fixture('autoscaling/instance-terminate-lifecycle-action.json');
    const detail = {
      ...(event.detail as Record<string, unknown>),
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    };
    const result = await handler({ ...event, detail }, context);
    expect(result).toMatchObject({ ignored: true });
    expect(started()).toEqual([]);
  });
});
