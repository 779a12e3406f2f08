import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2Bake } from '../../../../shared/aws/ec2';
import type { TaskResumption } from '../../../../shared/aws/sfn';
import { TransientAwsError } from '../../../../shared/domain/step-errors';
import type { AuditEntry } from '../../../../shared/store';
import type { ExecutionReport } from '../../../../shared/usecases/bake/sweep';
import { reconcile, type ReconcileDeps } from '../../../../shared/usecases/reconcile/reconcile';
import { ROLLOUT_LEASE_MS } from '../../../../shared/usecases/rollout/progress';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';
import { world as rolloutWorld, type World as RolloutWorld } from '../rollout/harness';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const MINUTE = 60_000;
const ec2Mock = mockClient(EC2Client);
beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });
});

interface World extends RolloutWorld {
  /** Executions by deployment id; a deployment not named has none. */
  executions: Map<string, ExecutionReport['status']>;
  /** SendTaskSuccess calls, and how each answers (default: resumed). */
  sent: Array<{ token: string; output: unknown }>;
  answer: (token: string) => TaskResumption;
  runDeps(overrides?: Partial<ReconcileDeps>): ReconcileDeps;
  /** A run in the current hour, at its fifth minute (when deployments, locks and tokens are looked at). */
  run(overrides?: Partial<ReconcileDeps>, at?: number): ReturnType<typeof reconcile>;
  audit(deploymentOrEnvironment: string): Promise<AuditEntry[]>;
}

async function world(): Promise<World> {
  const base = await rolloutWorld(dynamo);
  const executions = new Map<string, ExecutionReport['status']>();
  const sent: World['sent'] = [];
  let runs = 0;
  const w: World = {
    ...base,
    executions,
    sent,
    answer: () => ({ outcome: 'resumed' }),
    runDeps: (overrides = {}) => ({
      store: base.store,
      now: () => base.clock.now,
      actor: 'reconciler',
      runId: `run-${++runs}`,
      describeExecution: async (id) => {
        const status = executions.get(id);
        return status === undefined ? undefined : { status };
      },
      succeed: async (token, output) => {
        sent.push({ token, output });
        return w.answer(token);
      },
      ec2: () => new Ec2Bake(new EC2Client({ region: 'us-east-1' })),
      autoScaling: base.deps.autoScaling,
      ...overrides,
    }),
    run: (overrides = {}, at = base.clock.now) =>
      reconcile(w.runDeps(overrides), { scheduledAt: at - (at % (60 * MINUTE)) + 5 * MINUTE }),
    audit: async (target) => (await base.store.listAudit({ target })).items,
  };
  return w;
}

/** d-1 rolling out in staging, holding its lock (renewed now), its execution as given. */
async function rollingOut(w: World, execution?: ExecutionReport['status']): Promise<void> {
  await w.deployment();
  const deployment = await w.store.getDeployment('d-1');
  await w.store.updateDeployment(
    'd-1',
    { release: { version: '1.4.2', amis: { 'us-east-1': 'ami-0aaaaaaaaaaaaaaa1' } } },
    deployment?.version ?? 0,
  );
  await w.store.moveDeployment('d-1', { from: 'baking', to: 'rolling-out' });
  await w.store.acquireLock('checkout', 'staging', {
    holder: 'd-1',
    deploymentId: 'd-1',
    leaseMs: ROLLOUT_LEASE_MS,
  });
  if (execution !== undefined) w.executions.set('d-1', execution);
}

async function lockWaiter(w: World, id: string): Promise<void> {
  await w.store.putTaskToken({
    waitKind: 'lock',
    key: `checkout/staging/${id}`,
    token: `token-${id}`,
    deploymentId: id,
    expiresAt: w.clock.now + 5 * MINUTE,
  });
}

