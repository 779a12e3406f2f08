import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createOnAlarmHandler } from '../../../functions/on-alarm';
import type { ServiceManifest } from '../../../shared/domain/manifest/schema';
import type { KilnStore } from '../../../shared/store';
import { tokenKeys } from '../../../shared/usecases/rollout/deps';
import {
  checkoutManifest,
  countingIds,
  fakeClock,
  runningDeployment,
  seededCheckout,
  STATE_MACHINE_ARN,
  T0,
  type Clock,
} from '../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

/** Samples from AWS's documentation (sources: test/fixtures/events/README.md). */
const METRIC = 'alarm-state-change-metric-ok-to-alarm.json'; // ServerCpuTooHigh
const COMPOSITE = 'alarm-state-change-composite-ok-to-alarm.json'; // ServiceAggregatedAlarm
const MATH = 'alarm-state-change-metric-math-insufficient-data-to-alarm.json'; // TotalNetworkTrafficTooHigh

interface AlarmEvent {
  region: string;
  detail: { alarmName?: string; state: { value: string; timestamp?: string } };
}

/** A fresh copy of a documented sample, its state change moved to `at` (the samples are from 2019–2022). */
function alarmEvent(file: string, at: number, change: (event: AlarmEvent) => void = () => undefined) {
  const event = JSON.parse(
    readFileSync(join(__dirname, '../../fixtures/events/cloudwatch', file), 'utf8'),
  ) as AlarmEvent;
  event.detail.state.timestamp = new Date(at).toISOString();
  change(event);
  return event;
}

const context = {
  functionName: 'kiln-test-on-alarm',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30000,
} as Context;

const sfnMock = mockClient(SFNClient);
const MINUTE = 60_000;
/** staging's 1.1.0 became current then (deployment-fixtures), with a 15-minute watch window. */
const SINCE = T0 - 3_600_000;

/** checkout, its staging environment watching the samples' alarms (the first also a rollout alarm). */
function watchingManifest(): ServiceManifest {
  const manifest = checkoutManifest();
  return {
    ...manifest,
    environments: manifest.environments.map((env) =>
      env.name === 'staging'
        ? {
            ...env,
            alarms: {
              rollout: ['ServerCpuTooHigh'],
              watch: ['ServerCpuTooHigh', 'ServiceAggregatedAlarm', 'TotalNetworkTrafficTooHigh'],
              watchWindowMinutes: 15,
            },
          }
        : env,
    ),
  };
}

