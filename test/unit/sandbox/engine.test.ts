import nodeCrypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-ec2';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import type { SimService } from '../../../sandbox/core/context';
import type { SandboxEngine } from '../../../sandbox/core/engine';
import { createEngine } from '../../../sandbox/core/engine';
import {
  TokenBucket,
  createEc2RateLimiter,
  createFaults,
  describeFaultRule,
  parseFaultPlan,
} from '../../../sandbox/core/faults';
import { createRng } from '../../../sandbox/core/random';
import {
  SandboxBudgetError,
  SandboxDeadlockError,
  SandboxNotRunningError,
  SchedulerError,
  withCaller,
} from '../../../sandbox/core/scheduler';
import {
  OPERATOR_CLIENT_CONFIG,
  SandboxUnsupportedError,
  simulatedFailureOf,
} from '../../../sandbox/core/sdk';
import { SANDBOX_EPOCH } from '../../../sandbox/core/testing';
import { Timeline } from '../../../sandbox/core/timeline';

interface ToyCall {
  operation: string;
  input: unknown;
}

/** A toy EC2 that records what it was asked and answers DescribeInstances with one reservation. */
function toyEc2(
  calls: ToyCall[],
  behaviour?: (operation: string) => Promise<object> | undefined,
): SimService {
  return {
    serviceId: 'EC2',
    async handle(operation, input) {
      calls.push({ operation, input });
      const custom = behaviour?.(operation);
      if (custom !== undefined) return custom;
      return { Reservations: [{ ReservationId: 'r-0123456789abcdef0', Instances: [] }] };
    },
  };
}

const clock = { now: () => SANDBOX_EPOCH };

