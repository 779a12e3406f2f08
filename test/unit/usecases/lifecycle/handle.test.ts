import type { LifecycleAction } from '../../../../shared/domain/lifecycle';
import type {
  CommandsPort,
  DrainPort,
  GroupsPort,
  LifecycleActionsPort,
  LifecycleDeps,
  LifecycleProgress,
} from '../../../../shared/usecases/lifecycle/deps';
import { advanceLifecycle, completeLifecycle } from '../../../../shared/usecases/lifecycle/handle';
import type { GroupDescription } from '../../../../shared/usecases/rollout/deps';
import { fakeClock, seededCheckout, T0, type Clock } from '../../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';

const TG =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-staging/6d0ecf831eec9f09';
const RELEASE_AMI = 'ami-0aaaaaaaaaaaaaaa1';

function group(overrides: Partial<GroupDescription> = {}): GroupDescription {
  return {
    name: 'checkout-staging',
    arn: 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/checkout-staging',
    capacity: { min: 2, max: 8, desired: 4 },
    subnets: [],
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 60,
    targetGroupArns: [TG],
    tags: { 'kiln:managed': 'true' },
    suspendedProcesses: [],
    instances: [],
    ...overrides,
  };
}

/** AWS as the handling sees it: a target that drains for `delay` seconds after deregistration. */
function fakeAws(
  clock: Clock,
  options: {
    delay?: number;
    heartbeat?: number;
    group?: GroupDescription | undefined;
    imageId?: string;
    active?: boolean;
  } = {},
) {
  const delay = options.delay ?? 300;
  const calls: string[] = [];
  let deregisteredAt: number | undefined;
  let active = options.active ?? true;
  const groups: GroupsPort = {
    describeGroup: async () => ('group' in options ? options.group : group()),
    findGroupsByTags: async () => [],
    lifecycleHooks: async () => [
      {
        name: 'kiln-drain',
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeoutSeconds: options.heartbeat ?? 60,
      },
      {
        name: 'kiln-verify',
        transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        heartbeatTimeoutSeconds: options.heartbeat ?? 60,
      },
    ],
  };
  const actions: LifecycleActionsPort = {
    complete: async (_a, result) => {
      calls.push(`complete ${result}`);
      const was = active;
      active = false;
      return was ? 'completed' : 'no-active-action';
    },
    heartbeat: async () => {
      calls.push('heartbeat');
      return active ? 'recorded' : 'no-active-action';
    },
  };
  const drain: DrainPort = {
    deregister: async () => {
      calls.push('deregister');
      deregisteredAt ??= clock.now();
      return 'deregistered';
    },
    targetState: async () => {
      calls.push('describe-target');
      return deregisteredAt !== undefined && clock.now() >= deregisteredAt + delay * 1000
        ? 'unused'
        : 'draining';
    },
    deregistrationDelaySeconds: async () => delay,
  };
  const commands: CommandsPort = {
    sendOnce: async () => {
      calls.push('send-stop');
      return { commandId: 'cmd-1', sent: true };
    },
    commandResult: async () => ({ state: 'success', status: 'Success' }),
  };
  return {
    calls,
    ports: {
      groups: () => groups,
      actions: () => actions,
      drain: () => drain,
      instances: () => ({
        describe: async () => ({ imageId: options.imageId ?? RELEASE_AMI, state: 'running' }),
      }),
      commands: () => commands,
    },
  };
}

const terminate = (overrides: Partial<LifecycleAction> = {}): LifecycleAction => ({
  region: 'us-east-1',
  groupName: 'checkout-staging',
  instanceId: 'i-0123456789abcdef0',
  transition: 'terminate',
  hookName: 'kiln-drain',
  token: 'token-1',
  startedAt: T0,
  source: 'event',
  ...overrides,
});

/** Runs the handling as the state machine does: advance, sleep, advance … then complete. */
async function handle(action: LifecycleAction, deps: LifecycleDeps, clock: Clock) {
  let progress: LifecycleProgress = { phase: 'begin', next: 'wait' };
  const sleeps: number[] = [];
  for (let i = 0; i < 1000; i++) {
    progress = await advanceLifecycle(action, progress, deps);
    if (progress.next !== 'wait') break;
    sleeps.push(progress.waitSeconds ?? 0);
    clock.advance((progress.waitSeconds ?? 0) * 1000);
  }
  const report =
    progress.next === 'complete' ? await completeLifecycle(action, progress, undefined, deps) : undefined;
  return { progress, report, sleeps };
}

