import { EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import type { EventBridgeEnvelope, SimEventInput } from '../../../sandbox/core/context';
import { EventPatternError } from '../../../sandbox/core/event-pattern';
import { createFaults } from '../../../sandbox/core/faults';
import { createTestContext } from '../../../sandbox/core/testing';
import type { TestSimContext } from '../../../sandbox/core/testing';
import { EventBridgeSim } from '../../../sandbox/services/eventbridge';

interface Delivery {
  functionName: string;
  envelope: EventBridgeEnvelope;
  at: number;
}

function setup(seed = 7): { ctx: TestSimContext; bus: EventBridgeSim; deliveries: Delivery[] } {
  const ctx = createTestContext(seed);
  const bus = new EventBridgeSim(ctx);
  const deliveries: Delivery[] = [];
  bus.addTarget(async (functionName, envelope) => {
    deliveries.push({ functionName, envelope, at: ctx.clock.now() });
  });
  bus.addRule({
    functionName: 'onAmi',
    pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 AMI State Change'] },
  });
  bus.addRule({ functionName: 'onAnyEc2', pattern: { source: [{ prefix: 'aws.ec2' }] } });
  bus.addRule({ functionName: 'onArtifact', pattern: { 'detail-type': ['Artifact Published'] } });
  return { ctx, bus, deliveries };
}

const amiAvailable = (): SimEventInput => ({
  source: 'aws.ec2',
  detailType: 'EC2 AMI State Change',
  detail: { ImageId: 'ami-0123456789abcdef0', State: 'available' },
  resources: ['arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0'],
});

const artifactEntry = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  Source: 'kiln.ci',
  DetailType: 'Artifact Published',
  Detail: JSON.stringify({ service: 'web', version: '1.2.3' }),
  ...overrides,
});