describe('sandbox engine', () => {
  let engine: SandboxEngine | undefined;

  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });

  async function newEngine(
    seed = 1,
    extra: Partial<Parameters<typeof createEngine>[0]> = {},
  ): Promise<SandboxEngine> {
    engine = await createEngine({ seed, dynamodb: false, ...extra });
    return engine;
  }

  describe('createEngine', () => {
    it('rejects a seed that is not an integer, naming the field', async () => {
      await expect(createEngine({ seed: 1.5, dynamodb: false })).rejects.toThrow(/seed must be an integer/);
    });

    it('rejects a fault plan with a bad probability, naming the rule and field', async () => {
      await expect(
        createEngine({ seed: 1, dynamodb: false, faults: [{ kind: 'throttle', probability: 2 }] }),
      ).rejects.toThrow(/faults\[0\]\.probability/);
    });

    it('refuses a second engine while one holds the clock', async () => {
      await newEngine();
      await expect(createEngine({ seed: 2, dynamodb: false })).rejects.toThrow(/already installed/);
    });
  });

  describe('virtual clock', () => {
    it('starts Date at the sandbox epoch and restores real time and Math.random on dispose', async () => {
      const realRandom = Math.random;
      const e = await newEngine();
      expect(Date.now()).toBe(SANDBOX_EPOCH);
      expect(Math.random).not.toBe(realRandom);
      await e.dispose();
      expect(Math.abs(Date.now() - performance.timeOrigin - performance.now())).toBeLessThan(5_000);
      expect(Math.random).toBe(realRandom);
    });

    it('seeds Math.random so the same seed draws the same numbers', async () => {
      const first = await newEngine(42);
      const drawsA = [Math.random(), Math.random()];
      await first.dispose();
      await newEngine(42);
      expect([Math.random(), Math.random()]).toEqual(drawsA);
    });
  });

  describe('virtual timers (as Node arms them)', () => {
    it('waits a whole millisecond for a positive delay under 1 ms instead of firing at once', async () => {
      const e = await newEngine();
      const start = Date.now();

      await e.run(() => new Promise((resolve) => setTimeout(resolve, 0.25)));

      expect(Date.now() - start).toBe(1);
    });

    it('lets a loop that waits for a fraction of a millisecond make progress', async () => {
      const e = await newEngine(1, { limits: { maxSteps: 1_000 } });
      const start = Date.now();

      // The shape of the SDK's adaptive rate limiter: sleep the computed (fractional) time until a token is due.
      await e.run(async () => {
        while (Date.now() - start < 3) await new Promise((resolve) => setTimeout(resolve, 0.9999));
      });

      expect(Date.now() - start).toBe(3);
    });
  });

  describe('SDK middleware', () => {
    it('answers a real EC2Client command from the registered service, adding $metadata', async () => {
      const e = await newEngine();
      const calls: ToyCall[] = [];
      e.register(toyEc2(calls));
      const { ec2 } = e.clientsFor('kiln-cli');

      const out = await e.run(() =>
        ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
      );

      expect(out.Reservations?.[0]?.ReservationId).toBe('r-0123456789abcdef0');
      expect(out.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
      expect(out.$metadata.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
      expect(calls).toEqual([
        { operation: 'DescribeInstances', input: { InstanceIds: ['i-0123456789abcdef0'] } },
      ]);
      expect(e.timeline.entries).toEqual([
        { t: 0, kind: 'api', service: 'EC2', operation: 'DescribeInstances', caller: 'kiln-cli', ok: true },
      ]);
    });

    it('tags a call with an explicit withCaller over the client tag', async () => {
      const e = await newEngine();
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('fn:steps');

      await e.run(() => withCaller('sfn:deploy/exec-1', () => ec2.send(new DescribeInstancesCommand({}))));

      expect(e.timeline.entries.map((entry) => ('caller' in entry ? entry.caller : ''))).toEqual([
        'sfn:deploy/exec-1',
      ]);
    });

    it('routes a client built elsewhere once attached', async () => {
      const e = await newEngine();
      e.register(toyEc2([]));
      const own = new EC2Client({ region: 'us-east-1' });
      e.attach(own, 'fn:on-lifecycle');

      await e.run(() => own.send(new DescribeInstancesCommand({})));

      expect(e.timeline.entries[0]).toMatchObject({ caller: 'fn:on-lifecycle', ok: true });
      own.destroy();
    });

    it('rejects a call to a service with no simulator instead of reaching AWS', async () => {
      const e = await newEngine();
      const { autoScaling } = e.clientsFor('kiln-cli');

      await expect(e.run(() => autoScaling.send(new DescribeAutoScalingGroupsCommand({})))).rejects.toThrow(
        SandboxUnsupportedError,
      );
      expect(e.timeline.entries[0]).toMatchObject({
        service: 'Auto Scaling',
        ok: false,
        error: 'SandboxUnsupportedError',
      });
    });

    it('retries RequestLimitExceeded with backoff that costs virtual time, not wall time', async () => {
      const e = await newEngine(7, {
        faults: [{ kind: 'throttle', key: 'EC2:DescribeInstances', count: 2 }],
      });
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('kiln-cli');
      await e.run(() => ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 }))); // warms the SDK up
      const virtualStart = Date.now();

      const out = await e.run(() => ec2.send(new DescribeInstancesCommand({})));

      const virtualMs = Date.now() - virtualStart;
      expect(out.$metadata.attempts).toBe(3);
      expect(out.$metadata.totalRetryDelay).toBe(virtualMs);
      expect(virtualMs).toBeGreaterThan(0);
      const attempts = e.timeline.entries.filter((entry) => entry.kind === 'api').slice(1);
      expect(attempts.map((entry) => ('error' in entry ? entry.error : 'ok'))).toEqual([
        'RequestLimitExceeded',
        'RequestLimitExceeded',
        'ok',
      ]);
    });

    it('throttles with EC2 request rates when rateLimits is on (RunInstances bucket of 5)', async () => {
      const e = await newEngine(3, { rateLimits: true });
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('kiln-cli');

      await e.run(() =>
        Promise.all(
          Array.from({ length: 6 }, () => ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 }))),
        ),
      );

      const errors = e.timeline.entries
        .filter((entry) => 'error' in entry)
        .map((entry) => ('error' in entry ? entry.error : ''));
      expect(errors).toEqual(['RequestLimitExceeded']);
      expect(e.timeline.entries.filter((entry) => 'ok' in entry && entry.ok)).toHaveLength(6);
    });
  });

  describe('operator clients (adaptive retries, more attempts)', () => {
    it('retries an injected 5xx up to the configured ten attempts', async () => {
      const e = await newEngine(5, { faults: [{ kind: 'api-5xx', key: 'EC2:DescribeInstances', count: 9 }] });
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('story:ops', OPERATOR_CLIENT_CONFIG);

      const out = await e.run(() => ec2.send(new DescribeInstancesCommand({})));

      expect(out.$metadata.attempts).toBe(10);
    });

    it('waits on the virtual clock when adaptive rate limiting delays a first attempt', async () => {
      const e = await newEngine(5, {
        faults: [{ kind: 'throttle', key: 'EC2:DescribeInstances', count: 3 }],
        limits: { maxWallMs: 500 },
      });
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('story:ops', OPERATOR_CLIENT_CONFIG);
      const start = Date.now();

      // After three throttles the client paces itself: later first attempts wait for its tokens.
      const outs = await e.run(async () => {
        const results = [];
        for (let i = 0; i < 6; i++) results.push(await ec2.send(new DescribeInstancesCommand({})));
        return results;
      });

      expect(outs).toHaveLength(6);
      const okAt = e.timeline.entries.filter((entry) => entry.kind === 'api' && entry.ok).map((x) => x.t);
      expect(okAt).toHaveLength(6);
      expect(Date.now() - start).toBeGreaterThan(0);
    });

    it('refuses to hand one caller clients with different retry settings', async () => {
      const e = await newEngine();
      e.clientsFor('story:ops', OPERATOR_CLIENT_CONFIG);

      expect(() => e.clientsFor('story:ops')).toThrow(
        /clientsFor\('story:ops'\): its clients were made with/,
      );
    });
  });

  describe('simulated failures', () => {
    it('marks the final error of an injected fault with the call and the rule that struck', async () => {
      const e = await newEngine(3, { faults: [{ kind: 'api-5xx', key: 'EC2:DescribeInstances' }] });
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('story:ops');

      const error: unknown = await e.run(() => ec2.send(new DescribeInstancesCommand({}))).catch((x) => x);

      expect(error).toMatchObject({ name: 'Unavailable', $metadata: { attempts: 3 } });
      expect(simulatedFailureOf(error)).toEqual({
        service: 'EC2',
        operation: 'DescribeInstances',
        cause: 'injected api-5xx:EC2:DescribeInstances',
      });
    });

    it('marks a refusal by an enforced rate limit as simulated too', async () => {
      const e = await newEngine(3);
      e.register(toyEc2([]));
      e.limitRate('EC2', () => false);
      const { ec2 } = e.clientsFor('story:ops');

      const error: unknown = await e.run(() => ec2.send(new DescribeInstancesCommand({}))).catch((x) => x);

      expect(simulatedFailureOf(error)?.cause).toBe('throttled by the simulated request rate limit');
    });

    it('leaves every other error unmarked (a bug stays a bug)', async () => {
      const e = await newEngine();
      const { autoScaling } = e.clientsFor('kiln-cli');

      const error: unknown = await e
        .run(() => autoScaling.send(new DescribeAutoScalingGroupsCommand({})))
        .catch((x) => x);

      expect(error).toBeInstanceOf(SandboxUnsupportedError);
      expect(simulatedFailureOf(error)).toBeUndefined();
      expect(simulatedFailureOf(new Error('plain'))).toBeUndefined();
    });
  });

  describe('synchronous timers', () => {
    /** Counts real event-loop turns while `fn` runs, and what the count was at each of `at`. */
    async function turnsSeenBy(e: SandboxEngine, arm: (record: () => void) => void): Promise<number[]> {
      let turns = 0;
      let counting = true;
      const count = (): void => {
        turns++;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const seen: number[] = [];
      try {
        await e.run(
          () =>
            new Promise<void>((resolve) => {
              arm(() => seen.push(turns));
              e.clock.setTimeout(resolve, 100);
            }),
        );
      } finally {
        counting = false;
      }
      return seen;
    }

    it('fires a synchronous timer right after the one before, without waiting for quiet', async () => {
      const e = await newEngine();

      const seen = await turnsSeenBy(e, (record) => {
        for (const at of [10, 20, 30]) e.clock.setTimeout(record, at, { synchronous: true });
      });

      expect(seen).toHaveLength(3);
      expect(new Set(seen).size).toBe(1);
    });

    it('waits for quiet after an ordinary timer', async () => {
      const e = await newEngine();

      const seen = await turnsSeenBy(e, (record) => {
        for (const at of [10, 20, 30]) e.clock.setTimeout(record, at);
      });

      expect(seen).toHaveLength(3);
      expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(4);
      expect(seen[2]! - seen[1]!).toBeGreaterThanOrEqual(4);
    });

    it('still waits for quiet when a timer armed synchronous starts work after all', async () => {
      const e = await newEngine();

      const seen = await turnsSeenBy(e, (record) => {
        e.clock.setTimeout(
          () => {
            record();
            void e.spawn('worker', () => undefined);
          },
          10,
          { synchronous: true },
        );
        e.clock.setTimeout(record, 20, { synchronous: true });
      });

      expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(4);
    });

    it('counts each timer firing as a step', async () => {
      const e = await newEngine();
      const before = e.steps;

      await e.run(
        () =>
          new Promise<void>((resolve) => {
            for (const at of [10, 20, 30]) e.clock.setTimeout(() => undefined, at, { synchronous: true });
            e.clock.setTimeout(resolve, 40);
          }),
      );

      expect(e.steps - before).toBe(4);
    });

    describe('order among timers due at the same time (creation order, as fake-timers fires them)', () => {
      it('fires synchronous and ordinary timers due at one instant in the order they were armed', async () => {
        const e = await newEngine();
        const fired: string[] = [];

        await e.run(() => {
          e.clock.setTimeout(() => fired.push('ordinary 1'), 10);
          e.clock.setTimeout(() => fired.push('synchronous 1'), 10, { synchronous: true });
          setTimeout(() => fired.push('global 1'), 10);
          e.clock.setTimeout(() => fired.push('synchronous 2'), 10, { synchronous: true });
          e.clock.setTimeout(() => fired.push('synchronous 3'), 10, { synchronous: true });
          e.clock.setTimeout(() => fired.push('ordinary 2'), 10);
          e.clock.setTimeout(() => fired.push('earlier synchronous'), 5, { synchronous: true });
          return new Promise<void>((resolve) => e.clock.setTimeout(resolve, 20));
        });

        expect(fired).toEqual([
          'earlier synchronous',
          'ordinary 1',
          'synchronous 1',
          'global 1',
          'synchronous 2',
          'synchronous 3',
          'ordinary 2',
        ]);
      });

      it('keeps that order for timers re-armed as they fire (periodic checks)', async () => {
        const e = await newEngine();
        const fired: string[] = [];
        const every = (name: string, ms: number, options?: { synchronous: true }): void => {
          const tick = (): void => {
            fired.push(`${name}@${Date.now() - SANDBOX_EPOCH}`);
            if (Date.now() - SANDBOX_EPOCH < 30) e.clock.setTimeout(tick, ms, options);
          };
          e.clock.setTimeout(tick, ms, options);
        };

        await e.run(() => {
          every('a', 10, { synchronous: true });
          every('b', 10);
          every('c', 10, { synchronous: true });
          return new Promise<void>((resolve) => e.clock.setTimeout(resolve, 50));
        });

        expect(fired).toEqual(['a@10', 'b@10', 'c@10', 'a@20', 'b@20', 'c@20', 'a@30', 'b@30', 'c@30']);
      });

      it('places a synchronous timer after an interval that re-armed before it was armed', async () => {
        const e = await newEngine();
        const fired: string[] = [];

        await e.run(
          () =>
            new Promise<void>((resolve) => {
              // The interval takes a new place in the order each time it fires (at 10, 20, ...).
              const interval = setInterval(() => fired.push(`interval@${Date.now() - SANDBOX_EPOCH}`), 10);
              e.clock.setTimeout(
                () => e.clock.setTimeout(() => fired.push('synchronous@20'), 5, { synchronous: true }),
                15,
              );
              e.clock.setTimeout(() => {
                clearInterval(interval);
                resolve();
              }, 25);
            }),
        );

        expect(fired).toEqual(['interval@10', 'interval@20', 'synchronous@20']);
      });

      it('never fires a synchronous timer that was cleared', async () => {
        const e = await newEngine();
        const fired: string[] = [];

        await e.run(() => {
          const handle = e.clock.setTimeout(() => fired.push('cleared'), 10, { synchronous: true });
          e.clock.setTimeout(() => fired.push('kept'), 10, { synchronous: true });
          e.clock.clearTimeout(handle);
          return new Promise<void>((resolve) => e.clock.setTimeout(resolve, 20));
        });

        expect(fired).toEqual(['kept']);
        expect(e.clock.pendingTimers()).toBe(0);
      });
    });
  });

  describe('scheduler guards', () => {
    it('rejects an SDK call made outside any run instead of hanging', async () => {
      const e = await newEngine();
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('kiln-cli');

      await expect(ec2.send(new DescribeInstancesCommand({}))).rejects.toThrow(SandboxNotRunningError);
    });

    it('fails when a granted call can never finish (a service awaiting virtual time)', async () => {
      const e = await newEngine(1, { limits: { maxWallMs: 200 } });
      e.register(
        toyEc2(
          [],
          () => new Promise<object>((resolve) => e.context.clock.setTimeout(() => resolve({}), 1_000)),
        ),
      );
      const { ec2 } = e.clientsFor('kiln-cli');

      const run = e.run(() => ec2.send(new DescribeInstancesCommand({})));

      await expect(run).rejects.toThrow(SandboxDeadlockError);
      await expect(run).rejects.toThrow(/in flight: SDK call EC2\.DescribeInstances by 'kiln-cli'/);
    });

    it('fails loudly when the virtual-time budget runs out, listing what is pending', async () => {
      const e = await newEngine();
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('poller');
      const pollForever = async (): Promise<never> => {
        for (;;) {
          await ec2.send(new DescribeInstancesCommand({}));
          await new Promise((resolve) => setTimeout(resolve, 60_000));
        }
      };

      const run = e.run(pollForever, { maxVirtualMs: 10 * 60_000 });

      await expect(run).rejects.toThrow(SandboxBudgetError);
      await expect(run).rejects.toThrow(/task running: main[\s\S]*timers pending: 1/);
      expect(Date.now() - SANDBOX_EPOCH).toBe(10 * 60_000);
    });

    it('fails when nothing can run but the run has not settled', async () => {
      const e = await newEngine();

      await expect(e.run(() => new Promise<never>(() => undefined))).rejects.toThrow(/nothing left to run/);
    });

    it('stops at the step limit', async () => {
      const e = await newEngine();
      const spin = async (): Promise<never> => {
        for (;;) await new Promise((resolve) => setTimeout(resolve, 1));
      };

      await expect(e.run(spin, { maxSteps: 50 })).rejects.toThrow(/step limit of 50/);
    });

    it('rejects a run started while another is driving', async () => {
      const e = await newEngine();

      await expect(e.run(() => e.run(() => 1))).rejects.toThrow(SchedulerError);
    });

    it('freezes time between runs and resumes timers on the next one', async () => {
      const e = await newEngine();
      let fired = false;
      setTimeout(() => {
        fired = true;
      }, 5_000);

      await e.run(() => undefined);
      expect(fired).toBe(false);
      await e.advance(5_000);

      expect(fired).toBe(true);
      expect(Date.now() - SANDBOX_EPOCH).toBe(5_000);
    });

    it('grants concurrent calls in an order drawn from the seed', async () => {
      const orders = new Set<string>();
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const e = await newEngine(seed);
        e.register(toyEc2([]));
        const callers = ['a', 'b', 'c'];
        await e.run(() =>
          Promise.all(
            callers.map((name) =>
              e.spawn(name, () => e.clientsFor(name).ec2.send(new DescribeInstancesCommand({}))),
            ),
          ),
        );
        orders.add(e.timeline.entries.map((entry) => ('caller' in entry ? entry.caller : '')).join(''));
        await e.dispose();
      }
      expect(orders.size).toBeGreaterThan(1);
    });
  });

  describe('crypto.randomUUID (the SDK’s invocation ids and default idempotency tokens)', () => {
    /** The `amz-sdk-invocation-id` header of each attempt of `count` EC2 calls on a fresh engine. */
    async function invocationIds(seed: number, count: number): Promise<string[]> {
      const e = await newEngine(seed);
      e.register(toyEc2([]));
      const { ec2 } = e.clientsFor('kiln-cli');
      const seen: string[] = [];
      // Just outside the sandbox's gate (after the retry strategy has set the header).
      const capture: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          seen.push(request.headers?.['amz-sdk-invocation-id'] ?? 'none');
          return next(args);
        };
      ec2.middlewareStack.addRelativeTo(capture, {
        relation: 'before',
        toMiddleware: 'kilnSandboxGate',
        name: 'captureInvocationId',
      });
      await e.run(async () => {
        for (let i = 0; i < count; i++) await ec2.send(new DescribeInstancesCommand({}));
      });
      await e.dispose();
      engine = undefined;
      return seen;
    }

    it('draws the same ids for the same seed, and others for another seed', async () => {
      const first = await invocationIds(11, 3);
      const again = await invocationIds(11, 3);
      const other = await invocationIds(12, 3);

      expect(first).toHaveLength(3);
      expect(new Set(first).size).toBe(3);
      expect(first[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(again).toEqual(first);
      expect(other).not.toEqual(first);
    });

    it('seeds node:crypto’s randomUUID too, and gives both back on dispose', async () => {
      const webBefore = globalThis.crypto.randomUUID;
      const nodeBefore = nodeCrypto.randomUUID;
      const e = await newEngine(11);
      const seededWeb = globalThis.crypto.randomUUID();
      const seededNode = nodeCrypto.randomUUID();
      await e.dispose();
      engine = undefined;
      const e2 = await newEngine(11);
      expect([globalThis.crypto.randomUUID(), nodeCrypto.randomUUID()]).toEqual([seededWeb, seededNode]);
      await e2.dispose();
      engine = undefined;

      expect(globalThis.crypto.randomUUID).toBe(webBefore);
      expect(nodeCrypto.randomUUID).toBe(nodeBefore);
    });
  });

  describe('emit', () => {
    it('holds events emitted before a sink exists and delivers them when one is attached', async () => {
      const e = await newEngine();
      e.context.emit({ source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification', detail: {} });
      const received: string[] = [];

      e.onEmit((event) => received.push(event.detailType));
      e.context.emit({ source: 'aws.autoscaling', detailType: 'EC2 Instance Launch Successful', detail: {} });

      expect(received).toEqual(['EC2 Instance State-change Notification', 'EC2 Instance Launch Successful']);
    });
  });
});

describe('Timeline', () => {
  it('writes keys in a fixed order whatever order the entry was built in', () => {
    const timeline = new Timeline(() => SANDBOX_EPOCH + 1234.4);
    timeline.record({ ok: true, caller: 'c', operation: 'Op', service: 'EC2', kind: 'api' });
    timeline.record({ to: 'running', from: null, resource: 'i-1', kind: 'state' });

    expect(timeline.toJsonLines()).toBe(
      '{"t":1.234,"kind":"api","service":"EC2","operation":"Op","caller":"c","ok":true}\n' +
        '{"t":1.234,"kind":"state","resource":"i-1","from":null,"to":"running"}\n',
    );
  });

  it('tells listeners about each entry until they unsubscribe', () => {
    const timeline = new Timeline(() => SANDBOX_EPOCH);
    const seen: string[] = [];
    const stop = timeline.onRecord((entry) => seen.push(entry.kind));

    timeline.record({ kind: 'log', message: 'one' });
    stop();
    timeline.record({ kind: 'log', message: 'two' });

    expect(seen).toEqual(['log']);
  });

  it('writes its JSON lines to a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-timeline-'));
    const timeline = new Timeline(() => SANDBOX_EPOCH + 2_000);
    timeline.record({ kind: 'log', message: 'hello' });

    timeline.writeTo(join(dir, 'timeline.jsonl'));

    expect(readFileSync(join(dir, 'timeline.jsonl'), 'utf8')).toBe(
      '{"t":2,"kind":"log","message":"hello"}\n',
    );
    rmSync(dir, { recursive: true });
  });
});