describe('lifecycle handling', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  async function setup(options: Parameters<typeof fakeAws>[1] = {}) {
    const clock = fakeClock();
    const { store } = await seededCheckout(dynamo, clock);
    const aws = fakeAws(clock, options);
    const deps: LifecycleDeps = { store, now: clock.now, ...aws.ports };
    return { clock, store, deps, calls: aws.calls };
  }

  describe('on terminate', () => {
    it('deregisters, waits until the target left draining, heartbeats meanwhile, then completes CONTINUE', async () => {
      const { clock, deps, calls, store } = await setup({ delay: 300, heartbeat: 60 });
      const { report, progress } = await handle(terminate(), deps, clock);
      expect(report).toMatchObject({ result: 'CONTINUE', outcome: 'completed', reason: 'drained' });
      expect(calls[0]).toBe('deregister');
      expect(calls.indexOf('complete CONTINUE')).toBeGreaterThan(calls.lastIndexOf('describe-target'));
      expect(clock.now() - T0).toBeGreaterThanOrEqual(300_000);
      expect(progress.heartbeats).toBeGreaterThanOrEqual(9);
      const audit = (await store.listAudit({ target: 'instance:us-east-1/i-0123456789abcdef0' })).items;
      expect(audit).toEqual([
        expect.objectContaining({
          action: 'lifecycle.terminate',
          actor: 'kiln:lifecycle',
          service: 'checkout',
        }),
      ]);
    });

    it('never sleeps past half the heartbeat timeout', async () => {
      const { clock, deps } = await setup({ delay: 600, heartbeat: 30 });
      const { sleeps } = await handle(terminate(), deps, clock);
      expect(Math.max(...sleeps)).toBeLessThanOrEqual(15);
    });

    it('completes at its deadline, before the global timeout, when a target never leaves draining', async () => {
      const { clock, deps, calls } = await setup({ delay: 100_000 });
      // A delay longer than the action can wait (60 s heartbeat → 6,000 s global timeout).
      const { report, progress } = await handle(terminate(), deps, clock);
      expect(report?.result).toBe('CONTINUE');
      expect(clock.now() - T0).toBeLessThan(6000 * 1000);
      expect(progress.notes?.join(' ')).toContain('deadline');
      expect(calls.at(-1)).toBe('complete CONTINUE');
    });

    it('treats "no active lifecycle action" as done', async () => {
      const { clock, deps } = await setup({ active: false });
      const { report } = await handle(terminate(), deps, clock);
      expect(report).toMatchObject({ result: 'CONTINUE', outcome: 'no-active-action' });
    });

    it('leaves a group that is not Kiln’s to its owner', async () => {
      const { clock, deps, calls } = await setup({ group: group({ name: 'someone-else', tags: {} }) });
      const { progress, report } = await handle(terminate({ groupName: 'someone-else' }), deps, clock);
      expect(progress.next).toBe('ignore');
      expect(report).toBeUndefined();
      expect(calls).toEqual([]);
    });

    it('completes CONTINUE with the error recorded when a step failed', async () => {
      const { deps, store } = await setup();
      const report = await completeLifecycle(
        terminate(),
        { phase: 'draining', next: 'wait', service: 'checkout' },
        {
          Error: 'AwsRequestRefusedError',
          Cause: JSON.stringify({ errorMessage: 'handling i-0123456789abcdef0: AccessDenied' }),
        },
        deps,
      );
      expect(report).toMatchObject({ result: 'CONTINUE', outcome: 'completed' });
      expect(report.reason).toContain('AccessDenied');
      const audit = (await store.listAudit({ target: 'instance:us-east-1/i-0123456789abcdef0' })).items;
      expect(audit[0]?.reason).toContain('handling failed (AwsRequestRefusedError');
    });
  });

  describe('on launch', () => {
    const launch = (): LifecycleAction => terminate({ transition: 'launch', hookName: 'kiln-verify' });

    it('continues an instance running the release’s AMI', async () => {
      const { clock, deps } = await setup();
      const { report } = await handle(launch(), deps, clock);
      expect(report).toMatchObject({ result: 'CONTINUE', outcome: 'completed' });
    });

    it('abandons an instance on a stale AMI and audits it as drift', async () => {
      const { clock, deps, store } = await setup({ imageId: 'ami-0stale000000000000' });
      const { report } = await handle(launch(), deps, clock);
      expect(report?.result).toBe('ABANDON');
      expect(report?.reason).toContain('drift: the instance runs ami-0stale000000000000');
      const audit = (await store.listAudit({ target: 'instance:us-east-1/i-0123456789abcdef0' })).items;
      expect(audit[0]?.action).toBe('lifecycle.drift');
    });
  });
});