describe('the reconciler', () => {
  describe('one run at a time', () => {
    it('does nothing while another run holds the reconcile claim', async () => {
      const w = await world();
      await w.deployment();
      w.advance(10 * MINUTE);
      await w.store.claim({
        scope: 'reconcile',
        key: 'run',
        holder: 'other-run',
        expiresAt: w.clock.now + MINUTE,
      });
      const report = await w.run();
      expect(report.outcome).toBe('busy');
      expect((await w.store.getDeployment('d-1'))?.status).toBe('baking');
    });

    it('lets the claim go when it is done, so the next minute runs', async () => {
      const w = await world();
      expect((await w.run()).outcome).toBe('reconciled');
      w.advance(MINUTE);
      expect((await w.run()).outcome).toBe('reconciled');
      expect(await w.store.getClaim('reconcile', 'run')).toBeUndefined();
    });

    it('takes over the claim of a run that died holding it', async () => {
      const w = await world();
      await w.store.claim({
        scope: 'reconcile',
        key: 'run',
        holder: 'dead-run',
        expiresAt: w.clock.now + MINUTE,
      });
      w.advance(2 * MINUTE);
      expect((await w.run()).outcome).toBe('reconciled');
    });
  });

  describe('deployments with no progress past their deadline', () => {
    it('fails one whose execution never started, releasing its lock and waking its waiters, audited as reconciler', async () => {
      const w = await world();
      await rollingOut(w);
      await lockWaiter(w, 'd-2');
      w.advance(20 * MINUTE);
      const report = await w.run();
      expect(report.deployments).toEqual(['d-1: failed']);
      const deployment = await w.store.getDeployment('d-1');
      expect(deployment).toMatchObject({ status: 'failed', outcome: 'never-started' });
      expect(deployment?.reason).toMatch(/never started .*; the lock of staging released/);
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
      expect(w.sent).toEqual([{ token: 'token-d-2', output: { woken: 'lock-released' } }]);
      const actors = [
        ...(await w.audit('deployment:d-1')),
        ...(await w.audit('environment:checkout/staging')),
      ]
        .filter((entry) => entry.at === new Date(w.clock.now).toISOString())
        .map((entry) => `${entry.action} by ${entry.actor}`);
      expect(actors.sort()).toEqual(['deployment.move by reconciler', 'lock.release by reconciler']);
    });

    it('sweeps one whose execution was stopped during the rollout (lock released, recorded failed)', async () => {
      const w = await world();
      await rollingOut(w, 'ABORTED');
      w.advance(6 * MINUTE);
      const report = await w.run();
      expect(report.deployments).toEqual(['d-1: failed']);
      expect((await w.store.getDeployment('d-1'))?.reason).toBe(
        'the deploy execution ended ABORTED during the rollout; the lock of staging released',
      );
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
    });

    it('leaves one whose execution still runs', async () => {
      const w = await world();
      await rollingOut(w, 'RUNNING');
      w.advance(10 * MINUTE);
      const report = await w.run();
      expect(report.deployments).toEqual([]);
      expect((await w.store.getDeployment('d-1'))?.status).toBe('rolling-out');
    });

    it('does not even ask about one that made progress within the last five minutes', async () => {
      const w = await world();
      await rollingOut(w, 'ABORTED');
      w.advance(4 * MINUTE);
      const asked: string[] = [];
      await w.run({
        describeExecution: async (id) => {
          asked.push(id);
          return { status: 'ABORTED' };
        },
      });
      expect(asked).toEqual([]);
      expect((await w.store.getDeployment('d-1'))?.status).toBe('rolling-out');
    });

    it('gives a deployment recorded a moment ago the time to start its execution', async () => {
      const w = await world();
      await w.deployment();
      w.advance(5 * MINUTE - 1);
      await w.run();
      expect((await w.store.getDeployment('d-1'))?.status).toBe('baking');
    });
  });

  describe('expired locks', () => {
    it('releases one whose holder has ended, wakes its waiters, and audits it as reconciler with the reason', async () => {
      const w = await world();
      await rollingOut(w, 'RUNNING');
      await w.store.moveDeployment('d-1', { from: 'rolling-out', to: 'succeeded' });
      await lockWaiter(w, 'd-2');
      w.advance(ROLLOUT_LEASE_MS + MINUTE);
      const report = await w.run();
      expect(report.locks).toEqual(['checkout/staging (d-1)']);
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock).toBeUndefined();
      expect(w.sent).toEqual([{ token: 'token-d-2', output: { woken: 'lock-released' } }]);
      const [entry] = await w.audit('environment:checkout/staging');
      expect(entry).toMatchObject({ actor: 'reconciler', action: 'lock.release-expired' });
      expect(entry?.reason).toMatch(/lease expired .* holder is gone \(d-1 is succeeded/);
    });

    it('leaves one whose holder still runs: it may still renew a lease nobody took over', async () => {
      const w = await world();
      await rollingOut(w, 'RUNNING');
      w.advance(ROLLOUT_LEASE_MS + MINUTE);
      const report = await w.run();
      expect(report.locks).toEqual([]);
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.holder).toBe('d-1');
    });

    it('leaves a lease that has not run out', async () => {
      const w = await world();
      await rollingOut(w, 'RUNNING');
      await w.store.moveDeployment('d-1', { from: 'rolling-out', to: 'succeeded' });
      w.advance(ROLLOUT_LEASE_MS - MINUTE);
      expect((await w.run()).locks).toEqual([]);
    });

    it('keeps a lease its holder renewed after the reconciler saw it expire', async () => {
      const w = await world();
      await rollingOut(w);
      w.advance(ROLLOUT_LEASE_MS + MINUTE);
      const seen = (await w.store.getEnvironmentState('checkout', 'staging')).lock;
      await w.store.renewLock('checkout', 'staging', { holder: 'd-1', leaseMs: ROLLOUT_LEASE_MS });
      const released = await w.store.releaseExpiredLock('checkout', 'staging', {
        holder: 'd-1',
        expiresAt: seen?.expiresAt ?? 0,
        actor: 'reconciler',
      });
      expect(released).toEqual({ outcome: 'changed' });
      expect((await w.store.getEnvironmentState('checkout', 'staging')).lock?.holder).toBe('d-1');
    });
  });

  describe('task tokens', () => {
    async function waiting(
      w: World,
      options: { waitKind?: 'refresh' | 'approval'; execution?: ExecutionReport['status']; late?: number },
    ) {
      await rollingOut(w, options.execution ?? 'RUNNING');
      await w.store.putTaskToken({
        waitKind: options.waitKind ?? 'refresh',
        key: options.waitKind === 'approval' ? 'd-1' : 'refresh-1',
        token: 'token-d-1',
        deploymentId: 'd-1',
        expiresAt: w.clock.now + 5 * MINUTE,
      });
      w.advance(5 * MINUTE + (options.late ?? 3 * MINUTE));
    }

    it('wakes a wait past its deadline so its step polls, audited as reconciler', async () => {
      const w = await world();
      await waiting(w, {});
      const report = await w.run();
      expect(report.woken).toEqual(['refresh/refresh-1']);
      expect(w.sent).toEqual([{ token: 'token-d-1', output: { woken: 'poll' } }]);
      const [entry] = await w.audit('deployment:d-1');
      expect(entry).toMatchObject({ actor: 'reconciler', action: 'reconcile.resume-wait' });
      expect(entry?.reason).toMatch(/no progress 180 s past the refresh wait's deadline/);
    });

    it('leaves a wait within its deadline and the grace after it', async () => {
      const w = await world();
      await waiting(w, { late: MINUTE });
      const report = await w.run();
      expect(report.woken).toEqual([]);
      expect(w.sent).toEqual([]);
    });

    it('never wakes an approval: its answer is a person’s, and its own timeout ends it', async () => {
      const w = await world();
      await waiting(w, { waitKind: 'approval' });
      const report = await w.run();
      expect(report.woken).toEqual([]);
      expect(await w.store.listTaskTokens({ waitKind: 'approval' })).toMatchObject({
        items: [{ key: 'd-1' }],
      });
    });

    it('deletes the token of a task whose execution ended, audited as an orphan', async () => {
      const w = await world();
      await waiting(w, { waitKind: 'approval', execution: 'FAILED' });
      await w.store.moveDeployment('d-1', { from: 'rolling-out', to: 'failed' });
      const report = await w.run();
      expect(report.deleted).toEqual(['approval/d-1']);
      expect(w.sent).toEqual([]);
      expect((await w.store.listTaskTokens()).items).toEqual([]);
      const [entry] = await w.audit('deployment:d-1');
      expect(entry).toMatchObject({ actor: 'reconciler', action: 'reconcile.delete-orphan-token' });
    });

    it('counts a woken task that turns out gone as an orphan deleted', async () => {
      const w = await world();
      await waiting(w, {});
      w.answer = () => ({ outcome: 'gone', code: 'TaskDoesNotExist' });
      const report = await w.run();
      expect(report).toMatchObject({ woken: [], deleted: ['refresh/refresh-1'] });
      expect((await w.audit('deployment:d-1'))[0]?.reason).toBe('its task is gone (TaskDoesNotExist)');
    });

    it('puts the token back when Step Functions fails transiently, and says the phase failed', async () => {
      const w = await world();
      await waiting(w, {});
      w.answer = () => {
        throw new TransientAwsError('SendTaskSuccess: throttled', 'ThrottlingException');
      };
      const report = await w.run();
      expect(report.errors).toEqual(['tokens: SendTaskSuccess: throttled']);
      expect((await w.store.listTaskTokens()).items).toMatchObject([{ key: 'refresh-1' }]);
    });

    it('leaves a wait that is not a deployment’s to its owner', async () => {
      const w = await world();
      await w.store.putTaskToken({
        waitKind: 'hook',
        key: 'i-0123456789abcdef0',
        token: 'token-hook',
        deploymentId: 'lifecycle-i-0123456789abcdef0',
        expiresAt: w.clock.now + MINUTE,
      });
      w.advance(30 * MINUTE);
      const report = await w.run();
      expect(report).toMatchObject({ woken: [], deleted: [] });
      expect((await w.store.listTaskTokens()).items).toHaveLength(1);
    });
  });

  describe('cadence', () => {
    it('looks at deployments, locks and tokens every fifth minute, and not in between', async () => {
      const w = await world();
      await w.deployment();
      w.advance(10 * MINUTE);
      const hour = w.clock.now - (w.clock.now % (60 * MINUTE));
      const between = await reconcile(w.runDeps(), { scheduledAt: hour + 6 * MINUTE });
      expect(between).toMatchObject({ records: false, deployments: [] });
      expect((await w.store.getDeployment('d-1'))?.status).toBe('baking');
      const fifth = await reconcile(w.runDeps(), { scheduledAt: hour + 10 * MINUTE });
      expect(fifth).toMatchObject({ records: true, deployments: ['d-1: failed'] });
    });

    it('takes no claim in a minute with nothing due', async () => {
      const w = await world();
      const hour = w.clock.now - (w.clock.now % (60 * MINUTE));
      await w.store.claim({
        scope: 'reconcile',
        key: 'run',
        holder: 'other-run',
        expiresAt: w.clock.now + MINUTE,
      });
      const report = await reconcile(w.runDeps(), { scheduledAt: hour + 6 * MINUTE });
      expect(report).toMatchObject({ outcome: 'reconciled', records: false });
      expect((await w.store.getClaim('reconcile', 'run'))?.holder).toBe('other-run');
    });

    it('runs the lifecycle and alarm healing every minute', async () => {
      const w = await world();
      let runs = 0;
      const hour = w.clock.now - (w.clock.now % (60 * MINUTE));
      for (const minute of [1, 2, 3]) {
        await reconcile(
          w.runDeps({
            healLifecycleActions: async () => ({ started: ++runs }),
          }),
          { scheduledAt: hour + minute * MINUTE },
        );
      }
      expect(runs).toBe(3);
    });
  });

  describe('bounded work', () => {
    it('stops after its actions per run, says so, and the next run goes on', async () => {
      const w = await world();
      for (const id of ['d-1', 'd-2', 'd-3']) await w.deployment({ id, environments: ['staging'] });
      w.advance(10 * MINUTE);
      const first = await w.run({ limits: { actionsPerRun: 2 } });
      expect(first).toMatchObject({ truncated: true });
      expect(first.deployments).toHaveLength(2);
      const second = await w.run({ limits: { actionsPerRun: 2 } });
      expect(second).toMatchObject({ truncated: false });
      expect(second.deployments).toHaveLength(1);
    });
  });

  describe('the other reactions’ healing', () => {
    it('runs the lifecycle and alarm ports and reports their counts', async () => {
      const w = await world();
      const report = await w.run({
        healLifecycleActions: async () => ({ started: 2 }),
        reconcileAlarms: async () => ({ rolledBack: 1 }),
      });
      expect(report).toMatchObject({ lifecycle: { started: 2 }, alarms: { rolledBack: 1 } });
    });

    it('says a port is unavailable when the stack has none', async () => {
      const w = await world();
      expect(await w.run()).toMatchObject({ lifecycle: 'unavailable', alarms: 'unavailable' });
    });

    it('reports a healer that fails and still runs the others', async () => {
      const w = await world();
      await w.deployment();
      w.advance(10 * MINUTE);
      const report = await w.run({
        healLifecycleActions: async () => {
          throw new Error('DescribeAutoScalingGroups throttled');
        },
        reconcileAlarms: async () => ({ rolledBack: 0 }),
      });
      expect(report.errors).toEqual(['lifecycle: DescribeAutoScalingGroups throttled']);
      expect(report).toMatchObject({ deployments: ['d-1: failed'], alarms: { rolledBack: 0 } });
    });
  });

  describe('bake leftovers', () => {
    it('scans for builders and images on a quarter hour, and not in between', async () => {
      const w = await world();
      const hour = w.clock.now - (w.clock.now % (60 * MINUTE));
      await reconcile(w.runDeps(), { scheduledAt: hour + 5 * MINUTE });
      expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
      const report = await reconcile(w.runDeps(), { scheduledAt: hour + 15 * MINUTE });
      expect(report.bakes).toEqual([]);
      expect(ec2Mock.commandCalls(DescribeInstancesCommand).length).toBeGreaterThan(0);
    });
  });
});
