import {
  billedDurationMs,
  dynamoUnits,
  estimateCost,
  formatUsd,
  gbSeconds,
  modelledDurationMs,
  PRICES,
  type DeploymentUsage,
  type MeteredInvocation,
} from '../../../bench/cost';
import type { DynamoRequest } from '../../../sandbox/core/metering';

const invocation = (overrides: Partial<MeteredInvocation> = {}): MeteredInvocation => ({
  functionKey: 'rolloutSteps',
  memoryMb: 512,
  architecture: 'arm64',
  virtualMs: 0,
  calls: {},
  cold: false,
  ...overrides,
});

const write = (overrides: Partial<DynamoRequest> = {}): DynamoRequest => ({
  atMs: 0,
  caller: 'fn:rolloutSteps',
  invoked: true,
  operation: 'UpdateItem',
  kind: 'write',
  units: 1,
  item: '["DEPLOYMENT#d-1","META"]',
  setsIndexKey: false,
  ...overrides,
});

const read = (units: number): DynamoRequest => ({
  atMs: 0,
  caller: 'fn:rolloutSteps',
  invoked: true,
  operation: 'GetItem',
  kind: 'read',
  units,
});

describe('the cost of one deployment (bench/cost.ts)', () => {
  describe('billedDurationMs', () => {
    it('rounds a fraction of a millisecond up to the next whole one', () => {
      expect(billedDurationMs(1.0001)).toBe(2);
      expect(billedDurationMs(230.4)).toBe(231);
    });

    it('bills a whole number of milliseconds as it is', () => {
      expect(billedDurationMs(250)).toBe(250);
    });

    it('does not bill an extra millisecond for a float sum that is whole', () => {
      expect(billedDurationMs(0.1 + 0.2 + 0.7)).toBe(1);
    });

    it('bills at least one millisecond for an invocation that took no time', () => {
      expect(billedDurationMs(0)).toBe(1);
    });

    it('refuses a negative or non-finite duration', () => {
      expect(() => billedDurationMs(-1)).toThrow(RangeError);
      expect(() => billedDurationMs(Number.NaN)).toThrow(/not a duration/);
    });
  });

  describe('gbSeconds', () => {
    it('counts 1,024 MB as one GB and 1,000 ms as one second', () => {
      expect(gbSeconds(512, 1000)).toBe(0.5);
      expect(gbSeconds(128, 100)).toBeCloseTo(0.0125, 12);
      expect(gbSeconds(1024, 1)).toBe(0.001);
    });
  });

  describe('modelledDurationMs', () => {
    it('adds the virtual time, one round trip per call by service and the INIT of a cold start', () => {
      const model = { dynamoDbCallMs: 10, otherCallMs: 50, initMs: 200 };
      const ms = modelledDurationMs(
        invocation({ virtualMs: 1500, calls: { DynamoDB: 3, EC2: 2, 'Auto Scaling': 1 }, cold: true }),
        model,
      );
      expect(ms).toBe(1500 + 3 * 10 + 3 * 50 + 200);
    });

    it('adds no INIT to a warm invocation', () => {
      const model = { dynamoDbCallMs: 10, otherCallMs: 50, initMs: 200 };
      expect(modelledDurationMs(invocation({ calls: { DynamoDB: 1 } }), model)).toBe(10);
    });
  });

  describe('dynamoUnits', () => {
    it('sums read units as dynalite reported them, halves included', () => {
      expect(dynamoUnits([read(1), read(0.5), read(2)]).read).toBe(3.5);
    });

    it('adds one index write for a put that gives an item an index key', () => {
      const units = dynamoUnits([write({ operation: 'PutItem', units: 2, setsIndexKey: true })]);
      expect(units).toEqual({ read: 0, tableWrite: 2, indexWrite: 2 });
    });

    it('adds no index write for an item that never had an index key', () => {
      const units = dynamoUnits([
        write({ operation: 'PutItem', setsIndexKey: false }),
        write({ operation: 'UpdateItem' }),
        write({ operation: 'DeleteItem' }),
      ]);
      expect(units).toEqual({ read: 0, tableWrite: 3, indexWrite: 0 });
    });

    it('writes the index again when an indexed item is updated, twice when the update sets its index key', () => {
      const units = dynamoUnits([
        write({ operation: 'PutItem', setsIndexKey: true }),
        write({ operation: 'UpdateItem', setsIndexKey: false }),
        write({ operation: 'UpdateItem', setsIndexKey: true }),
      ]);
      expect(units.indexWrite).toBe(1 + 1 + 2);
    });

    it('writes the index when an indexed item is deleted, and not for writes after it', () => {
      const units = dynamoUnits([
        write({ operation: 'PutItem', setsIndexKey: true }),
        write({ operation: 'DeleteItem' }),
        write({ operation: 'UpdateItem' }),
      ]);
      expect(units.indexWrite).toBe(2);
    });

    it('keeps items apart by their key', () => {
      const units = dynamoUnits([
        write({ operation: 'PutItem', setsIndexKey: true, item: '["A"]' }),
        write({ operation: 'UpdateItem', item: '["B"]' }),
      ]);
      expect(units.indexWrite).toBe(1);
    });

    it('counts a failed condition as table write units and no index write', () => {
      const units = dynamoUnits([
        write({ operation: 'PutItem', setsIndexKey: true }),
        write({ operation: 'UpdateItem', conditionFailed: true, units: 1 }),
      ]);
      expect(units).toEqual({ read: 0, tableWrite: 2, indexWrite: 1 });
    });
  });

  describe('estimateCost', () => {
    const usage = (): DeploymentUsage => ({
      stateTransitions: 1000,
      invocations: [
        invocation({ virtualMs: 999.5 }), // billed 1,000 ms at 512 MB: 0.5 GB-s
        invocation({ virtualMs: 1000, architecture: 'x86_64', memoryMb: 1024 }), // 1 GB-s
      ],
      dynamo: [read(4), write({ operation: 'PutItem', units: 2, setsIndexKey: true })],
    });
    const model = { dynamoDbCallMs: 0, otherCallMs: 0, initMs: 0 };

    it('prices each line at its list price per unit', () => {
      const estimate = estimateCost(usage(), PRICES, model);
      const cost = (what: string) => estimate.lines.find((l) => l.what === what)?.usd;
      expect(cost('state transitions')).toBeCloseTo(0.025, 12);
      expect(cost('requests')).toBeCloseTo(2 * 0.2e-6, 15);
      expect(cost('GB-seconds (arm64)')).toBeCloseTo(0.5 * 0.0000133334, 15);
      expect(cost('GB-seconds (x86_64)')).toBeCloseTo(1 * 0.0000166667, 15);
      expect(cost('read request units')).toBeCloseTo(4 * 0.125e-6, 15);
      expect(cost('write request units (table)')).toBeCloseTo(2 * 0.625e-6, 15);
      expect(cost('write request units (index GSI1)')).toBeCloseTo(2 * 0.625e-6, 15);
    });

    it('totals the lines', () => {
      const estimate = estimateCost(usage(), PRICES, model);
      const sum = estimate.lines.reduce((a, l) => a + l.usd, 0);
      expect(estimate.totalUsd).toBeCloseTo(sum, 15);
      expect(estimate.lambda).toEqual({ invocations: 2, billedMs: 2000, gbSeconds: 1.5, coldStarts: 0 });
    });

    it('leaves out the x86_64 line when every function runs on arm64', () => {
      const estimate = estimateCost({ ...usage(), invocations: [invocation()] }, PRICES, model);
      expect(estimate.lines.map((l) => l.what)).not.toContain('GB-seconds (x86_64)');
    });

    it('cites a pricing page and the date it was read for every price', () => {
      for (const price of Object.values(PRICES)) {
        expect(price.source).toMatch(/^https:\/\/aws\.amazon\.com\/[a-z-]+\/pricing\//);
        expect(price.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
    });
  });

  describe('formatUsd', () => {
    it('shows three significant digits below a dollar and cents above', () => {
      expect(formatUsd(0.003152)).toBe('$0.00315');
      expect(formatUsd(0.000014)).toBe('$0.0000140');
      expect(formatUsd(0.225)).toBe('$0.225');
      expect(formatUsd(12.345)).toBe('$12.35');
      expect(formatUsd(0)).toBe('$0');
    });
  });
});
