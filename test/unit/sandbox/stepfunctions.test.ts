import FakeTimers from '@sinonjs/fake-timers';
import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { ExecutionAlreadyExists, InvalidName, TaskTimedOut } from '@aws-sdk/client-sfn';
import * as z from '../../../shared/domain/zod';
import { createTestContext, SANDBOX_EPOCH, type TestSimContext } from '../../../sandbox/core/testing';
import { StepFunctionsSim } from '../../../sandbox/services/stepfunctions';
import { executionName } from '../../../shared/domain/ids';
import { ExecutionStatusChangeEvent } from '../../../shared/events/execution-status';

type Invocation = { functionName: string; payload: unknown };

/** Lets promise chains settle between clock moves (the runner awaits between states). */
async function settle(clock: FakeTimers.Clock, ms = 0): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  if (ms > 0) await clock.tickAsync(ms);
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('StepFunctionsSim', () => {
  let clock: FakeTimers.Clock;
  let ctx: TestSimContext;
  let sfn: StepFunctionsSim;
  let invocations: Invocation[];
  let lambdaResults: Record<string, (payload: unknown) => unknown>;

  beforeEach(() => {
    clock = FakeTimers.withGlobal(globalThis).install({
      now: SANDBOX_EPOCH,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
    ctx = createTestContext(3, 'us-east-1', clock);
    invocations = [];
    lambdaResults = {};
    sfn = new StepFunctionsSim(ctx, {
      runAs: (_caller, fn) => fn(),
      invokeFunction: async (functionName, payload) => {
        invocations.push({ functionName, payload });
        const respond = lambdaResults[functionName];
        return respond ? respond(payload) : { ok: true };
      },
    });
  });

  afterEach(() => clock.uninstall());

  function deploy(states: object, startAt = Object.keys(states)[0]): string {
    return sfn.createStateMachine({
      name: 'deploy',
      definition: JSON.stringify({ StartAt: startAt, States: states }),
      substitutions: {
        RecordFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-record',
      },
    });
  }

  async function start(arn: string, name: string, input: object = {}): Promise<string> {
    const out = (await sfn.handle('StartExecution', {
      stateMachineArn: arn,
      name,
      input: JSON.stringify(input),
    })) as { executionArn: string };
    return out.executionArn;
  }

  async function describeExecution(
    executionArn: string,
  ): Promise<Omit<DescribeExecutionCommandOutput, '$metadata'>> {
    return (await sfn.handle('DescribeExecution', { executionArn })) as Omit<
      DescribeExecutionCommandOutput,
      '$metadata'
    >;
  }

  describe('executions', () => {
    it('runs Lambda tasks named through DefinitionSubstitutions and succeeds with their output', async () => {
      lambdaResults['kiln-sandbox-record'] = (payload) => ({ seen: payload });
      const arn = deploy({ Record: { Type: 'Task', Resource: '${RecordFunctionArn}', End: true } });
      const executionArn = await start(arn, 'svc-1.0.0', { service: 'checkout' });
      await settle(clock);
      const execution = await describeExecution(executionArn);
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output ?? '')).toEqual({ seen: { service: 'checkout' } });
      expect(invocations).toEqual([
        { functionName: 'kiln-sandbox-record', payload: { service: 'checkout' } },
      ]);
    });

    it('wraps lambda:invoke results in Payload, as the optimized integration does', async () => {
      const arn = deploy({
        Invoke: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: '${RecordFunctionArn}', 'Payload.$': '$' },
          End: true,
        },
      });
      const executionArn = await start(arn, 'wrap');
      await settle(clock);
      expect(JSON.parse((await describeExecution(executionArn)).output ?? '')).toEqual({
        ExecutedVersion: '$LATEST',
        Payload: { ok: true },
        StatusCode: 200,
      });
    });

    it('spends virtual time, not wall time, in a Wait state', async () => {
      const arn = deploy({
        Bake: { Type: 'Wait', Seconds: 1800, Next: 'Done' },
        Done: { Type: 'Succeed' },
      });
      const executionArn = await start(arn, 'bake-time');
      await settle(clock, 1_799_000);
      expect((await describeExecution(executionArn)).status).toBe('RUNNING');
      await settle(clock, 1_000);
      expect((await describeExecution(executionArn)).status).toBe('SUCCEEDED');
    });

    it("gives Task states AWS's default timeout instead of the local runner's 60 seconds", async () => {
      lambdaResults['kiln-sandbox-record'] = () =>
        new Promise((resolve) => setTimeout(() => resolve('late'), 120_000));
      const arn = deploy({ Record: { Type: 'Task', Resource: '${RecordFunctionArn}', End: true } });
      const executionArn = await start(arn, 'slow-task');
      await settle(clock, 121_000);
      expect((await describeExecution(executionArn)).status).toBe('SUCCEEDED');
    });

    it('counts state transitions', async () => {
      const arn = deploy({
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Pass', Next: 'C' },
        C: { Type: 'Succeed' },
      });
      const executionArn = await start(arn, 'three');
      await settle(clock);
      expect(sfn.execution(executionArn)?.transitions).toBe(3);
    });

    it('counts Retry attempts apart from state entries, as AWS bills each retry as a transition', async () => {
      let calls = 0;
      lambdaResults['kiln-sandbox-record'] = () => {
        calls++;
        if (calls <= 2) {
          const error = new Error('EC2 answered 503');
          error.name = 'TransientAwsError';
          throw error;
        }
        return 'recorded';
      };
      const arn = deploy({
        Record: {
          Type: 'Task',
          Resource: '${RecordFunctionArn}',
          Retry: [{ ErrorEquals: ['TransientAwsError'], IntervalSeconds: 1, MaxAttempts: 3 }],
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
      });
      const executionArn = await start(arn, 'retried');
      await settle(clock, 1_000);
      await settle(clock, 2_000);
      await settle(clock, 4_000);
      expect((await describeExecution(executionArn)).status).toBe('SUCCEEDED');
      expect(sfn.execution(executionArn)).toMatchObject({ transitions: 2, retries: 2 });
    });

    it('fails with the error name the task threw, so Catch can match it', async () => {
      lambdaResults['kiln-sandbox-record'] = () => {
        const error = new Error('staging is locked by d-1');
        error.name = 'LockHeldError';
        throw error;
      };
      const arn = deploy({
        Record: {
          Type: 'Task',
          Resource: '${RecordFunctionArn}',
          Catch: [{ ErrorEquals: ['LockHeldError'], ResultPath: '$.error', Next: 'Queued' }],
          End: true,
        },
        Queued: { Type: 'Fail', Error: 'Queued', Cause: 'another deployment holds the lock' },
      });
      const executionArn = await start(arn, 'locked');
      await settle(clock);
      const execution = await describeExecution(executionArn);
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('Queued');
    });
  });

  // https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html: "Unhandled
  // errors in Lambda are reported as Lambda.Unknown … These include out-of-memory errors and
  // function timeouts."
  describe('a Task whose function runtime crashed', () => {
    function crashWith(errorType: string) {
      lambdaResults['kiln-sandbox-record'] = () => {
        const error = new Error('RequestId: simulated Error: Runtime exited with error: signal: killed');
        error.name = errorType;
        throw error;
      };
    }
    const machine = () =>
      deploy({
        Record: {
          Type: 'Task',
          Resource: '${RecordFunctionArn}',
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Crashed' }],
          End: true,
        },
        Crashed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
      });

    it.each(['Runtime.ExitError', 'Sandbox.Timedout'])('fails with Lambda.Unknown for %s', async (type) => {
      crashWith(type);
      const executionArn = await start(machine(), `crash-${type.replace('.', '-')}`);
      await settle(clock);
      const execution = await describeExecution(executionArn);
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('Lambda.Unknown');
      expect(execution.cause).toContain(type);
    });

    it('keeps the name of an error the function threw itself', async () => {
      crashWith('BakeFailedError');
      const executionArn = await start(machine(), 'own-error');
      await settle(clock);
      expect((await describeExecution(executionArn)).error).toBe('BakeFailedError');
    });
  });

  // A reference path (dots and indexes only) names a single node, so `$[0].imageId` yields the
  // value, not a one-element list; moto 5.2.1's engine departs here (README, Testing).
  // https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
  describe('payload template paths with an index', () => {
    it('selects the branch\'s value in a Parallel\'s ResultSelector ("$[0].imageId")', async () => {
      lambdaResults['kiln-sandbox-record'] = () => ({ imageId: 'ami-0baked' });
      const arn = deploy({
        Build: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'CreateImage',
              States: { CreateImage: { Type: 'Task', Resource: '${RecordFunctionArn}', End: true } },
            },
          ],
          ResultSelector: { 'imageId.$': '$[0].imageId' },
          ResultPath: '$.image',
          End: true,
        },
      });
      const executionArn = await start(arn, 'index-result-selector', { service: 'checkout' });
      await settle(clock);
      expect(JSON.parse((await describeExecution(executionArn)).output ?? '')).toEqual({
        service: 'checkout',
        image: { imageId: 'ami-0baked' },
      });
    });

    it('selects the value in Parameters ("$.copies[1].imageId")', async () => {
      const arn = deploy({
        Pick: { Type: 'Pass', Parameters: { 'imageId.$': '$.copies[1].imageId' }, End: true },
      });
      const executionArn = await start(arn, 'index-parameters', {
        copies: [{ imageId: 'ami-0eu' }, { imageId: 'ami-0us' }],
      });
      await settle(clock);
      expect(JSON.parse((await describeExecution(executionArn)).output ?? '')).toEqual({
        imageId: 'ami-0us',
      });
    });
  });

  describe('definitions', () => {
    it('refuses the first StartExecution of an invalid definition, naming the machine, and starts nothing', async () => {
      const arn = deploy({ Broken: { Type: 'Bogus', End: true } });
      await expect(start(arn, 'first')).rejects.toThrow(/^state machine deploy: .*definition is invalid/);
      expect(sfn.running()).toHaveLength(0);
      expect(ctx.entries).toEqual([]);
      expect(ctx.events).toEqual([]);
    });
  });

  describe('StartExecution names', () => {
    const states = { Hold: { Type: 'Wait', Seconds: 600, End: true } };

    it('returns the running execution for the same name and input (idempotent start)', async () => {
      const arn = deploy(states);
      const first = await start(arn, 'checkout-1.2.3', { v: 1 });
      const second = await start(arn, 'checkout-1.2.3', { v: 1 });
      expect(second).toBe(first);
      expect(sfn.running()).toHaveLength(1);
    });

    it('rejects the same name with a different input with ExecutionAlreadyExists', async () => {
      const arn = deploy(states);
      await start(arn, 'checkout-1.2.3', { v: 1 });
      await expect(start(arn, 'checkout-1.2.3', { v: 2 })).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    });

    it('rejects the name of a closed execution even with the same input', async () => {
      const arn = deploy(states);
      await start(arn, 'checkout-1.2.3', { v: 1 });
      await settle(clock, 600_000);
      await expect(start(arn, 'checkout-1.2.3', { v: 1 })).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    });

    it('accepts Kiln’s execution names, even for the longest service, version and digest', async () => {
      const arn = deploy(states);
      const name = executionName({
        service: 's'.repeat(40),
        version: `1.${'0'.repeat(62)}`,
        digest: `sha256:${'f'.repeat(505)}`,
      });
      expect(await start(arn, name)).toMatch(new RegExp(`:${name}$`));
    });

    it.each(['has space', 'a/b', 'x'.repeat(81), 'semi;colon', ''])(
      'rejects the invalid name %j',
      async (name) => {
        const arn = deploy(states);
        await expect(start(arn, name)).rejects.toBeInstanceOf(InvalidName);
      },
    );
  });

  describe('callback tasks (.waitForTaskToken)', () => {
    function callbackMachine(extra: object = {}): string {
      return deploy({
        WaitForRefresh: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: '${RecordFunctionArn}',
            Payload: { 'token.$': '$$.Task.Token', 'refreshId.$': '$.refreshId' },
          },
          ...extra,
          End: true,
        },
      });
    }

    function tokenOf(index: number): string {
      const payload = invocations[index]?.payload as { token?: string } | undefined;
      if (!payload?.token) throw new Error(`invocation ${index} carried no task token`);
      return payload.token;
    }

    it('hands the task a fresh token and resumes with the output of SendTaskSuccess', async () => {
      const executionArn = await start(callbackMachine(), 'cb-1', { refreshId: 'r-1' });
      await settle(clock, 5_000);
      expect((await describeExecution(executionArn)).status).toBe('RUNNING');
      await sfn.handle('SendTaskSuccess', {
        taskToken: tokenOf(0),
        output: JSON.stringify({ status: 'Successful' }),
      });
      await settle(clock);
      const execution = await describeExecution(executionArn);
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output ?? '')).toEqual({ status: 'Successful' });
    });

    it('fails the task with the error given to SendTaskFailure', async () => {
      const executionArn = await start(callbackMachine(), 'cb-2', { refreshId: 'r-2' });
      await settle(clock);
      await sfn.handle('SendTaskFailure', {
        taskToken: tokenOf(0),
        error: 'RefreshFailedError',
        cause: 'boom',
      });
      await settle(clock);
      expect(await describeExecution(executionArn)).toMatchObject({
        status: 'FAILED',
        error: 'RefreshFailedError',
      });
    });

    it('times out a task whose heartbeat stops, and a late success gets TaskTimedOut', async () => {
      const executionArn = await start(callbackMachine({ HeartbeatSeconds: 60 }), 'cb-3', {
        refreshId: 'r-3',
      });
      await settle(clock, 50_000);
      await sfn.handle('SendTaskHeartbeat', { taskToken: tokenOf(0) });
      await settle(clock, 50_000);
      expect((await describeExecution(executionArn)).status).toBe('RUNNING');
      await settle(clock, 11_000);
      expect(await describeExecution(executionArn)).toMatchObject({
        status: 'FAILED',
        error: 'States.HeartbeatTimeout',
      });
      await expect(
        sfn.handle('SendTaskSuccess', { taskToken: tokenOf(0), output: '{}' }),
      ).rejects.toBeInstanceOf(TaskTimedOut);
    });

    // "TimeoutSecondsPath: … provide a timeout value dynamically from the state input using a
    // reference path" (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html): the
    // state input, not what Parameters made of it.
    it('reads TimeoutSecondsPath from the state input, not from the Parameters', async () => {
      const arn = deploy({
        WaitForGate: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: '${RecordFunctionArn}',
            Payload: { 'token.$': '$$.Task.Token', 'refreshId.$': '$.refreshId' },
          },
          TimeoutSecondsPath: '$.gate.seconds',
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'TimedOut' }],
          End: true,
        },
        TimedOut: { Type: 'Succeed' },
      });
      const executionArn = await start(arn, 'cb-path', { refreshId: 'r-path', gate: { seconds: 120 } });
      await settle(clock, 119_000);
      expect((await describeExecution(executionArn)).status).toBe('RUNNING');
      await settle(clock, 2_000);
      expect((await describeExecution(executionArn)).status).toBe('SUCCEEDED');
      expect(invocations[0]?.payload).toEqual({ token: tokenOf(0), refreshId: 'r-path' });
    });

    it('gives each retry attempt of a callback task a new token', async () => {
      let calls = 0;
      lambdaResults['kiln-sandbox-record'] = () => {
        calls++;
        return null;
      };
      const executionArn = await start(
        callbackMachine({
          TimeoutSeconds: 30,
          Retry: [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 1, MaxAttempts: 1 }],
        }),
        'cb-4',
        { refreshId: 'r-4' },
      );
      await settle(clock, 31_000);
      await settle(clock, 2_000);
      expect(calls).toBe(2);
      expect(tokenOf(1)).not.toBe(tokenOf(0));
      await sfn.handle('SendTaskSuccess', { taskToken: tokenOf(1), output: '{"done":true}' });
      await settle(clock);
      expect((await describeExecution(executionArn)).status).toBe('SUCCEEDED');
    });
  });

  describe('StopExecution', () => {
    it('aborts a running execution and retires its task tokens', async () => {
      const arn = deploy({
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: '${RecordFunctionArn}', Payload: { 'token.$': '$$.Task.Token' } },
          End: true,
        },
      });
      const executionArn = await start(arn, 'stop-me');
      await settle(clock);
      await sfn.handle('StopExecution', { executionArn, error: 'OperatorAbort', cause: 'aborted from chat' });
      await settle(clock);
      expect(await describeExecution(executionArn)).toMatchObject({
        status: 'ABORTED',
        error: 'OperatorAbort',
      });
      const token = (invocations[0]?.payload as { token: string }).token;
      await expect(sfn.handle('SendTaskSuccess', { taskToken: token, output: '{}' })).rejects.toBeInstanceOf(
        TaskTimedOut,
      );
    });
  });

  // https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html: an event on every status
  // change, its detail what DescribeExecution says.
  describe('Execution Status Change events', () => {
    const waiting = {
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: '${RecordFunctionArn}', Payload: { 'token.$': '$$.Task.Token' } },
        End: true,
      },
    };
    const statusEvents = () =>
      ctx.events
        .filter((e) => e['detail-type'] === 'Step Functions Execution Status Change')
        .map((e) => z.parse(ExecutionStatusChangeEvent, e));

    it('sends RUNNING, then ABORTED when StopExecution stops the execution', async () => {
      const arn = deploy(waiting);
      const executionArn = await start(arn, 'stop-me');
      await settle(clock);
      await sfn.handle('StopExecution', { executionArn });
      await settle(clock);

      expect(statusEvents().map((e) => [e.detail.status, e.detail.name, e.detail.stateMachineArn])).toEqual([
        ['RUNNING', 'stop-me', arn],
        ['ABORTED', 'stop-me', arn],
      ]);
      expect(statusEvents()[1]?.resources).toEqual([executionArn]);
    });

    it('sends TIMED_OUT when the machine’s top-level TimeoutSeconds runs out', async () => {
      const arn = sfn.createStateMachine({
        name: 'bounded',
        definition: JSON.stringify({ StartAt: 'Wait', TimeoutSeconds: 300, States: waiting }),
        substitutions: {
          RecordFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-record',
        },
      });
      const executionArn = await start(arn, 'slow');
      await settle(clock, 299_000);
      expect((await describeExecution(executionArn)).status).toBe('RUNNING');
      await settle(clock, 2_000);

      expect((await describeExecution(executionArn)).status).toBe('TIMED_OUT');
      expect(statusEvents().map((e) => e.detail.status)).toEqual(['RUNNING', 'TIMED_OUT']);
    });
  });
});
