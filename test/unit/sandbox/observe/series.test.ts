import type { TimedEntry } from '../../../../sandbox/core/timeline';
import type { InstanceFacts, RunRecord } from '../../../../sandbox/observe/record';
import fc from 'fast-check';
import { fleetSeries, healthyIn, LatestFleets, type FleetSample } from '../../../../sandbox/observe/series';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc';
const ALARM = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx';

function state(t: number, resource: string, from: string | null, to: string): TimedEntry {
  return { t, kind: 'state', resource, from, to };
}

function instance(id: string, version: string): [string, InstanceFacts] {
  return [id, { instanceId: id, imageId: `ami-${version}`, version, group: 'web', launchedAt: 0 }];
}

function recordOf(entries: TimedEntry[]): RunRecord {
  return {
    entries,
    instances: new Map([instance('i-1', '1.0.0'), instance('i-2', '2.0.0')]),
    groups: new Map(),
    environments: [
      {
        service: 'web',
        environment: 'production',
        groups: ['web', 'web-2.0.0'],
        targetGroupArns: [TG],
        alarmNames: ['web-5xx'],
        alarmArns: [ALARM],
      },
    ],
    region: 'us-east-1',
    accountId: '123456789012',
  };
}

describe('fleetSeries', () => {
  it('counts InService instances by the release they launched with, over every group of the environment', () => {
    const [series] = fleetSeries(
      recordOf([
        state(0, 'autoscaling:web/i-1', null, 'Pending'),
        state(30, 'autoscaling:web/i-1', 'Pending', 'InService'),
        state(40, 'autoscaling:web-2.0.0/i-2', null, 'Pending'),
        state(70, 'autoscaling:web-2.0.0/i-2', 'Pending', 'InService'),
      ]),
    );
    expect(series?.samples.map((s) => [s.t, s.inServiceByVersion, s.launching, s.instances])).toEqual([
      [0, {}, 1, 1],
      [30, { '1.0.0': 1 }, 0, 1],
      [40, { '1.0.0': 1 }, 1, 2],
      [70, { '1.0.0': 1, '2.0.0': 1 }, 0, 2],
    ]);
  });

  it('counts InService instances by group too, so blue and green show apart', () => {
    const [series] = fleetSeries(
      recordOf([
        state(0, 'autoscaling:web/i-1', null, 'InService'),
        state(40, 'autoscaling:web-2.0.0/i-2', null, 'Pending'),
        state(70, 'autoscaling:web-2.0.0/i-2', 'Pending', 'InService'),
        state(90, 'autoscaling:web/i-1', 'InService', 'Terminated'),
      ]),
    );
    expect(series?.samples.map((s) => [s.t, s.inServiceByGroup])).toEqual([
      [0, { web: 1 }],
      [40, { web: 1 }],
      [70, { web: 1, 'web-2.0.0': 1 }],
      [90, { 'web-2.0.0': 1 }],
    ]);
  });

  it('makes one sample of several changes at one instant, and none when nothing it counts changed', () => {
    const [series] = fleetSeries(
      recordOf([
        state(10, `${TG}/i-1`, null, 'initial'),
        state(20, `${TG}/i-1`, 'initial', 'healthy'),
        state(20, ALARM, 'OK', 'ALARM'),
        state(25, 'autoscaling:other-group/i-9', null, 'Pending'),
        state(30, `${TG}/i-1#deregistration`, 'in-progress', 'complete'),
      ]),
    );
    expect(series?.samples).toHaveLength(2);
    expect(series?.samples[1]).toMatchObject({
      t: 20,
      targets: { healthy: 1 },
      alarms: { 'web-5xx': 'ALARM' },
    });
    expect(healthyIn(series!.samples[1]!)).toBe(1);
  });

  it('forgets a target once it has left the group (unused) and an instance once Terminated', () => {
    const [series] = fleetSeries(
      recordOf([
        state(0, 'autoscaling:web/i-1', null, 'InService'),
        state(0, `${TG}/i-1`, null, 'healthy'),
        state(50, `${TG}/i-1`, 'healthy', 'draining'),
        state(50, 'autoscaling:web/i-1', 'InService', 'Terminating:Wait'),
        state(350, `${TG}/i-1`, 'draining', 'unused'),
        state(360, 'autoscaling:web/i-1', 'Terminating:Proceed', 'Terminated'),
      ]),
    );
    expect(series?.samples.map((s) => [s.t, s.targets, s.waiting, s.terminating, s.instances])).toEqual([
      [0, { healthy: 1 }, 0, 0, 1],
      [50, { draining: 1 }, 1, 1, 1],
      [350, {}, 1, 1, 1],
      [360, {}, 0, 0, 0],
    ]);
  });
});

describe('LatestFleets', () => {
  const without = (sample: FleetSample | undefined) => {
    if (sample === undefined) return undefined;
    const { t: _t, ...rest } = sample;
    return rest;
  };
  const resources = [
    'autoscaling:web/i-1',
    'autoscaling:web/i-2',
    'autoscaling:web-2.0.0/i-2',
    'autoscaling:other/i-9',
    'autoscaling:web#hook',
    `${TG}/i-1`,
    `${TG}/i-2`,
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/def/i-9',
    ALARM,
  ];
  const states = ['Pending', 'Pending:Wait', 'InService', 'Terminating:Wait', 'Terminated', 'Detached'];
  const targetStates = ['initial', 'healthy', 'unhealthy', 'draining', 'unused'];

  it('tells, as the timeline grows, what fleetSeries’ last sample would tell (its time aside), also when Kiln adds a group', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            resource: fc.integer({ min: 0, max: resources.length - 1 }),
            state: fc.integer({ min: 0, max: 9 }),
            dt: fc.integer({ min: 0, max: 2 }),
            look: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        fc.integer({ min: 0, max: 60 }),
        (steps, greenFrom) => {
          const latest = new LatestFleets();
          const entries: TimedEntry[] = [];
          let t = 0;
          steps.forEach((step, i) => {
            t += step.dt;
            const resource = resources[step.resource]!;
            const to = resource.startsWith('arn:aws:elasticloadbalancing')
              ? targetStates[step.state % targetStates.length]!
              : resource === ALARM
                ? ['OK', 'ALARM', 'INSUFFICIENT_DATA'][step.state % 3]!
                : states[step.state % states.length]!;
            entries.push(state(t, resource, null, to));
            if (!step.look && i !== steps.length - 1) return;
            const record = recordOf([...entries]);
            // Before `greenFrom`, the environment does not know its green group yet.
            if (i < greenFrom) record.environments[0]!.groups = ['web'];
            const expected = without(fleetSeries(record)[0]!.samples.at(-1));
            expect(without(latest.latest(record).get('production'))).toEqual(expected);
          });
        },
      ),
    );
  });
});