describe('createFaults', () => {
  it('strikes a matching rule at most count times', () => {
    const faults = createFaults([{ kind: 'instance-boot-failure', key: 'i-1', count: 1 }], {
      rng: createRng(1),
      clock,
    });

    expect([
      faults.should('instance-boot-failure', 'i-2'),
      faults.should('instance-boot-failure', 'i-1'),
    ]).toEqual([false, true]);
    expect(faults.should('instance-boot-failure', 'i-1')).toBe(false);
  });

  it('strikes only inside its from/until window', () => {
    let now = SANDBOX_EPOCH;
    const faults = createFaults([{ kind: 'event-loss', from: 10, until: 20 }], {
      rng: createRng(1),
      clock: { now: () => now },
    });
    const at = (seconds: number): boolean => {
      now = SANDBOX_EPOCH + seconds * 1000;
      return faults.should('event-loss', 'any');
    };

    expect([at(9.999), at(10), at(19.999), at(20)]).toEqual([false, true, true, false]);
  });

  it('draws probabilistic strikes from the seed', () => {
    const pattern = (seed: number): boolean[] => {
      const faults = createFaults([{ kind: 'api-5xx', key: '*', probability: 0.5 }], {
        rng: createRng(seed),
        clock,
      });
      return Array.from({ length: 32 }, () => faults.should('api-5xx', 'EC2:RunInstances'));
    };

    expect(pattern(9)).toEqual(pattern(9));
    expect(pattern(9)).not.toEqual(pattern(10));
  });

  it('says which rule struck, spelled as --fault spells it, and counts strikes per rule', () => {
    const faults = createFaults(
      [
        { kind: 'api-5xx', key: 'EC2:RunInstances', count: 1 },
        { kind: 'event-loss', probability: 1 },
        { kind: 'throttle' },
      ],
      { rng: createRng(1), clock },
    );

    expect(faults.strike('api-5xx', 'EC2:RunInstances')).toEqual({
      kind: 'api-5xx',
      key: 'EC2:RunInstances',
      rule: 'api-5xx:EC2:RunInstances (count 1)',
    });
    expect(faults.strike('api-5xx', 'EC2:RunInstances')).toBeUndefined();
    faults.should('event-loss', 'e-1');
    faults.should('event-loss', 'e-2');

    expect(faults.struck()).toEqual([
      { kind: 'api-5xx', rule: 'api-5xx:EC2:RunInstances (count 1)', strikes: 1 },
      { kind: 'event-loss', rule: 'event-loss@1', strikes: 2 },
    ]);
  });

  describe('rules scoped to one kind of event', () => {
    const amiEvent = { source: 'aws.ec2', detailType: 'EC2 AMI State Change' };
    const commandEvent = { source: 'aws.ssm', detailType: 'EC2 Command Status-change Notification' };

    it('strikes only deliveries of the source and detail-type it names', () => {
      const faults = createFaults(
        [{ kind: 'event-loss', source: 'aws.ec2', detailType: 'EC2 AMI State Change' }],
        { rng: createRng(1), clock },
      );

      expect([
        faults.should('event-loss', 'e-1', amiEvent),
        faults.should('event-loss', 'e-2', commandEvent),
        faults.should('event-loss', 'e-3', {
          source: 'aws.ec2',
          detailType: 'EC2 Instance State-change Notification',
        }),
        faults.should('event-loss', 'e-4'),
      ]).toEqual([true, false, false, false]);
    });

    it('strikes every delivery of that kind with probability 1, drawing nothing from the seed', () => {
      const rng = createRng(5);
      const untouched = createRng(5);
      const faults = createFaults(
        [
          { kind: 'event-loss', source: 'aws.ec2', probability: 1 },
          { kind: 'event-loss', source: 'aws.ssm', probability: 1 },
        ],
        { rng, clock },
      );

      const struck = Array.from({ length: 20 }, (_, i) =>
        faults.should('event-loss', `e-${i}`, i % 2 === 0 ? amiEvent : commandEvent),
      );

      expect(struck.every(Boolean)).toBe(true);
      expect(rng.next()).toBe(untouched.next());
    });

    it('refuses a source or detailType on a fault that strikes no event, naming the field', () => {
      expect(() => parseFaultPlan([{ kind: 'api-5xx', source: 'aws.ec2' }])).toThrow(
        'invalid fault plan: faults[0].kind: source and detailType apply only to event-loss, event-duplicate and event-delay',
      );
      expect(() => parseFaultPlan([{ kind: 'throttle', detailType: 'EC2 AMI State Change' }])).toThrow(
        /faults\[0\]\.kind: source and detailType apply only/,
      );
    });
  });
});

