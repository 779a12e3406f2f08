import {
  attachGreen,
  checkBlueGreenRollback,
  checkGreen,
  checkHealthGate,
  checkWatch,
  createGreen,
  retireBlue,
  rollbackBlueGreen,
  switchTraffic,
  watchAlarms,
} from '../../../../shared/usecases/rollout/blue-green';
import type { RolloutState } from '../../../../shared/usecases/rollout/deps';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';
import {
  BLUE,
  DEPLOYMENT,
  ENV,
  GREEN,
  SERVICE,
  T0,
  TG_ADMIN,
  TG_API,
  harness,
  policyArn,
  type Harness,
} from './blue-green-harness';

const SWITCH = ['AZRebalance', 'ScheduledActions', 'AlarmNotification'];

describe('blue/green use cases', () => {
  let dynamo: LocalDynamo;
  let h: Harness;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.stop();
  });
  beforeEach(async () => {
    h = await harness(dynamo);
  });

  /** Runs create-green and returns the state as the ASL carries it on ($.env replaced). */
  async function created(state: RolloutState = h.state()): Promise<RolloutState> {
    return { ...state, env: await createGreen(state, h.deps) };
  }

  /** Green's instances up and healthy in both target groups. */
  function greenServes(count = 3): string[] {
    const ids = h.asg.launch(GREEN, count);
    h.targets.set(TG_API, ids, 'healthy');
    h.targets.set(TG_ADMIN, ids, 'healthy');
    return ids;
  }

  async function switched(): Promise<RolloutState> {
    const state = await created();
    greenServes();
    const attached = { ...state, env: await attachGreen(state, h.deps) };
    return { ...attached, env: await switchTraffic(attached, h.deps) };
  }

  describe('createGreen', () => {
    it("clones blue: the new launch template version, subnets, health check, warmup, tags, hooks with the group, no target groups, blue's capacity", async () => {
      await createGreen(h.state(), h.deps);

      const [, , spec] = h.asg.callsOf('createGroup')[0]!;
      expect(spec).toEqual({
        name: GREEN,
        launchTemplate: { id: 'lt-0abc', version: 8 },
        capacity: { min: 2, max: 6, desired: 3 },
        subnets: ['subnet-a', 'subnet-b'],
        healthCheckType: 'ELB',
        healthCheckGracePeriod: 90,
        defaultInstanceWarmup: 60,
        tags: {
          team: 'finance-platform',
          'kiln:managed': 'true',
          'kiln:service': SERVICE,
          'kiln:environment': ENV,
          'kiln:release': '2.0.0',
          'kiln:deployment-id': DEPLOYMENT,
          'kiln:role': 'green',
        },
        lifecycleHooks: [
          { name: 'drain', transition: 'autoscaling:EC2_INSTANCE_TERMINATING', heartbeatTimeoutSeconds: 300 },
        ],
        targetGroupArns: [],
      });
    });

    it("suspends AZRebalance, ScheduledActions and AlarmNotification on blue before green exists, then on green, and copies blue's scaling policies", async () => {
      await createGreen(h.state(), h.deps);

      const order = h.asg.calls.map(([op, name]) => `${op} ${name}`);
      expect(order).toEqual([
        `suspendProcesses ${BLUE}`,
        `createGroup ${GREEN}`,
        `suspendProcesses ${GREEN}`,
        `putScalingPolicy ${GREEN}`,
        `putScalingPolicy ${GREEN}`,
      ]);
      expect(h.asg.must(BLUE).suspendedProcesses).toEqual(SWITCH);
      expect(h.asg.must(GREEN).suspendedProcesses).toEqual(SWITCH);
      expect(h.asg.must(GREEN).policies.map((p) => p.name)).toEqual(['cpu-50', 'queue-out']);
    });

    it("adds green's copy of a step policy to the alarm that invokes blue's, and leaves target tracking alarms alone", async () => {
      await createGreen(h.state(), h.deps);

      expect(h.alarms.actions.get('ledger-queue-deep')?.alarm).toEqual([
        policyArn(BLUE, 'queue-out'),
        policyArn(GREEN, 'queue-out'),
      ]);
      expect(h.alarms.actions.get('TargetTracking-ledger-production-AlarmHigh')?.alarm).toEqual([
        policyArn(BLUE, 'cpu-50'),
      ]);
    });

    it("takes blue's capacity as it is now (it may have scaled since the environment was prepared)", async () => {
      h.asg.must(BLUE).capacity = { min: 2, max: 6, desired: 5 };

      const env = await createGreen(h.state(), h.deps);

      expect(env.target.capacity).toEqual({ min: 2, max: 6, desired: 5 });
      expect(h.asg.must(GREEN).capacity.desired).toBe(5);
    });

    it('names green itself when the environment names blue as the target group', async () => {
      const state = h.state();
      state.env!.target.group = BLUE;

      const env = await createGreen(state, h.deps);

      expect(env.target.group).toBe(GREEN);
      expect(h.asg.groups.has(GREEN)).toBe(true);
    });

    it('creates nothing more when it runs again (a retried step)', async () => {
      const state = h.state();
      await createGreen(state, h.deps);
      const again = await createGreen(state, h.deps);

      expect(h.asg.callsOf('createGroup')).toHaveLength(1);
      expect(again.greenCreatedAt).toBe(T0);
    });

    it('records which switch processes blue had suspended itself, so they stay suspended afterwards', async () => {
      h.asg.must(BLUE).suspendedProcesses = ['AZRebalance'];

      const env = await createGreen(h.state(), h.deps);

      expect(env.blueSuspended).toEqual(['AZRebalance']);
    });

    it("refuses a group under green's name that Kiln does not manage, and leaves it alone", async () => {
      h.asg.addGroup(GREEN, { tags: { team: 'other' } });

      await expect(createGreen(h.state(), h.deps)).rejects.toThrow(`group ${GREEN} exists and is not Kiln's`);
      expect(h.asg.callsOf('deleteGroup')).toEqual([]);
    });

    it('deletes the kept group of the same release left by an earlier deployment and creates green once it is gone', async () => {
      h.asg.addGroup(GREEN, {
        tags: { 'kiln:managed': 'true', 'kiln:role': 'retired', 'kiln:deployment-id': 'D-OLD' },
        capacity: { min: 0, max: 6, desired: 0 },
      });

      const state = await created();
      expect(h.asg.callsOf('deleteGroup')).toEqual([['deleteGroup', GREEN]]);
      expect(await checkGreen(state, h.deps)).toEqual({ outcome: 'waiting' });

      h.asg.groups.delete(GREEN);
      expect(await checkGreen(state, h.deps)).toEqual({ outcome: 'waiting' });
      expect(h.asg.must(GREEN).tags['kiln:deployment-id']).toBe(DEPLOYMENT);
      expect(h.asg.must(GREEN).launchTemplate).toEqual({ id: 'lt-0abc', version: '8' });
    });

    it('adopts the kept group of the release for kiln rollback: back to its recorded capacity and version', async () => {
      h.asg.addGroup(GREEN, {
        tags: { 'kiln:managed': 'true', 'kiln:role': 'retired', 'kiln:release': '2.0.0' },
        capacity: { min: 0, max: 6, desired: 0 },
      });
      const state = h.state(
        { target: { ...h.state().env!.target, capacity: { min: 1, max: 4, desired: 2 } } },
        { mode: 'rollback' },
      );

      await createGreen(state, h.deps);

      expect(h.asg.callsOf('createGroup')).toEqual([]);
      expect(h.asg.must(GREEN).capacity).toEqual({ min: 1, max: 4, desired: 2 });
      expect(h.asg.must(GREEN).tags['kiln:role']).toBe('green');
      expect(h.asg.must(GREEN).suspendedProcesses).toEqual(SWITCH);
    });
  });

  describe('checkGreen', () => {
    it('waits while instances launch, and records how many are in service', async () => {
      const state = await created();
      h.asg.launch(GREEN, 2);
      h.asg.launch(GREEN, 1, 'Pending:Wait');

      expect(await checkGreen(state, h.deps)).toEqual({ outcome: 'waiting' });
      const deployment = await h.store.getDeployment(DEPLOYMENT);
      expect(deployment?.rollout).toMatchObject({
        phase: 'green-launching',
        detail: '2 of 3 green instances in service, 1 pending',
        fromGroup: BLUE,
        toGroup: GREEN,
      });
    });

    it('is ready when every desired instance is InService and none pending', async () => {
      const state = await created();
      h.asg.launch(GREEN, 3);

      expect(await checkGreen(state, h.deps)).toEqual({ outcome: 'ready' });
    });

    it("fails after the health gate's timeout from creation, naming how many launched", async () => {
      const state = await created();
      h.asg.launch(GREEN, 1);
      h.asg.launch(GREEN, 1, 'Pending:Wait');
      h.advance(1200);

      expect(await checkGreen(state, h.deps)).toEqual({
        outcome: 'failed',
        reason: `green group ${GREEN}: 1 of 3 instances in service after 1200 s (2 launched, 1 pending)`,
      });
    });

    it('renews the lease', async () => {
      const state = await created();
      h.advance(600);

      await checkGreen(state, h.deps);

      const lock = (await h.store.getEnvironmentState(SERVICE, ENV)).lock;
      expect(lock?.expiresAt).toBe(T0 + 600_000 + 15 * 60_000);
    });

    it('returns abort when someone asked to stop', async () => {
      const state = await created();
      const deployment = await h.store.getDeployment(DEPLOYMENT);
      await h.store.updateDeployment(
        DEPLOYMENT,
        { abort: { actor: 'alice', at: new Date(T0).toISOString(), reason: 'wrong build' } },
        deployment!.version,
        { actor: 'alice' },
      );

      expect(await checkGreen(state, h.deps)).toEqual({
        outcome: 'abort',
        reason: 'aborted by alice: wrong build',
      });
    });
  });

  describe('attachGreen', () => {
    it('attaches green to every target group of the environment and notes when', async () => {
      const state = await created();
      h.advance(10);

      const env = await attachGreen(state, h.deps);

      expect(h.asg.callsOf('attachTargetGroups')).toEqual([
        ['attachTargetGroups', GREEN, [TG_API, TG_ADMIN]],
      ]);
      expect(env.attachedAt).toBe(T0 + 10_000);
    });
  });

  describe('checkHealthGate', () => {
    async function attached(): Promise<RolloutState> {
      const state = await created();
      return { ...state, env: await attachGreen(state, h.deps) };
    }

    it('passes only after every green target has been healthy in every target group for healthyForSeconds', async () => {
      const state = await attached();
      greenServes();

      const first = await checkHealthGate(state, h.deps);
      expect(first).toEqual({ outcome: 'waiting', healthySince: T0 });
      h.advance(119);
      expect((await checkHealthGate({ ...state, check: first }, h.deps)).outcome).toBe('waiting');
      h.advance(1);
      expect(await checkHealthGate({ ...state, check: first }, h.deps)).toEqual({
        outcome: 'healthy',
        healthySince: T0,
      });
    });

    it('fails when a rollout alarm went into ALARM since green was attached (green serves a share of traffic from then on)', async () => {
      const state = await attached();
      greenServes();
      h.alarms.history.push({ name: 'ledger-prod-error-rate', at: T0 - 5000 });
      h.advance(30);
      h.alarms.history.push({ name: 'ledger-prod-error-rate', at: T0 + 20_000, reason: 'Threshold Crossed' });

      expect(await checkHealthGate(state, h.deps)).toEqual({
        outcome: 'failed',
        reason: `alarm ledger-prod-error-rate went into ALARM 20 s after ${GREEN} took traffic: Threshold Crossed`,
      });
    });

    it('never counts a draining target, and starts the count again', async () => {
      const state = await attached();
      const ids = greenServes();
      const first = await checkHealthGate(state, h.deps);
      h.targets.set(TG_ADMIN, [ids[0]!], 'draining');
      h.advance(200);

      expect(await checkHealthGate({ ...state, check: first }, h.deps)).toEqual({ outcome: 'waiting' });
    });

    it('counts an instance missing from one target group as not healthy', async () => {
      const state = await attached();
      const ids = greenServes();
      h.targets.remove(TG_ADMIN, [ids[2]!]);
      h.advance(200);

      expect(
        (await checkHealthGate({ ...state, check: { outcome: 'waiting', healthySince: T0 } }, h.deps))
          .outcome,
      ).toBe('waiting');
    });

    it('fails after timeoutSeconds, naming the targets that are not healthy', async () => {
      const state = await attached();
      const ids = greenServes();
      h.targets.set(TG_API, [ids[1]!], 'unhealthy');
      h.advance(1200);

      const check = await checkHealthGate(state, h.deps);
      expect(check.outcome).toBe('failed');
      expect(check.reason).toContain(`${ids[1]} unhealthy in targetgroup/ledger-prod-api`);
    });
  });

  describe('switchTraffic', () => {
    it('detaches blue from every target group once green is healthy, and sets the watch', async () => {
      const state = await switched();

      expect(h.asg.callsOf('detachTargetGroups')).toEqual([['detachTargetGroups', BLUE, [TG_API, TG_ADMIN]]]);
      expect(state.env).toMatchObject({ switchedAt: T0, watchSeconds: 300 });
    });

    it('refuses to cut over when a green target turned unhealthy since the gate, and leaves blue attached', async () => {
      const state = await created();
      const ids = greenServes();
      const attached = { ...state, env: await attachGreen(state, h.deps) };
      h.targets.set(TG_ADMIN, [ids[0]!], 'unhealthy');

      await expect(switchTraffic(attached, h.deps)).rejects.toThrow(
        `green ${GREEN} is not healthy any more, traffic stays on ${BLUE}`,
      );
      expect(h.asg.callsOf('detachTargetGroups')).toEqual([]);
    });
  });

  describe('watchAlarms and checkWatch', () => {
    it('stores the token under the watch key until the watch ends', async () => {
      const state = await switched();

      await watchAlarms(state, 'token-watch', h.deps);

      const token = await h.store.takeTaskToken('alarm', `${DEPLOYMENT}/${ENV}`);
      expect(token).toMatchObject({ token: 'token-watch', expiresAt: T0 + 300_000 });
      expect(h.woken).toEqual([]);
    });

    it('wakes itself at once when a rollout alarm already went into ALARM', async () => {
      const state = await switched();
      h.alarms.history.push({ name: 'ledger-prod-error-rate', at: T0 + 1000 });

      await watchAlarms(state, 'token-watch', h.deps);

      expect(h.woken).toEqual([{ token: 'token-watch', output: { woken: 'event' } }]);
    });

    it('reports an alarm that went into ALARM since the switch', async () => {
      const state = await switched();
      h.alarms.history.push({ name: 'ledger-prod-error-rate', at: T0 - 5000 });
      h.alarms.history.push({ name: 'ledger-prod-error-rate', at: T0 + 42_000, reason: 'Threshold Crossed' });
      h.advance(60);

      expect(await checkWatch(state, h.deps)).toEqual({
        outcome: 'alarm',
        reason: `alarm ledger-prod-error-rate went into ALARM 42 s after ${GREEN} took traffic: Threshold Crossed`,
      });
    });

    it('reports an alarm that went into ALARM after green was attached but before the switch (it may stay in ALARM, with no new move to see)', async () => {
      const state = await created();
      greenServes();
      const attached = { ...state, env: await attachGreen(state, h.deps) };
      h.advance(90);
      const moved = { ...attached, env: await switchTraffic(attached, h.deps) };
      h.alarms.history.push({ name: 'ledger-prod-error-rate', at: T0 + 85_000, reason: 'Threshold Crossed' });
      h.advance(10);

      expect(await checkWatch(moved, h.deps)).toEqual({
        outcome: 'alarm',
        reason: `alarm ledger-prod-error-rate went into ALARM 85 s after ${GREEN} took traffic: Threshold Crossed`,
      });
    });

    it('ignores alarms that are not the rollout alarms', async () => {
      const state = await switched();
      h.alarms.history.push({ name: 'ledger-prod-p99-latency', at: T0 + 1000 });
      h.advance(60);

      expect(await checkWatch(state, h.deps)).toEqual({ outcome: 'waiting', remainingSeconds: 240 });
    });

    it('sends the wait back for what is left of the watch only, never a whole bake time again', async () => {
      const state = await switched();
      expect(state.env).toMatchObject({ watchSeconds: 300, watchWaitSeconds: 300 });
      h.advance(299.5);

      expect(await checkWatch(state, h.deps)).toEqual({ outcome: 'waiting', remainingSeconds: 1 });
    });

    it('is clear once the bake time is over', async () => {
      const state = await switched();
      h.advance(300);

      expect(await checkWatch(state, h.deps)).toEqual({ outcome: 'clear' });
    });
  });

  describe('retireBlue', () => {
    it('scales blue to zero, tags it retired and keeps it, and resumes the processes on green', async () => {
      const state = await switched();
      h.advance(300);

      await retireBlue(state, h.deps);

      const blue = h.asg.must(BLUE);
      expect(blue.capacity).toEqual({ min: 0, max: 6, desired: 0 });
      expect(blue.tags).toMatchObject({
        'kiln:role': 'retired',
        'kiln:retired-at': '2026-03-01T12:05:00.000Z',
        'kiln:release': '1.0.0',
      });
      expect(blue.status).toBeUndefined();
      expect(h.asg.must(GREEN).suspendedProcesses).toEqual([]);
    });

    it('takes a deleted kept group’s step policies out of the alarms that name them', async () => {
      const old = 'ledger-production-kiln-0.8.0';
      h.asg.addGroup(old, {
        capacity: { min: 0, max: 6, desired: 0 },
        tags: {
          'kiln:managed': 'true',
          'kiln:service': SERVICE,
          'kiln:environment': ENV,
          'kiln:role': 'retired',
          'kiln:retired-at': '2026-01-01T00:00:00.000Z',
        },
        policies: [
          { name: 'queue-out', policyType: 'StepScaling', parameters: {}, arn: policyArn(old, 'queue-out') },
        ],
      });
      h.alarms.actions.get('ledger-queue-deep')?.alarm.push(policyArn(old, 'queue-out'));
      h.asg.addGroup('ledger-production-kiln-0.9.0', {
        capacity: { min: 0, max: 6, desired: 0 },
        tags: {
          'kiln:managed': 'true',
          'kiln:service': SERVICE,
          'kiln:environment': ENV,
          'kiln:role': 'retired',
          'kiln:retired-at': '2026-02-01T00:00:00.000Z',
        },
      });
      const state = await switched();

      await retireBlue(state, h.deps);

      expect(h.asg.callsOf('deleteGroup')).toEqual([['deleteGroup', old]]);
      expect(h.alarms.actions.get('ledger-queue-deep')?.alarm).toEqual([
        policyArn(BLUE, 'queue-out'),
        policyArn(GREEN, 'queue-out'),
      ]);
    });

    it('leaves the retired blue parked: its scheduled actions and alarm notifications stay suspended', async () => {
      const state = await switched();

      await retireBlue(state, h.deps);

      expect(h.asg.must(BLUE).suspendedProcesses).toEqual(SWITCH);
    });

    it('deletes kept groups beyond keepOldGroups, oldest first', async () => {
      const kept = (name: string, at: string) =>
        h.asg.addGroup(name, {
          capacity: { min: 0, max: 6, desired: 0 },
          tags: {
            'kiln:managed': 'true',
            'kiln:service': SERVICE,
            'kiln:environment': ENV,
            'kiln:role': 'retired',
            'kiln:retired-at': at,
          },
        });
      kept('ledger-production-kiln-0.8.0', '2026-01-01T00:00:00.000Z');
      kept('ledger-production-kiln-0.9.0', '2026-02-01T00:00:00.000Z');
      const state = await switched();

      await retireBlue(state, h.deps);

      expect(h.asg.callsOf('deleteGroup')).toEqual([['deleteGroup', 'ledger-production-kiln-0.8.0']]);
    });

    it('resumes the processes even when retiring fails', async () => {
      const state = await switched();
      h.asg.tagGroup = async () => {
        throw new Error('AccessDenied');
      };

      await expect(retireBlue(state, h.deps)).rejects.toThrow('AccessDenied');
      expect(h.asg.must(BLUE).suspendedProcesses).toEqual([]);
      expect(h.asg.must(GREEN).suspendedProcesses).toEqual([]);
    });
  });

  describe('rollback', () => {
    async function rollingBack(state: RolloutState, reason = 'health gate failed'): Promise<RolloutState> {
      return { ...state, env: await rollbackBlueGreen(state, reason, h.deps) };
    }

    it('undoes nothing but the suspension when green was never made', async () => {
      const state = h.state();
      await h.asg.suspendProcesses(BLUE, SWITCH);

      const back = await rollingBack(state);

      expect(back.env?.rollback).toEqual({ kind: 'nothing', reason: 'health gate failed', startedAt: T0 });
      expect(h.asg.must(BLUE).suspendedProcesses).toEqual([]);
      expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'done' });
    });

    it('renews the lease at each check', async () => {
      const state = await created();
      const back = await rollingBack(state);
      h.advance(600);

      await checkBlueGreenRollback(back, h.deps);

      const lock = (await h.store.getEnvironmentState(SERVICE, ENV)).lock;
      expect(lock?.expiresAt).toBe(T0 + 600_000 + 15 * 60_000);
    });

    describe('before the switch', () => {
      it('detaches green, lets it drain, deletes it, then resumes blue', async () => {
        const state = await created();
        const ids = greenServes();
        const attached = { ...state, env: await attachGreen(state, h.deps) };

        const back = await rollingBack(attached);
        expect(back.env?.rollback?.kind).toBe('discard-green');
        expect(h.asg.callsOf('detachTargetGroups')).toEqual([
          ['detachTargetGroups', GREEN, [TG_API, TG_ADMIN]],
        ]);

        h.targets.set(TG_API, ids, 'draining');
        h.targets.remove(TG_ADMIN, ids);
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
        expect(h.asg.callsOf('deleteGroup')).toEqual([]);

        h.targets.remove(TG_API, ids);
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
        expect(h.asg.callsOf('deleteGroup')).toEqual([['deleteGroup', GREEN]]);

        expect(h.alarms.actions.get('ledger-queue-deep')?.alarm).toEqual([policyArn(BLUE, 'queue-out')]);

        h.asg.groups.delete(GREEN);
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'done' });
        expect(h.asg.must(BLUE).suspendedProcesses).toEqual([]);
        expect(h.asg.callsOf('detachTargetGroups').filter(([, name]) => name === BLUE)).toEqual([]);
      });

      describe("its deadline: green's drain (the longest deregistration delay of its target groups) plus a margin, not the health gate", () => {
        /** Green attached, then rolled back: its targets draining in both target groups. */
        async function draining(): Promise<RolloutState> {
          const state = await created();
          const ids = greenServes();
          const attached = { ...state, env: await attachGreen(state, h.deps) };
          const back = await rollingBack(attached);
          h.targets.set(TG_API, ids, 'draining');
          h.targets.set(TG_ADMIN, ids, 'draining');
          return back;
        }

        it("reads each target group's deregistration delay when the rollback starts, and records the deadline", async () => {
          h.targets.delays.set(TG_ADMIN, 1800);

          const back = await draining();

          expect(h.targets.attributeReads).toEqual([TG_API, TG_ADMIN]);
          expect(back.env?.rollback?.deadline).toEqual({
            seconds: 2100,
            why: 'deregistration delay 1800 s + 300 s margin',
          });
        });

        it("keeps waiting past the health gate's timeout (1200 s) while green's targets drain for a longer delay", async () => {
          h.targets.delays.set(TG_ADMIN, 1800);
          const back = await draining();
          h.advance(2099);

          expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
          expect(h.asg.callsOf('deleteGroup')).toEqual([]);
        });

        it('fails once the drain has taken longer than the delay and the margin, saying what it waited on', async () => {
          h.targets.delays.set(TG_ADMIN, 1800);
          const back = await draining();
          h.advance(2100);

          expect(await checkBlueGreenRollback(back, h.deps)).toEqual({
            outcome: 'failed',
            reason: `rollback not done within 2100 s (deregistration delay 1800 s + 300 s margin): 6 ${GREEN} target(s) draining`,
          });
        });

        it('does not read the attributes again at each check', async () => {
          const back = await draining();
          h.advance(60);

          await checkBlueGreenRollback(back, h.deps);

          expect(h.targets.attributeReads).toEqual([TG_API, TG_ADMIN]);
        });
      });

      it('finds and deletes a green that create-green made before it crashed', async () => {
        const state = h.state();
        await createGreen(state, h.deps);

        const back = await rollingBack(state);
        await checkBlueGreenRollback(back, h.deps);

        expect(back.env?.rollback?.kind).toBe('discard-green');
        expect(h.asg.callsOf('deleteGroup')).toEqual([['deleteGroup', GREEN]]);
      });
    });

    describe('after the switch', () => {
      it('scales blue back, waits for it in service, reattaches it, waits until every blue target is healthy, and only then detaches green', async () => {
        const state = await switched();
        h.advance(300);
        await retireBlue(state, h.deps).catch(() => undefined);
        h.asg.must(BLUE).instances = [];
        h.targets.remove(TG_API, ['i-1', 'i-2', 'i-3']);
        h.targets.remove(TG_ADMIN, ['i-1', 'i-2', 'i-3']);

        const back = await rollingBack(state, 'alarm');
        expect(back.env?.rollback?.kind).toBe('restore-blue');
        expect(h.asg.must(BLUE).capacity).toEqual({ min: 2, max: 6, desired: 3 });

        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
        const blueIds = h.asg.launch(BLUE, 3);
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
        expect(h.asg.must(BLUE).targetGroupArns).toEqual([TG_API, TG_ADMIN]);

        h.targets.set(TG_API, blueIds, 'healthy');
        h.targets.set(TG_ADMIN, blueIds, 'initial');
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
        expect(h.asg.callsOf('detachTargetGroups').filter(([, name]) => name === GREEN)).toEqual([]);

        h.targets.set(TG_ADMIN, blueIds, 'healthy');
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
        expect(h.asg.callsOf('detachTargetGroups').filter(([, name]) => name === GREEN)).toHaveLength(1);
        expect(h.asg.must(BLUE).tags['kiln:role']).toBe('green');
        // Kiln's role may tag only with kiln:managed=true in the request (serverless.yml).
        expect(
          h.asg
            .callsOf('tagGroup')
            .every(([, , tags]) => (tags as Record<string, string>)['kiln:managed'] === 'true'),
        ).toBe(true);
      });

      it("resumes blue's processes once it serves again, except those it had suspended itself", async () => {
        h.asg.must(BLUE).suspendedProcesses = ['ScheduledActions'];
        const state = await switched();
        await retireBlue(state, h.deps);
        const back = await rollingBack(state, 'alarm');
        const blueIds = h.asg.launch(BLUE, 3);
        h.asg.must(BLUE).instances = h.asg.must(BLUE).instances.filter((i) => blueIds.includes(i.instanceId));
        h.targets.set(TG_API, blueIds, 'healthy');
        h.targets.set(TG_ADMIN, blueIds, 'healthy');
        h.targets.remove(
          TG_API,
          h.asg.must(GREEN).instances.map((i) => i.instanceId),
        );
        h.targets.remove(
          TG_ADMIN,
          h.asg.must(GREEN).instances.map((i) => i.instanceId),
        );

        let check = await checkBlueGreenRollback(back, h.deps);
        for (let i = 0; i < 5 && check.outcome === 'waiting'; i++) {
          if (h.asg.must(GREEN).status !== undefined) h.asg.groups.delete(GREEN);
          check = await checkBlueGreenRollback(back, h.deps);
        }

        expect(check).toEqual({ outcome: 'done' });
        expect(h.asg.must(BLUE).suspendedProcesses).toEqual(['ScheduledActions']);
      });

      it("gives blue the health gate's timeout to serve again, then green its drain, plus the margin", async () => {
        const state = await switched();
        const back = await rollingBack(state, 'alarm');
        h.asg.must(BLUE).instances = [];

        expect(back.env?.rollback?.deadline).toEqual({
          seconds: 1800,
          why: 'health gate 1200 s + deregistration delay 300 s + 300 s margin',
        });
        h.advance(1799);
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'waiting' });
        h.advance(1);
        expect(await checkBlueGreenRollback(back, h.deps)).toEqual({
          outcome: 'failed',
          reason: `rollback not done within 1800 s (health gate 1200 s + deregistration delay 300 s + 300 s margin): 0 of 3 ${BLUE} instances in service`,
        });
      });

      it('treats a switch that failed halfway (blue out of one target group) as after the switch', async () => {
        const state = await created();
        greenServes();
        const attached = { ...state, env: await attachGreen(state, h.deps) };
        await h.asg.detachTargetGroups(BLUE, [TG_API]);

        const back = await rollingBack(attached);

        expect(back.env?.rollback?.kind).toBe('restore-blue');
      });
    });

    it('keeps the kept group kiln rollback brought back, scaled to zero, instead of deleting it', async () => {
      h.asg.addGroup(GREEN, {
        tags: { 'kiln:managed': 'true', 'kiln:role': 'retired', 'kiln:release': '2.0.0' },
        capacity: { min: 0, max: 6, desired: 0 },
      });
      const state = await created(h.state({}, { mode: 'rollback' }));
      h.asg.launch(GREEN, 3);

      const back = await rollingBack(state, 'aborted');
      expect(await checkBlueGreenRollback(back, h.deps)).toEqual({ outcome: 'done' });

      expect(h.asg.callsOf('deleteGroup')).toEqual([]);
      expect(h.asg.must(GREEN).capacity.desired).toBe(0);
      expect(h.asg.must(GREEN).tags['kiln:role']).toBe('retired');
      expect(h.asg.must(GREEN).suspendedProcesses).toEqual(SWITCH);
      expect(h.asg.must(BLUE).suspendedProcesses).toEqual([]);
    });
  });
});
