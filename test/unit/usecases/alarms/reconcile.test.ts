import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { DeployExecutions, SfnTasks } from '../../../../shared/aws/sfn';
import type { ServiceManifest } from '../../../../shared/domain/manifest/schema';
import type { KilnStore } from '../../../../shared/store';
import { handleAlarm } from '../../../../shared/usecases/alarms/handle';
import type { AlarmNotice } from '../../../../shared/usecases/alarms/notices';
import { reconcileAlarms, type ReconcileAlarmsDeps } from '../../../../shared/usecases/alarms/reconcile';
import type { AlarmStatus } from '../../../../shared/usecases/rollout/deps';
import {
  countingIds,
  fakeClock,
  runningDeployment,
  seededCheckout,
  STATE_MACHINE_ARN,
  T0,
  type Clock,
} from '../../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';

const sfnMock = mockClient(SFNClient);
const MINUTE = 60_000;
/** staging's 1.1.0 became current then (deployment-fixtures); checkout.yml gives staging a 15-minute window. */
const SINCE = T0 - 3_600_000;
const STAGING_5XX = 'checkout-staging-5xx-rate';

describe('reconcileAlarms', () => {
  let dynamo: LocalDynamo;
  let store: KilnStore<ServiceManifest>;
  let clock: Clock;
  let described: Array<{ region: string; names: readonly string[] }>;
  let cloudWatch: Map<string, AlarmStatus>;
  let notices: AlarmNotice[];

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  beforeEach(async () => {
    clock = fakeClock(SINCE + 6 * MINUTE);
    ({ store } = await seededCheckout(dynamo, clock));
    sfnMock.reset();
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${input.name}`,
      startDate: new Date(clock.now()),
    }));
    described = [];
    cloudWatch = new Map();
    notices = [];
  });

  function deps(holder = 'reconciler'): ReconcileAlarmsDeps {
    const sfn = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
    return {
      store,
      tasks: new SfnTasks(sfn),
      executions: new DeployExecutions(sfn, STATE_MACHINE_ARN),
      ids: countingIds(),
      now: clock.now,
      notices: { alarmNotice: async (notice) => void notices.push(notice) },
      holder,
      alarms: (region) => ({
        states: async (names) => {
          described.push({ region, names });
          return names.flatMap((name) => {
            const status = cloudWatch.get(name);
            return status === undefined ? [] : [status];
          });
        },
      }),
    };
  }

  const inAlarm = (name: string, at: number): AlarmStatus => ({
    name,
    kind: 'metric',
    state: 'ALARM',
    reason: 'Threshold Crossed',
    updatedAt: at,
  });
  const started = () => sfnMock.commandCalls(StartExecutionCommand).length;

  it('rolls back within a minute when the ALARM event was lost, from DescribeAlarms’ state time', async () => {
    cloudWatch.set(STAGING_5XX, inAlarm(STAGING_5XX, SINCE + 5 * MINUTE));

    const result = await reconcileAlarms(deps());

    expect(result).toMatchObject({
      environments: 1,
      alarms: 1,
      inAlarm: 1,
      acted: [{ service: 'checkout', environment: 'staging', action: 'rollback', outcome: 'started' }],
    });
    expect(described).toEqual([
      { region: 'us-east-1', names: ['checkout-staging-5xx-rate', 'checkout-staging-p99-latency'] },
    ]);
    expect((await store.listDeployments('checkout')).items).toEqual([
      expect.objectContaining({
        mode: 'rollback',
        trigger: 'alarm',
        actor: `alarm:${STAGING_5XX}`,
        releaseVersion: '1.0.0',
      }),
    ]);
  });

  it('rolls back once between the event and later runs (the same claim), and sends no notices', async () => {
    cloudWatch.set(STAGING_5XX, inAlarm(STAGING_5XX, SINCE + 5 * MINUTE));
    await handleAlarm(
      { alarmName: STAGING_5XX, region: 'us-east-1', kind: 'metric', state: 'ALARM', at: SINCE + 5 * MINUTE },
      deps('on-alarm:req-1'),
    );

    clock.advance(MINUTE);
    const first = await reconcileAlarms(deps());
    clock.advance(MINUTE);
    await reconcileAlarms(deps());

    expect(first.acted).toEqual([
      expect.objectContaining({ action: 'rollback', outcome: 'already-handled' }),
    ]);
    expect(started()).toBe(1);
    expect(notices).toEqual([]);
  });

  it('describes nothing when no environment is in a rollout or a watch window', async () => {
    clock.advance(20 * MINUTE);
    cloudWatch.set(STAGING_5XX, inAlarm(STAGING_5XX, SINCE + 5 * MINUTE));

    expect(await reconcileAlarms(deps())).toEqual({ environments: 0, alarms: 0, inAlarm: 0, acted: [] });
    expect(described).toEqual([]);
  });

  it('stops a rollout whose rollout alarm went off, asking once and keeping the first request', async () => {
    const id = '01JZ0000000000000000000009';
    clock.advance(20 * MINUTE);
    await store.createDeployment(runningDeployment(id, { environments: ['staging'] }));
    await store.moveDeployment(id, { from: 'queued', to: 'rolling-out' });
    await store.acquireLock('checkout', 'staging', { holder: id, deploymentId: id, leaseMs: 30 * MINUTE });
    clock.advance(MINUTE);
    cloudWatch.set(STAGING_5XX, inAlarm(STAGING_5XX, clock.now() - 10_000));

    const first = await reconcileAlarms(deps());
    clock.advance(MINUTE);
    const second = await reconcileAlarms(deps());

    expect(described[0]).toEqual({ region: 'us-east-1', names: [STAGING_5XX] });
    expect(first.acted).toEqual([
      expect.objectContaining({ action: 'abort', outcome: 'requested', deploymentId: id }),
    ]);
    expect(second.acted).toEqual([
      expect.objectContaining({ action: 'abort', outcome: 'already-requested' }),
    ]);
    expect(await store.getDeployment(id)).toMatchObject({ abort: { actor: `alarm:${STAGING_5XX}` } });
    expect(started()).toBe(0);
  });

  it('leaves an alarm that stays in ALARM from before the release alone (nothing to act on, no notice)', async () => {
    cloudWatch.set(STAGING_5XX, inAlarm(STAGING_5XX, SINCE - MINUTE));

    const result = await reconcileAlarms(deps());

    expect(result).toMatchObject({ inAlarm: 1, acted: [] });
    expect(started()).toBe(0);
    expect(notices).toEqual([]);
  });
});
