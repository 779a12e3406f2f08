import {
  countByVersion,
  EXECUTION_CHECK_EVERY,
  followDeployment,
  groupsOf,
  progressLine,
  type FollowDeps,
} from '../../../cli/follow';
import type { Deployment } from '../../../shared/store';
import { checkoutManifest, T0 } from '../../support/deployment-fixtures';

const ID = '01JZ0000000000000000000001';

function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: ID,
    service: 'checkout',
    releaseVersion: '1.2.0',
    environments: ['staging', 'production'],
    trigger: 'cli',
    actor: 'cli:alice',
    status: 'rolling-out',
    steps: [],
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    version: 1,
    ...overrides,
  };
}

/** Follows scripted records: the n-th read returns records[n] (the last one from then on). */
function scripted(records: Deployment[], more: Partial<FollowDeps> = {}) {
  let now = T0;
  let reads = 0;
  const written: string[] = [];
  const deps: FollowDeps = {
    read: async () => records[Math.min(reads++, records.length - 1)],
    instances: async () => undefined,
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    write: (text) => written.push(text),
    tty: false,
    ...more,
  };
  return { deps, written, reads: () => reads };
}

describe('followDeployment', () => {
  it('stops following when the execution has ended but the record never will, exit not ok', async () => {
    const running = deployment({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln:${ID}`,
    });
    const { deps, written } = scripted([running], {
      execution: async () => ({
        status: 'FAILED',
        error: 'States.Runtime',
        cause: 'the step function was deleted',
      }),
    });

    const result = await followDeployment(ID, deps);

    expect(result.ok).toBe(false);
    expect(written.at(-1)).toBe(
      `deployment ${ID} is still rolling-out, but its execution ended FAILED (States.Runtime: the step function was deleted)\n`,
    );
    expect(written.filter((line) => line.startsWith('['))).toHaveLength(1);
  });

  it('asks the execution only every few polls, and keeps following while it runs', async () => {
    let asked = 0;
    const records = [
      ...Array.from({ length: EXECUTION_CHECK_EVERY * 2 }, () => deployment()),
      deployment({ status: 'succeeded' }),
    ];
    const { deps } = scripted(records, {
      execution: async () => {
        asked++;
        return { status: 'RUNNING' };
      },
    });

    const result = await followDeployment(ID, deps);

    expect(result.ok).toBe(true);
    expect(asked).toBe(2);
  });

  it('trusts a final record read after the execution ended', async () => {
    const { deps } = scripted(
      [
        ...Array.from({ length: EXECUTION_CHECK_EVERY }, () => deployment()),
        deployment({ status: 'succeeded' }),
      ],
      { execution: async () => ({ status: 'SUCCEEDED' }) },
    );

    expect((await followDeployment(ID, deps)).ok).toBe(true);
  });

  it('keeps a redrawn line within the terminal width', async () => {
    const { deps, written } = scripted([deployment(), deployment({ status: 'succeeded' })], {
      tty: true,
      columns: 20,
    });

    await followDeployment(ID, deps);

    expect(written[0]).toBe('\r\x1b[2K[09:00:00] rolling-');
  });
});

describe('progressLine', () => {
  it.each([
    ['queued', deployment({ status: 'queued' }), 'queued · waiting for its execution to begin'],
    ['baking', deployment({ status: 'baking' }), 'baking · baking 1.2.0'],
    [
      'waiting for an approval, with the command that gives it',
      deployment({
        status: 'waiting-approval',
        rollout: {
          environment: 'staging',
          index: 0,
          strategy: 'rolling',
          phase: 'waiting-approval',
          detail: 'approval for production until 2026-06-02T09:00:00.000Z',
          at: new Date(T0).toISOString(),
        },
      }),
      'waiting-approval · staging (1/2) waiting-approval: approval for production until 2026-06-02T09:00:00.000Z · ' +
        `approve with \`kiln approve ${ID}\``,
    ],
    [
      'asked to abort',
      deployment({ abort: { actor: 'cli:bob', at: new Date(T0).toISOString() } }),
      'rolling-out · abort requested by cli:bob',
    ],
  ])('describes a deployment %s', (_what, record, line) => {
    expect(progressLine(record)).toBe(line);
  });

  it('says why the instances are unknown', () => {
    expect(progressLine(deployment(), 'AutoScaling.describeGroup is not implemented yet')).toBe(
      'rolling-out · instances unknown (AutoScaling.describeGroup is not implemented yet)',
    );
  });
});

describe('groupsOf', () => {
  it("reads blue/green's two groups once the rollout names them, in the environment's region", () => {
    const record = deployment({
      rollout: {
        environment: 'production',
        index: 1,
        strategy: 'blue-green',
        phase: 'health-gate',
        fromGroup: 'checkout-production',
        toGroup: 'checkout-production-kiln-1',
        at: new Date(T0).toISOString(),
      },
    });

    expect(groupsOf(record, checkoutManifest(), undefined)).toEqual({
      region: 'us-west-2',
      groups: ['checkout-production', 'checkout-production-kiln-1'],
    });
  });

  it("reads the environment's active group before the rollout names any", () => {
    expect(groupsOf(deployment(), checkoutManifest(), { activeGroup: 'checkout-staging-kiln-2' })).toEqual({
      region: 'us-east-1',
      groups: ['checkout-staging-kiln-2'],
    });
  });
});

describe('countByVersion', () => {
  it('orders versions numerically, instances without a version last', () => {
    const instance = (version: string | undefined, lifecycleState = 'InService') => ({
      instanceId: 'i-0',
      lifecycleState,
      healthStatus: 'Healthy',
      protectedFromScaleIn: false,
      ...(version === undefined ? {} : { launchTemplateVersion: version }),
    });
    const group = {
      name: 'g',
      arn: 'arn',
      capacity: { min: 0, max: 9, desired: 4 },
      subnets: [],
      healthCheckType: 'EC2',
      healthCheckGracePeriod: 0,
      targetGroupArns: [],
      tags: {},
      suspendedProcesses: [],
      instances: [instance('10'), instance(undefined), instance('9', 'Terminating:Wait'), instance('9')],
    };

    expect(countByVersion([group, undefined])).toEqual([
      { version: '9', total: 2, notInService: { 'Terminating:Wait': 1 } },
      { version: '10', total: 1, notInService: {} },
      { version: '?', total: 1, notInService: {} },
    ]);
  });
});