describe('on-alarm', () => {
  let dynamo: LocalDynamo;
  let store: KilnStore<ServiceManifest>;
  let clock: Clock;
  let handler: ReturnType<typeof createOnAlarmHandler>;
  /** What the notifier sent, by destination (the Slack webhook's parameter, the SNS topic). */
  let sent: Array<{ to: string; text: string }>;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  beforeEach(async () => {
    // The alarm is judged 20 minutes after 1.1.0 became current (its state time is set per test).
    clock = fakeClock(SINCE + 20 * MINUTE);
    const seeded = await seededCheckout(dynamo, clock);
    store = seeded.store;
    await store.putServiceManifest(watchingManifest(), { actor: 'cli:platform' });
    sfnMock.reset();
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${input.name}`,
      startDate: new Date(clock.now()),
    }));
    const sfn = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
    const ids = countingIds();
    handler = createOnAlarmHandler(() => ({
      documentClient: dynamo.client,
      tableName: seeded.tableName,
      sfn,
      deployStateMachineArn: STATE_MACHINE_ARN,
      ids,
      now: clock.now,
      destinations: async () => ({
        slack: {
          post: async (parameterName, message) => void sent.push({ to: parameterName, text: message.text }),
        },
        sns: {
          publish: async (topicArn, message) => {
            sent.push({ to: topicArn, text: message.subject });
            return { messageId: `m-${sent.length}` };
          },
        },
      }),
    }));
    sent = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const started = () =>
    sfnMock
      .commandCalls(StartExecutionCommand)
      .map((call) => JSON.parse(call.args[0].input.input ?? '{}') as unknown);
  const deployments = async () => (await store.listDeployments('checkout')).items;
  const alarmAudit = async () =>
    (await store.listAudit({ service: 'checkout' })).items.filter((entry) =>
      entry.actor.startsWith('alarm:'),
    );

  describe('in the watch window after a deploy', () => {
    it('rolls staging back to its previous release, as a deployment triggered by the alarm', async () => {
      const result = await handler(alarmEvent(METRIC, SINCE + 5 * MINUTE), context);

      expect(result).toMatchObject({
        alarm: 'ServerCpuTooHigh',
        kind: 'metric',
        outcomes: [{ service: 'checkout', environment: 'staging', action: 'rollback', outcome: 'started' }],
      });
      expect(started()).toEqual([
        expect.objectContaining({
          service: 'checkout',
          version: '1.0.0',
          environments: ['staging'],
          mode: 'rollback',
        }),
      ]);
      expect(await deployments()).toEqual([
        expect.objectContaining({
          releaseVersion: '1.0.0',
          mode: 'rollback',
          trigger: 'alarm',
          actor: 'alarm:ServerCpuTooHigh',
          reason: expect.stringContaining(
            'went into ALARM 300 s after 1.1.0 became current in checkout/staging',
          ),
        }),
      ]);
      expect(await store.getClaim('alarm-rollback', 'checkout/staging/1.1.0')).toMatchObject({
        status: 'done',
        outcome: expect.stringMatching(/^started /),
      });
    });

    it('rolls back once when the alarm flaps (ALARM, OK, ALARM) and EventBridge delivers twice', async () => {
      await handler(alarmEvent(METRIC, SINCE + 5 * MINUTE), context);
      await handler(alarmEvent(METRIC, SINCE + 5 * MINUTE), { ...context, awsRequestId: 'req-2' });
      await handler(
        alarmEvent(METRIC, SINCE + 6 * MINUTE, (e) => (e.detail.state.value = 'OK')),
        { ...context, awsRequestId: 'req-3' },
      );
      const again = await handler(alarmEvent(METRIC, SINCE + 7 * MINUTE), {
        ...context,
        awsRequestId: 'req-4',
      });

      expect(again).toMatchObject({ outcomes: [{ action: 'rollback', outcome: 'already-handled' }] });
      expect(started()).toHaveLength(1);
      expect(await deployments()).toHaveLength(1);
    });

    it('acts on a composite alarm the same way, and on its metric child only once between them', async () => {
      const composite = await handler(alarmEvent(COMPOSITE, SINCE + 5 * MINUTE), context);
      const child = await handler(alarmEvent(METRIC, SINCE + 5 * MINUTE), {
        ...context,
        awsRequestId: 'req-2',
      });

      expect(composite).toMatchObject({
        kind: 'composite',
        outcomes: [{ action: 'rollback', outcome: 'started' }],
      });
      expect(child).toMatchObject({ outcomes: [{ action: 'rollback', outcome: 'already-handled' }] });
      expect(started()).toHaveLength(1);
    });

    it('reads the older documented shape (metric math, no reasonData before) the same way', async () => {
      const result = await handler(alarmEvent(MATH, SINCE + 5 * MINUTE), context);
      expect(result).toMatchObject({ outcomes: [{ action: 'rollback', outcome: 'started' }] });
    });
  });

  describe('during a rollout', () => {
    const ID = '01JZ0000000000000000000009';

    async function rollingOut() {
      await store.createDeployment(runningDeployment(ID, { environments: ['staging'] }));
      await store.moveDeployment(ID, { from: 'queued', to: 'rolling-out' });
      await store.acquireLock('checkout', 'staging', { holder: ID, deploymentId: ID, leaseMs: 30 * MINUTE });
      await store.putTaskToken({
        waitKind: 'alarm',
        key: tokenKeys.watch(ID, 'staging'),
        token: 'watch-token',
        deploymentId: ID,
        expiresAt: clock.now() + 5 * MINUTE,
      });
      clock.advance(MINUTE);
    }

    it('asks the deployment to stop and restore the previous release, and wakes its watch', async () => {
      await rollingOut();

      const result = await handler(alarmEvent(METRIC, clock.now() - 10_000), context);

      expect(result).toMatchObject({
        outcomes: [{ action: 'abort', outcome: 'requested', deploymentId: ID }],
      });
      expect(await store.getDeployment(ID)).toMatchObject({
        abort: {
          actor: 'alarm:ServerCpuTooHigh',
          reason: expect.stringContaining('during the rollout of checkout/staging'),
        },
      });
      expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
        { taskToken: 'watch-token', output: JSON.stringify({ woken: 'abort' }) },
      ]);
      expect(await store.takeTaskToken('alarm', tokenKeys.watch(ID, 'staging'))).toBeUndefined();
      expect(started()).toEqual([]);
    });

    it('only notifies for a watch alarm that is not a rollout alarm', async () => {
      await rollingOut();

      const result = await handler(alarmEvent(COMPOSITE, clock.now() - 10_000), context);

      expect(result).toMatchObject({ outcomes: [{ action: 'notify', outcome: 'notified' }] });
      expect((await store.getDeployment(ID))?.abort).toBeUndefined();
    });
  });

  describe('otherwise', () => {
    it('notifies (logged and audited) when the alarm goes off after the watch window', async () => {
      const result = await handler(alarmEvent(METRIC, SINCE + 16 * MINUTE), context);

      expect(result).toMatchObject({ outcomes: [{ action: 'notify', outcome: 'notified' }] });
      expect(started()).toEqual([]);
      expect(await alarmAudit()).toEqual([
        expect.objectContaining({
          action: 'alarm.notice',
          actor: 'alarm:ServerCpuTooHigh',
          target: 'environment:checkout/staging',
          reason: expect.stringContaining('outside the 15-minute watch window'),
        }),
      ]);
    });

    it("sends the notice to the manifest's Slack webhook and SNS topic, once per state change", async () => {
      const manifest = watchingManifest();
      await store.putServiceManifest(
        {
          ...manifest,
          notifications: {
            slackWebhookParameter: '/kiln/notifications/checkout',
            snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:checkout-deploys',
            events: ['alarm'],
          },
        },
        { actor: 'cli:platform' },
      );
      const event = alarmEvent(METRIC, SINCE + 16 * MINUTE);

      await handler(event, context);
      await handler(structuredClone(event), { ...context, awsRequestId: 'a-redelivery' });

      expect(sent).toEqual([
        {
          to: '/kiln/notifications/checkout',
          text: expect.stringContaining('alarm ServerCpuTooHigh is ALARM'),
        },
        {
          to: 'arn:aws:sns:us-east-1:123456789012:checkout-deploys',
          text: expect.stringContaining('ServerCpuTooHigh'),
        },
      ]);
    });

    it('sends nothing when the manifest names no destination', async () => {
      await handler(alarmEvent(METRIC, SINCE + 16 * MINUTE), context);
      expect(sent).toEqual([]);
    });

    it('does nothing for an alarm of the same name in another Region', async () => {
      const result = await handler(
        alarmEvent(METRIC, SINCE + 5 * MINUTE, (e) => (e.region = 'eu-west-1')),
        context,
      );
      expect(result).toMatchObject({ outcomes: [] });
      expect(started()).toEqual([]);
      expect(await alarmAudit()).toEqual([]);
    });

    it('ignores a move back to OK', async () => {
      const result = await handler(
        alarmEvent(METRIC, SINCE + 5 * MINUTE, (e) => (e.detail.state.value = 'OK')),
        context,
      );
      expect(result).toMatchObject({ outcomes: [{ action: 'ignore', outcome: 'ignored' }] });
      expect(started()).toEqual([]);
    });
  });

  describe('bad events', () => {
    it.each([
      ['an event without an alarm name', 'detail.alarmName', (e: AlarmEvent) => delete e.detail.alarmName],
      [
        'a state CloudWatch does not have',
        'detail.state.value',
        (e: AlarmEvent) => (e.detail.state.value = 'FIRING'),
      ],
    ])('refuses %s, naming %s, and changes nothing', async (_what, field, spoil) => {
      const result = await handler(alarmEvent(METRIC, SINCE + 5 * MINUTE, spoil), context);

      expect(result).toMatchObject({ ignored: true, reason: expect.stringContaining(field) });
      expect(sfnMock.calls()).toEqual([]);
      expect(await deployments()).toEqual([]);
      expect(await alarmAudit()).toEqual([]);
      expect(await store.getClaim('alarm-rollback', 'checkout/staging/1.1.0')).toBeUndefined();
    });
  });
});
