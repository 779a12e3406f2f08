import { runSandbox } from '../../sandbox/run';
import { drainChecks, drainStorm, type DrainRecord, type DrainRun } from '../../sandbox/stories/drain';

const CHECKS = [
  'no action completed before its targets left draining',
  'every action completed before its timeout',
  'Kiln completed every action CONTINUE (none lost, none left to the timeout)',
];

describe('the drain story (scale-in of 6 behind a 300 s deregistration delay, 60 s heartbeat timeout)', () => {
  it('drains, heartbeats and stops every instance before Kiln completes its hook', async () => {
    const result = await runSandbox({ seed: 7, fleet: 6, scenario: 'drain' });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.map((c) => c.name)).toEqual(expect.arrayContaining(CHECKS));
  }, 60_000);

  it('handles each action once when every event is delivered twice', async () => {
    const result = await runSandbox({
      seed: 11,
      fleet: 6,
      scenario: 'drain',
      region: { faults: [{ kind: 'event-duplicate' }] },
    });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.faultsStruck.length).toBeGreaterThan(0);
  }, 60_000);
});

describe('the drain story when a step fails past its retries', () => {
  it('still completes every action CONTINUE before its timeout (Run Command failing on every call)', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 6,
      scenario: 'drain',
      region: { faults: [{ kind: 'api-5xx', key: 'SSM:SendCommand' }] },
    });
    // The graceful stop never ran; every action was completed anyway, after its drain.
    expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      'each instance heartbeated through the 300 s drain and stopped gracefully',
    ]);
    expect(result.faultsStruck).toEqual([expect.objectContaining({ rule: 'api-5xx:SSM:SendCommand' })]);
  }, 60_000);
});

describe('a drain storm (100 instances at once, AWS request rates on)', () => {
  // The catalog's drain-storm is 1,000 instances: a scale figure, which `npm run bench` measures and
  // judges (bench/drain.ts; 50 s of CPU here). A hundred at once are already far past ELB's and
  // EC2's request rates, so the calls that decide each action are throttled and retried, which is
  // what this rule is about: none lost, none left to its timeout, none completed while draining.
  it('completes every action, drained first, before its timeout, none lost, through throttled calls', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 6,
      scenario: 'storm',
      stories: { storm: drainStorm(100) },
    });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.figures.instances).toBe(100);
    expect(result.figures['throttled calls']).toBeGreaterThan(0);
  }, 120_000);
});

describe('drainChecks (the rules the stories hold)', () => {
  const record = (overrides: Partial<DrainRecord>): DrainRecord => ({
    instanceId: 'i-0000000000000000a',
    waitAt: 100,
    unusedAt: 400,
    proceedAt: 410,
    audit: {
      actor: 'kiln:lifecycle',
      action: 'lifecycle.terminate',
      target: 'instance:us-east-1/i-0000000000000000a',
      after: { result: 'CONTINUE', outcome: 'completed' },
      at: '2026-01-01T00:00:00.000Z',
    },
    ...overrides,
  });
  const run = (records: DrainRecord[]): DrainRun => ({
    records,
    heartbeatTimeoutSeconds: 60,
    calls: new Map(),
    throttled: 0,
    groupName: 'shop-production',
  });
  const failed = (records: DrainRecord[]) =>
    drainChecks(run(records), records.length)
      .filter((c) => !c.ok)
      .map((c) => c.name);

  it('passes a drain completed after its target left draining', () => {
    expect(failed([record({})])).toEqual([]);
  });

  it('fails an action completed while its target was still draining', () => {
    expect(failed([record({ proceedAt: 150 })])).toEqual([
      'no action completed before its targets left draining',
    ]);
  });

  it('fails an action left to its hook’s timeout', () => {
    const timedOut = record({ proceedAt: 100 + 6000 });
    delete timedOut.audit;
    expect(failed([timedOut])).toEqual([
      'every action completed before its timeout',
      'Kiln completed every action CONTINUE (none lost, none left to the timeout)',
    ]);
  });
});
