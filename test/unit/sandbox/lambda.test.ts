import type { Context } from 'aws-lambda';
import { countInvocationCall } from '../../../sandbox/core/metering';
import { createTestContext, type TestSimContext } from '../../../sandbox/core/testing';
import {
  ASYNC_RETRY_DELAYS_MS,
  LambdaSim,
  type InvocationRecord,
  type LambdaHandler,
} from '../../../sandbox/services/lambda';

describe('LambdaSim', () => {
  let ctx: TestSimContext;
  let lambda: LambdaSim;
  let calls: Array<{ event: unknown; context: Context; at: number; caller: string }>;
  let currentCaller: string;
  let destination: Array<{ arn: string; record: InvocationRecord }>;
  const DLQ = 'arn:aws:sqs:us-east-1:123456789012:kiln-sandbox-dead-letters';

  function register(
    name: string,
    handler: LambdaHandler,
    settings: { maximumRetryAttempts?: number; onFailure?: string } = {},
  ): void {
    lambda.register({
      name,
      key: name.replace('kiln-sandbox-', ''),
      load: async () => handler,
      timeoutSeconds: 30,
      memorySizeMb: 512,
      ...settings,
    });
  }

  beforeEach(() => {
    ctx = createTestContext(1);
    calls = [];
    destination = [];
    currentCaller = 'none';
    lambda = new LambdaSim(ctx, {
      sendToDestination: (arn, record) => {
        destination.push({ arn, record });
        return arn === DLQ;
      },
      runAs: async (caller, fn) => {
        const previous = currentCaller;
        currentCaller = caller;
        try {
          return await fn();
        } finally {
          currentCaller = previous;
        }
      },
    });
  });

  describe('synchronous invocation', () => {
    it('runs the handler with a Lambda-shaped context, as its own caller, and returns its result', async () => {
      register('kiln-sandbox-record', async (event, context) => {
        calls.push({ event, context, at: ctx.clock.now(), caller: currentCaller });
        return { ok: true };
      });
      await expect(lambda.invoke('kiln-sandbox-record', { a: 1 })).resolves.toEqual({ ok: true });
      const [call] = calls;
      expect(call?.caller).toBe('fn:record');
      expect(call?.context).toMatchObject({
        functionName: 'kiln-sandbox-record',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-record',
        memoryLimitInMB: '512',
      });
      expect(call?.context.getRemainingTimeInMillis()).toBe(30_000);
    });

    it('hands the handler its own copy of the event', async () => {
      const event = { list: [1] };
      register('kiln-sandbox-mutate', async (e) => {
        (e as { list: number[] }).list.push(2);
        return null;
      });
      await lambda.invoke('kiln-sandbox-mutate', event);
      expect(event.list).toEqual([1]);
    });

    it('passes the error on without retrying', async () => {
      let attempts = 0;
      register('kiln-sandbox-fail', async () => {
        attempts++;
        throw new Error('boom');
      });
      await expect(lambda.invoke('kiln-sandbox-fail', {})).rejects.toThrow('boom');
      await ctx.fakeClock.tickAsync(10 * 60_000);
      expect(attempts).toBe(1);
    });

    it('rejects an unknown function with ResourceNotFoundException', async () => {
      await expect(lambda.invoke('nope', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });

  describe('asynchronous invocation (EventBridge targets)', () => {
    it('retries a failing function twice, one and then two minutes apart, then drops the event', async () => {
      register('kiln-sandbox-flaky', async () => {
        calls.push({ event: null, context: {} as Context, at: ctx.clock.now(), caller: currentCaller });
        throw new Error('still failing');
      });
      lambda.invokeAsync('kiln-sandbox-flaky', {});
      expect(lambda.asyncInFlight).toBe(1);
      await ctx.fakeClock.tickAsync(10 * 60_000);
      const start = calls[0]?.at ?? 0;
      expect(calls.map((c) => c.at - start)).toEqual([
        0,
        ASYNC_RETRY_DELAYS_MS[0],
        ASYNC_RETRY_DELAYS_MS[0] + ASYNC_RETRY_DELAYS_MS[1],
      ]);
      expect(lambda.asyncInFlight).toBe(0);
      expect(
        ctx.entries.some((e) => e.kind === 'log' && e.message.includes('dropped after 3 failed attempts')),
      ).toBe(true);
    });

    it('stops retrying once an attempt succeeds', async () => {
      let attempts = 0;
      register('kiln-sandbox-recovers', async () => {
        attempts++;
        if (attempts === 1) throw new Error('first try fails');
        return 'ok';
      });
      lambda.invokeAsync('kiln-sandbox-recovers', {});
      await ctx.fakeClock.tickAsync(10 * 60_000);
      expect(attempts).toBe(2);
      expect(lambda.invocations.map((i) => i.ok)).toEqual([false, true]);
    });

    it('never runs the handler inside the caller’s own turn', () => {
      register('kiln-sandbox-later', async () => 'ok');
      lambda.invokeAsync('kiln-sandbox-later', {});
      expect(lambda.invocations).toEqual([]);
    });
  });

  describe('on-failure destination', () => {
    it('sends the documented invocation record once every attempt failed', async () => {
      register(
        'kiln-sandbox-broken',
        async () => {
          throw new TypeError('cannot read properties of undefined');
        },
        { onFailure: DLQ },
      );
      lambda.invokeAsync('kiln-sandbox-broken', { id: 'e1', source: 'aws.s3' });
      await ctx.fakeClock.tickAsync(10 * 60_000);

      expect(destination).toEqual([
        {
          arn: DLQ,
          record: {
            version: '1.0',
            timestamp: new Date(ctx.fakeClock.now - 10 * 60_000 + 180_000).toISOString(),
            requestContext: {
              requestId: expect.any(String),
              functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-broken:$LATEST',
              condition: 'RetriesExhausted',
              approximateInvokeCount: 3,
            },
            requestPayload: { id: 'e1', source: 'aws.s3' },
            responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
            responsePayload: {
              errorType: 'TypeError',
              errorMessage: 'cannot read properties of undefined',
              trace: [],
            },
          },
        },
      ]);
      expect(ctx.entries).toContainEqual(
        expect.objectContaining({
          message:
            'lambda kiln-sandbox-broken: event sent to the on-failure destination after 3 failed attempts',
        }),
      );
    });

    it('retries only as often as MaximumRetryAttempts says', async () => {
      let attempts = 0;
      register(
        'kiln-sandbox-once',
        async () => {
          attempts++;
          throw new Error('no');
        },
        { maximumRetryAttempts: 0, onFailure: DLQ },
      );
      lambda.invokeAsync('kiln-sandbox-once', {});
      await ctx.fakeClock.tickAsync(10 * 60_000);
      expect(attempts).toBe(1);
      expect(destination[0]?.record.requestContext.approximateInvokeCount).toBe(1);
    });
  });

  describe('Invoke through the SDK', () => {
    const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

    it('queues an Event invocation (202) by name or ARN, with the payload as the event', async () => {
      register('kiln-sandbox-target', async (event) => {
        calls.push({ event, context: {} as Context, at: ctx.clock.now(), caller: currentCaller });
        return null;
      });
      await expect(
        lambda.handle('Invoke', {
          FunctionName: 'kiln-sandbox-target',
          InvocationType: 'Event',
          Payload: payload({ n: 1 }),
        }),
      ).resolves.toEqual({ StatusCode: 202 });
      await expect(
        lambda.handle('Invoke', {
          FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-target:$LATEST',
          InvocationType: 'Event',
          Payload: payload({ n: 2 }),
        }),
      ).resolves.toEqual({ StatusCode: 202 });
      expect(calls).toEqual([]);
      await ctx.fakeClock.tickAsync(1_000);
      expect(calls.map((c) => c.event)).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('answers DryRun with 204 and runs nothing', async () => {
      register('kiln-sandbox-dry', async () => {
        throw new Error('must not run');
      });
      await expect(
        lambda.handle('Invoke', { FunctionName: 'kiln-sandbox-dry', InvocationType: 'DryRun' }),
      ).resolves.toEqual({
        StatusCode: 204,
      });
      await ctx.fakeClock.tickAsync(1_000);
      expect(lambda.invocations).toEqual([]);
    });

    it('refuses an unknown function with ResourceNotFoundException and an unparsable payload with InvalidRequestContentException', async () => {
      register('kiln-sandbox-known', async () => null);
      await expect(
        lambda.handle('Invoke', { FunctionName: 'nope', InvocationType: 'Event' }),
      ).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      await expect(
        lambda.handle('Invoke', {
          FunctionName: 'kiln-sandbox-known',
          InvocationType: 'Event',
          Payload: new TextEncoder().encode('{not json'),
        }),
      ).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
    });
  });

  describe('the handler-crash fault', () => {
    it('fails the invocation as a crashed runtime before the handler runs', async () => {
      let ran = false;
      register('kiln-sandbox-crashy', async () => {
        ran = true;
        return 'ok';
      });
      ctx.activeFaults.add('handler-crash:kiln-sandbox-crashy');
      await expect(lambda.invoke('kiln-sandbox-crashy', {})).rejects.toMatchObject({
        name: 'Runtime.ExitError',
      });
      expect(ran).toBe(false);
    });
  });

  describe('metering (what the cost estimate of the bench reads)', () => {
    it('records the virtual time an attempt spanned and that only the first one loaded the function', async () => {
      register('kiln-sandbox-wait', async () => {
        await new Promise((resolve) => ctx.clock.setTimeout(() => resolve(undefined), 1500));
        return null;
      });
      const first = lambda.invoke('kiln-sandbox-wait', {});
      await ctx.fakeClock.tickAsync(1500);
      await first;
      const second = lambda.invoke('kiln-sandbox-wait', {});
      await ctx.fakeClock.tickAsync(1500);
      await second;
      expect(lambda.invocations.map((i) => [(i.endedMs ?? 0) - i.startedMs, i.cold])).toEqual([
        [1500, true],
        [1500, false],
      ]);
    });

    it('counts the SDK calls made while the handler runs, by service, and none after it returned', async () => {
      let later: (() => void) | undefined;
      register('kiln-sandbox-calls', async () => {
        countInvocationCall('DynamoDB');
        countInvocationCall('DynamoDB');
        countInvocationCall('EC2');
        later = () => countInvocationCall('EC2');
        return null;
      });
      await lambda.invoke('kiln-sandbox-calls', {});
      later?.();
      expect(lambda.invocations[0]?.calls).toEqual({ DynamoDB: 2, EC2: 1 });
    });

    it('ends the record of a failed attempt too', async () => {
      register('kiln-sandbox-boom', async () => {
        countInvocationCall('SFN');
        throw new Error('boom');
      });
      await expect(lambda.invoke('kiln-sandbox-boom', {})).rejects.toThrow('boom');
      expect(lambda.invocations[0]).toMatchObject({ ok: false, calls: { SFN: 1 }, endedMs: ctx.clock.now() });
    });
  });
});