describe('describeFaultRule', () => {
  it.each([
    [{ kind: 'api-5xx', probability: 0.2 }, 'api-5xx@0.2'],
    [{ kind: 'throttle', key: '*' }, 'throttle'],
    [
      { kind: 'handler-crash', key: 'kiln-sandbox-on-artifact', probability: 0.5 },
      'handler-crash:kiln-sandbox-on-artifact@0.5',
    ],
    [{ kind: 'event-loss', from: 10, until: 60 }, 'event-loss (from 10 s, until 60 s)'],
    [
      { kind: 'event-loss', source: 'aws.ssm', detailType: 'EC2 Command Status-change Notification' },
      'event-loss (source aws.ssm, detail-type EC2 Command Status-change Notification)',
    ],
  ] as const)('spells %j as %s', (rule, text) => {
    expect(describeFaultRule(rule)).toBe(text);
  });
});

describe('TokenBucket', () => {
  it('lets a burst of capacity through, then refills at its rate on the virtual clock', () => {
    let now = SANDBOX_EPOCH;
    const bucket = new TokenBucket(2, 5, { now: () => now });

    const burst = Array.from({ length: 6 }, () => bucket.tryTake());
    now += 1_000;
    const afterOneSecond = [bucket.tryTake(), bucket.tryTake(), bucket.tryTake()];

    expect(burst).toEqual([true, true, true, true, true, false]);
    expect(afterOneSecond).toEqual([true, true, false]);
  });

  it('rejects a non-positive refill rate, naming it', () => {
    expect(() => new TokenBucket(0, 5, clock)).toThrow(/refillPerSecond/);
  });
});

describe('createEc2RateLimiter', () => {
  it('gives unfiltered DescribeInstances the smaller bucket (50) and filtered calls the larger (100)', () => {
    const limiter = createEc2RateLimiter(clock);
    const count = (input: object): number =>
      Array.from({ length: 120 }, () => limiter('DescribeInstances', input)).filter(Boolean).length;

    expect(count({})).toBe(50);
    expect(count({ Filters: [{ Name: 'tag:Service', Values: ['api'] }] })).toBe(100);
  });

  it('charges RunInstances one resource token per instance', () => {
    const limiter = createEc2RateLimiter(clock);

    expect(limiter('RunInstances', { MinCount: 1, MaxCount: 1000 })).toBe(true);
    expect(limiter('RunInstances', { MinCount: 1, MaxCount: 1 })).toBe(false);
  });
});
