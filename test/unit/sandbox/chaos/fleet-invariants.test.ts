import type { TimedEntry } from '../../../../sandbox/core/timeline';
import type { RunRecord } from '../../../../sandbox/observe/record';
import { checkHealthyCapacity, checkLifecycle } from '../../../../sandbox/chaos/fleet-invariants';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';

function recordOf(entries: TimedEntry[]): RunRecord {
  return {
    entries,
    instances: new Map(),
    groups: new Map(),
    environments: [
      {
        service: 'web',
        environment: 'production',
        groups: ['web-production'],
        targetGroupArns: [TG],
        alarmNames: [],
        alarmArns: [],
        minHealthyPercentage: 90,
      },
    ],
    region: 'us-east-1',
    accountId: '123456789012',
  };
}

const target = (t: number, instance: string, from: string | null, to: string): TimedEntry => ({
  t,
  kind: 'state',
  resource: `${TG}/${instance}`,
  from,
  to,
});
const member = (t: number, instance: string, from: string | null, to: string): TimedEntry => ({
  t,
  kind: 'state',
  resource: `autoscaling:web-production/${instance}`,
  from,
  to,
});

describe('the healthy capacity invariant', () => {
  const twoHealthy = [target(10, 'i-1', 'initial', 'healthy'), target(12, 'i-2', 'initial', 'healthy')];
  const capacity = [{ t: 0, group: 'web-production', desired: 2 }];

  it('reports the first moment an environment serves below its floor', () => {
    const record = recordOf([...twoHealthy, target(100, 'i-1', 'healthy', 'draining')]);
    expect(checkHealthyCapacity(record, { capacity })).toEqual([
      {
        invariant: 'healthy-capacity',
        detail: 'web/production at 100 s: 1 healthy, below its floor 2 (90% of 2)',
      },
    ]);
  });

  it('excuses a shortfall AWS made itself (an instance it found unhealthy)', () => {
    const record = recordOf([
      ...twoHealthy,
      {
        t: 95,
        kind: 'state',
        resource: 'autoscaling:web-production/i-1#health',
        from: 'Healthy',
        to: 'Unhealthy',
      },
      target(100, 'i-1', 'healthy', 'draining'),
    ]);
    expect(checkHealthyCapacity(record, { capacity })).toEqual([]);
  });

  it('does not hold a fleet still coming up to capacity it never served', () => {
    const record = recordOf([target(10, 'i-1', 'initial', 'healthy')]);
    expect(checkHealthyCapacity(record, { capacity })).toEqual([]);
  });
});

describe('the lifecycle invariants', () => {
  const hook = { heartbeatTimeout: () => 300 };
  const TERMINATING = [
    member(10, 'i-1', 'InService', 'Terminating'),
    member(10, 'i-1', 'Terminating', 'Terminating:Wait'),
  ];

  it('reports a wait its hook timed out because Kiln never completed it', () => {
    const record = recordOf([...TERMINATING, member(310, 'i-1', 'Terminating:Wait', 'Terminating:Proceed')]);
    const violations = checkLifecycle(record, { ...hook, completions: [] }, new Map(), 400);
    expect(violations.map((v) => v.invariant)).toEqual(['lifecycle-wait']);
    expect(violations[0]?.detail).toMatch(
      /left to its hook's timeout: Kiln never completed it \(it ended after 300 s\)/,
    );
  });

  it('reports a wait still open past its heartbeat timeout', () => {
    const violations = checkLifecycle(recordOf(TERMINATING), { ...hook, completions: [] }, new Map(), 1000);
    expect(violations).toEqual([
      {
        invariant: 'lifecycle-wait',
        detail:
          'i-1 (web-production) in Terminating:Wait from 10 s still waits after 990 s (heartbeat timeout 300 s)',
      },
    ]);
  });

  it('holds when Kiln completed the action once and audited it once', () => {
    const record = recordOf([...TERMINATING, member(70, 'i-1', 'Terminating:Wait', 'Terminating:Proceed')]);
    const completions = [
      { t: 70, group: 'web-production', hook: 'drain', instanceId: 'i-1', result: 'CONTINUE' },
    ];
    const audited = new Map([['i-1', [{ t: 70.2, transition: 'terminate' as const }]]]);
    expect(checkLifecycle(record, { ...hook, completions }, audited, 400)).toEqual([]);
  });

  it('reports a completion Auto Scaling accepted that Kiln did not audit', () => {
    const record = recordOf([...TERMINATING, member(70, 'i-1', 'Terminating:Wait', 'Terminating:Proceed')]);
    const completions = [
      { t: 70, group: 'web-production', hook: 'drain', instanceId: 'i-1', result: 'CONTINUE' },
    ];
    expect(checkLifecycle(record, { ...hook, completions }, new Map(), 400).map((v) => v.detail)).toEqual([
      "i-1 (web-production) in Terminating:Wait from 10 s: Kiln's audit log records 0 completion(s), Auto Scaling accepted 1",
    ]);
  });
});