describe('EventBridgeSim', () => {
  describe('putEvent', () => {
    it('builds the envelope AWS delivers', () => {
      const { ctx, bus } = setup();
      ctx.fakeClock.tick(1_234);
      const envelope = bus.putEvent(amiAvailable());
      expect(envelope).toEqual({
        version: '0',
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/),
        'detail-type': 'EC2 AMI State Change',
        source: 'aws.ec2',
        account: '123456789012',
        time: '2026-01-01T00:00:01Z',
        region: 'us-east-1',
        resources: ['arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0'],
        detail: { ImageId: 'ami-0123456789abcdef0', State: 'available' },
      });
    });

    it('delivers to every matching rule after a short delay, not at once', async () => {
      const { ctx, bus, deliveries } = setup();
      bus.putEvent(amiAvailable());
      expect(deliveries).toHaveLength(0);
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries.map((d) => d.functionName).sort()).toEqual(['onAmi', 'onAnyEc2']);
      expect(deliveries.every((d) => d.at > ctx.clock.now() - 1_000 && d.at <= ctx.clock.now())).toBe(true);
      expect(bus.pendingDeliveries).toBe(0);
    });

    it('records the event and its receivers on the timeline', () => {
      const { ctx, bus } = setup();
      bus.putEvent(amiAvailable());
      expect(ctx.entries).toEqual([
        {
          t: 0,
          kind: 'event',
          source: 'aws.ec2',
          detailType: 'EC2 AMI State Change',
          deliveredTo: ['onAmi', 'onAnyEc2'],
        },
      ]);
    });

    it('records an event nobody listens to with no receivers', () => {
      const { ctx, bus } = setup();
      bus.putEvent({ source: 'aws.ssm', detailType: 'EC2 Command Status-change Notification', detail: {} });
      expect(ctx.entries[0]).toMatchObject({ kind: 'event', deliveredTo: [] });
    });

    it('gives each delivery its own copy of the envelope', async () => {
      const { ctx, bus, deliveries } = setup();
      bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(1_000);
      const [first, second] = deliveries;
      expect(first?.envelope).toEqual(second?.envelope);
      expect(first?.envelope).not.toBe(second?.envelope);
    });

    it('skips disabled rules and rules on other buses', async () => {
      const { ctx, bus, deliveries } = setup();
      bus.addRule({ functionName: 'disabled', pattern: { source: ['aws.ec2'] }, enabled: false });
      bus.addRule({ functionName: 'otherBus', pattern: { source: ['aws.ec2'] }, eventBus: 'kiln-ci' });
      bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries.map((d) => d.functionName).sort()).toEqual(['onAmi', 'onAnyEc2']);
    });

    it('draws the same delays from the same seed', async () => {
      const run = async (): Promise<number[]> => {
        const { ctx, bus, deliveries } = setup(42);
        bus.putEvent(amiAvailable());
        bus.putEvent(amiAvailable());
        await ctx.fakeClock.tickAsync(1_000);
        return deliveries.map((d) => d.at);
      };
      expect(await run()).toEqual(await run());
    });

    it('logs a target that keeps failing on the timeline and drops the event when the rule has no dead-letter queue', async () => {
      const ctx = createTestContext(7);
      const bus = new EventBridgeSim(ctx);
      bus.addRule({
        functionName: 'onAmi',
        pattern: { source: ['aws.ec2'] },
        retryPolicy: { maximumRetryAttempts: 0 },
      });
      bus.addTarget(async () => {
        throw new Error('handler blew up');
      });
      const envelope = bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(1_000);
      expect(ctx.entries).toContainEqual(
        expect.objectContaining({
          kind: 'log',
          message: `delivery of ${envelope.id} to onAmi failed (SDK_CLIENT_ERROR: handler blew up); dropped`,
        }),
      );
      expect(bus.pendingDeliveries).toBe(0);
    });
  });

  describe('redeliver', () => {
    it('delivers the newest event it picks again, the same envelope, to every rule it matched', async () => {
      const { ctx, bus, deliveries } = setup();
      bus.putEvent({ ...amiAvailable(), detail: { ImageId: 'ami-0123456789abcdef0', State: 'pending' } });
      const newest = bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(1_000);
      deliveries.length = 0;

      const sentTo = bus.redeliver((e) => e.source === 'aws.ec2');
      await ctx.fakeClock.tickAsync(1_000);

      expect(sentTo.sort()).toEqual(['onAmi', 'onAnyEc2']);
      expect(deliveries.map((d) => d.envelope)).toEqual([newest, newest]);
      expect(ctx.entries.at(-1)).toMatchObject({ kind: 'event', source: 'aws.ec2', deliveredTo: sentTo });
    });

    it('delivers nothing when no event some rule matched is picked', async () => {
      const { ctx, bus, deliveries } = setup();
      bus.putEvent({ source: 'aws.s3', detailType: 'Object Created', detail: {} });

      expect(bus.redeliver(() => true)).toEqual([]);
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries).toEqual([]);
    });
  });

  describe('retry policy and dead-letter queue', () => {
    const DLQ = 'arn:aws:sqs:us-east-1:123456789012:kiln-test-dead-letters';
    type Sent = { queueArn: string; body: string; attributes: Record<string, string> };

    function failingBus(
      fail: (attempt: number) => Error | undefined,
      retryPolicy: { maximumRetryAttempts?: number; maximumEventAgeSeconds?: number } = {},
    ) {
      const ctx = createTestContext(7);
      const sent: Sent[] = [];
      const attempts: number[] = [];
      const bus = new EventBridgeSim(ctx, {
        sendToQueue: (queueArn, body, attributes) => {
          sent.push({ queueArn, body, attributes });
          return true;
        },
        targetArn: (fn) => `arn:aws:lambda:us-east-1:123456789012:function:kiln-test-${fn}`,
      });
      bus.addRule({
        functionName: 'onAmi',
        name: 'kiln-test-ami',
        pattern: { source: ['aws.ec2'] },
        deadLetterQueueArn: DLQ,
        retryPolicy,
      });
      bus.addTarget(async () => {
        attempts.push(ctx.clock.now());
        const error = fail(attempts.length);
        if (error) throw error;
      });
      return { ctx, bus, sent, attempts };
    }

    const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

    it('sends an event whose target does not exist to the queue at once, with the documented attributes', async () => {
      const { ctx, bus, sent, attempts } = failingBus(() =>
        named('ResourceNotFoundException', 'Function not found: kiln-test-onAmi'),
      );
      const envelope = bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(3_600_000);

      expect(attempts).toHaveLength(1);
      expect(sent).toEqual([
        {
          queueArn: DLQ,
          body: JSON.stringify(envelope),
          attributes: {
            RULE_ARN: 'arn:aws:events:us-east-1:123456789012:rule/kiln-test-ami',
            TARGET_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-test-onAmi',
            ERROR_CODE: 'NO_RESOURCE',
            ERROR_MESSAGE: 'Function not found: kiln-test-onAmi',
          },
        },
      ]);
      expect(bus.pendingDeliveries).toBe(0);
    });

    it('retries a throttled delivery with growing delays, then sends it to the queue when the attempts run out', async () => {
      const { ctx, bus, sent, attempts } = failingBus(
        () => named('TooManyRequestsException', 'Rate exceeded'),
        {
          maximumRetryAttempts: 3,
        },
      );
      bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(3_600_000);

      expect(attempts).toHaveLength(4);
      const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] ?? 0));
      expect(gaps.every((gap, i) => i === 0 || gap >= (gaps[i - 1] ?? 0) / 2)).toBe(true);
      expect(sent[0]?.attributes).toMatchObject({
        ERROR_CODE: 'THROTTLING',
        RETRY_ATTEMPTS: '3',
        EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      });
    });

    it('stops retrying when the event is older than the maximum event age', async () => {
      const { ctx, bus, sent, attempts } = failingBus(() => named('ServiceException', 'try later'), {
        maximumEventAgeSeconds: 60,
      });
      bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(3_600_000);

      expect(attempts.length).toBeGreaterThan(1);
      expect((attempts.at(-1) ?? 0) - (attempts[0] ?? 0)).toBeLessThanOrEqual(60_000);
      expect(sent[0]?.attributes).toMatchObject({ EXHAUSTED_RETRY_CONDITION: 'MaximumEventAge' });
    });

    it('delivers once a retry succeeds and sends nothing to the queue', async () => {
      const { ctx, bus, sent, attempts } = failingBus((attempt) =>
        attempt < 3 ? named('ServiceException', 'try later') : undefined,
      );
      bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(3_600_000);

      expect(attempts).toHaveLength(3);
      expect(sent).toEqual([]);
      expect(bus.pendingDeliveries).toBe(0);
    });
  });

  describe('faults', () => {
    it('drops the delivery when event-loss strikes', async () => {
      const { ctx, bus, deliveries } = setup();
      ctx.activeFaults.add('event-loss:*');
      bus.putEvent(amiAvailable());
      await ctx.fakeClock.tickAsync(600_000);
      expect(deliveries).toHaveLength(0);
      expect(ctx.entries).toContainEqual(expect.objectContaining({ kind: 'event', deliveredTo: [] }));
    });

    it('delivers the same event twice when event-duplicate strikes', async () => {
      const { ctx, bus, deliveries } = setup();
      ctx.activeFaults.add('event-duplicate:*');
      const envelope = bus.putEvent({ source: 'kiln.ci', detailType: 'Artifact Published', detail: {} });
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries.map((d) => [d.functionName, d.envelope.id])).toEqual([
        ['onArtifact', envelope.id],
        ['onArtifact', envelope.id],
      ]);
    });

    it('delivers late when event-delay strikes', async () => {
      const { ctx, bus, deliveries } = setup();
      ctx.activeFaults.add('event-delay:*');
      bus.putEvent({ source: 'kiln.ci', detailType: 'Artifact Published', detail: {} });
      await ctx.fakeClock.tickAsync(29_000);
      expect(deliveries).toHaveLength(0);
      await ctx.fakeClock.tickAsync(300_000);
      expect(deliveries).toHaveLength(1);
    });

    it('loses every event of the source and detail-type a scoped rule names, and delivers the rest', async () => {
      const base = setup(3);
      const ctx = {
        ...base.ctx,
        faults: createFaults(
          [{ kind: 'event-loss', source: 'aws.ec2', detailType: 'EC2 AMI State Change', probability: 1 }],
          { rng: base.ctx.rng, clock: base.ctx.clock },
        ),
      };
      const bus = new EventBridgeSim(ctx);
      const deliveries: string[] = [];
      bus.addTarget(async (functionName, envelope) => {
        deliveries.push(`${functionName} <- ${envelope['detail-type']}`);
      });
      bus.addRule({ functionName: 'onProgress', pattern: { source: ['aws.ec2', 'aws.ssm'] } });

      for (let i = 0; i < 3; i++) bus.putEvent(amiAvailable());
      bus.putEvent({ source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification', detail: {} });
      bus.putEvent({ source: 'aws.ssm', detailType: 'EC2 AMI State Change', detail: {} });
      await base.ctx.fakeClock.tickAsync(600_000);

      expect(deliveries.sort()).toEqual([
        'onProgress <- EC2 AMI State Change',
        'onProgress <- EC2 Instance State-change Notification',
      ]);
    });

    it('strikes only the event whose id the fault names', async () => {
      const { ctx, bus, deliveries } = setup(3);
      const probe = createTestContext(3).ids.uuid();
      ctx.activeFaults.add(`event-loss:${probe}`);
      bus.putEvent({ source: 'kiln.ci', detailType: 'Artifact Published', detail: { n: 1 } });
      bus.putEvent({ source: 'kiln.ci', detailType: 'Artifact Published', detail: { n: 2 } });
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries.map((d) => d.envelope.detail)).toEqual([{ n: 2 }]);
    });
  });

  describe('addRule', () => {
    it('rejects an invalid pattern when the rule is added', () => {
      const { bus } = setup();
      expect(() => bus.addRule({ functionName: 'f', pattern: { source: 'aws.ec2' } })).toThrow(
        EventPatternError,
      );
    });

    it('adds serverless.yml routes with their rule names and buses', () => {
      const { bus } = setup();
      bus.addRoutes([
        {
          functionName: 'fromRoutes',
          pattern: { source: ['aws.ssm'] },
          eventBus: 'default',
          enabled: true,
          ruleName: 'r',
        },
      ]);
      const envelope = bus.putEvent({ source: 'aws.ssm', detailType: 'x', detail: {} });
      expect(bus.matchingFunctions(envelope)).toEqual(['fromRoutes']);
    });
  });

  describe('handle PutEvents', () => {
    it('accepts a custom CI event and delivers it', async () => {
      const { ctx, bus, deliveries } = setup();
      const output = await bus.handle('PutEvents', { Entries: [artifactEntry({ Resources: ['arn:x'] })] });
      expect(output).toEqual({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]?.envelope).toMatchObject({
        source: 'kiln.ci',
        'detail-type': 'Artifact Published',
        resources: ['arn:x'],
        detail: { service: 'web', version: '1.2.3' },
      });
    });

    it('uses the entry Time when one is given', async () => {
      const { ctx, bus, deliveries } = setup();
      await bus.handle('PutEvents', {
        Entries: [artifactEntry({ Time: new Date('2025-06-01T12:00:00.500Z') })],
      });
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries[0]?.envelope.time).toBe('2025-06-01T12:00:00Z');
    });

    it('fails bad entries one by one and counts them', async () => {
      const { bus } = setup();
      const output = await bus.handle('PutEvents', {
        Entries: [
          artifactEntry({ Source: undefined }),
          artifactEntry({ DetailType: '' }),
          artifactEntry({ Detail: undefined }),
          artifactEntry({ Detail: '{not json' }),
          artifactEntry({ Detail: '[1, 2]' }),
          artifactEntry(),
        ],
      });
      expect(output).toEqual({
        FailedEntryCount: 5,
        Entries: [
          {
            ErrorCode: 'InvalidArgument',
            ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
          },
          {
            ErrorCode: 'InvalidArgument',
            ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
          },
          {
            ErrorCode: 'InvalidArgument',
            ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.',
          },
          { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
          { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
          { EventId: expect.any(String) },
        ],
      });
    });

    it.each([
      ['no entries', []],
      ['more than 10 entries', Array.from({ length: 11 }, () => artifactEntry())],
    ])('rejects the whole request with %s', async (_label, entries) => {
      const { bus } = setup();
      const call = bus.handle('PutEvents', { Entries: entries });
      await expect(call).rejects.toBeInstanceOf(EventBridgeServiceException);
      await expect(call).rejects.toMatchObject({ name: 'ValidationException', $fault: 'client' });
    });

    it('routes entries for a named bus by name or ARN', async () => {
      const { ctx, bus, deliveries } = setup();
      bus.addRule({ functionName: 'onCiBus', pattern: { source: ['kiln.ci'] }, eventBus: 'kiln-ci' });
      await bus.handle('PutEvents', {
        Entries: [artifactEntry({ EventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/kiln-ci' })],
      });
      await ctx.fakeClock.tickAsync(1_000);
      expect(deliveries.map((d) => d.functionName)).toEqual(['onCiBus']);
    });

    it('rejects operations it does not implement', async () => {
      const { bus } = setup();
      await expect(bus.handle('PutRule', {})).rejects.toMatchObject({ name: 'UnknownOperationException' });
    });
  });
});
