/**
 * The rollout's notifications (README "Notifications"): which step raises which notice, what the
 * approval notice shows, and that a service without notifications costs its steps nothing.
 */
import { CHAT_ACTIONS } from '../../../../shared/domain/chat-actions';
import type { Notice, NotificationTarget } from '../../../../shared/domain/notifications';
import { beginRollout } from '../../../../shared/usecases/rollout/course';
import type { RolloutCursor, RolloutState } from '../../../../shared/usecases/rollout/deps';
import { finish } from '../../../../shared/usecases/rollout/finish';
import { environmentDone, passGate, waitForApproval } from '../../../../shared/usecases/rollout/gate';
import { takeLock } from '../../../../shared/usecases/rollout/lock';
import { prepareEnvironment } from '../../../../shared/usecases/rollout/prepare';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';
import { checkoutManifest, T0, world, type World } from './harness';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const TARGET: NotificationTarget = {
  slackWebhookParameter: '/kiln/notifications/checkout',
  events: ['started', 'promoted', 'approval-waiting', 'succeeded', 'failed', 'rolled-back', 'alarm'],
};

/** checkout with notifications to Slack; every notice the steps raise is kept in `sent`. */
async function notifying(target: NotificationTarget | null = TARGET): Promise<World & { sent: Notice[] }> {
  const manifest = checkoutManifest((doc) => {
    if (target !== null) Object.assign(doc, { notifications: target });
  });
  const w = await world(dynamo, manifest);
  const sent: Notice[] = [];
  w.deps.notify = async (notice) => {
    sent.push(notice);
  };
  w.regions['us-east-1']?.addGroup('checkout-staging', {
    version: '1',
    capacity: { min: 2, max: 6, desired: 4 },
  });
  w.regions['us-west-2']?.addGroup('checkout-production', {
    version: '1',
    capacity: { min: 4, max: 12, desired: 8 },
  });
  return Object.assign(w, { sent });
}

async function begun(w: World): Promise<RolloutState> {
  const state = await w.deployment();
  return { ...state, rollout: await beginRollout(state, w.deps) };
}

/** Staging rolled and recorded, the gate before production set. */
async function staged(w: World): Promise<RolloutState> {
  const state = await begun(w);
  await takeLock(state, w.deps);
  const prepared = { ...state, env: await prepareEnvironment(state, w.deps) };
  return { ...prepared, rollout: await environmentDone(prepared, w.deps) };
}

describe('rollout notifications', () => {
  describe('rollout-begin', () => {
    it('carries the manifest notifications block in the cursor when it names a destination', async () => {
      const w = await notifying();
      expect((await begun(w)).rollout?.notifications).toEqual(TARGET);
    });

    it('carries nothing when the manifest names no destination, so no step notifies', async () => {
      const w = await notifying(null);
      const state = await begun(w);
      expect(state.rollout).not.toHaveProperty('notifications');
      await takeLock(state, w.deps);
      expect(w.sent).toEqual([]);
    });
  });

  describe('take-lock', () => {
    it('announces the start when it takes the first environment', async () => {
      const w = await notifying();
      await takeLock(await begun(w), w.deps);
      expect(w.sent).toEqual([
        expect.objectContaining({
          kind: 'started',
          key: 'd-1/started',
          headline: 'checkout 1.4.2: deployment started',
          details: ['deployment d-1', 'environments: staging → production'],
        }),
      ]);
    });

    it('announces nothing when it takes a later environment', async () => {
      const w = await notifying();
      const state = await begun(w);
      const cursor: RolloutCursor = { ...(state.rollout as RolloutCursor), index: 1 };
      await takeLock({ ...state, rollout: cursor }, w.deps);
      expect(w.sent).toEqual([]);
    });
  });

  describe('wait-approval', () => {
    it('asks for approval with Approve and Refuse buttons showing the change: releases and instances', async () => {
      const w = await notifying();
      const state = await staged(w);
      w.sent.length = 0;
      await waitForApproval(state, 'token-a', w.deps);
      expect(w.sent).toHaveLength(1);
      const [notice] = w.sent;
      expect(notice).toMatchObject({
        kind: 'approval-waiting',
        key: 'd-1/approval-waiting/production',
        headline: 'checkout 1.4.2: waiting for approval to promote to production',
        details: [
          'staging runs 1.4.2 on 4 instances',
          'production: unrecorded → 1.4.2 on 8 instances',
          `deployment d-1; approve by ${new Date(T0 + 86400_000).toISOString()}`,
        ],
      });
      expect(notice?.buttons?.map((b) => [b.actionId, b.value, b.confirm.text])).toEqual([
        [
          CHAT_ACTIONS.approve,
          { kind: 'approve', deploymentId: 'd-1', environment: 'production' },
          'checkout production: unrecorded → 1.4.2 on 8 instances.',
        ],
        [
          CHAT_ACTIONS.refuse,
          { kind: 'refuse', deploymentId: 'd-1', environment: 'production' },
          'production keeps unrecorded (8 instances); the deployment ends aborted.',
        ],
      ]);
    });

    it('still waits for approval when describing the change fails (the notice is left out)', async () => {
      const w = await notifying();
      const state = await staged(w);
      w.sent.length = 0;
      w.regions['us-west-2']!.autoScaling.describeGroup = async () => {
        throw new Error('Throttling: Rate exceeded');
      };
      await waitForApproval(state, 'token-a', w.deps);
      expect((await w.store.getDeployment('d-1'))?.status).toBe('waiting-approval');
      expect(w.sent).toEqual([]);
    });
  });

  describe('pass-gate', () => {
    it('announces the promotion, naming the approver', async () => {
      const w = await notifying();
      const state = await staged(w);
      await waitForApproval(state, 'token-a', w.deps);
      w.sent.length = 0;
      await passGate({ ...state, approval: { approved: true, actor: 'slack:T1/U0LEAD0001' } }, w.deps);
      expect(w.sent).toEqual([
        expect.objectContaining({
          kind: 'promoted',
          key: 'd-1/promoted/production',
          headline: 'checkout 1.4.2: promoted from staging to production',
          details: ['deployment d-1', 'approved by slack:T1/U0LEAD0001'],
        }),
      ]);
    });
  });

  describe('finish', () => {
    it('announces success with a Roll back button for the last environment, showing the record it restores', async () => {
      const w = await notifying();
      const state = await staged(w);
      w.sent.length = 0;
      const last = { ...state, rollout: { ...(state.rollout as RolloutCursor), environments: ['staging'] } };
      await finish(last, 'succeeded', w.deps);
      expect(w.sent).toHaveLength(1);
      expect(w.sent[0]).toMatchObject({
        kind: 'succeeded',
        headline: 'checkout 1.4.2: deployment succeeded',
        details: ['1.4.2 runs in staging', 'deployment d-1'],
      });
      expect(w.sent[0]?.buttons?.map((b) => [b.actionId, b.value, b.confirm.text])).toEqual([
        [
          CHAT_ACTIONS.rollback,
          { kind: 'rollback', service: 'checkout', environment: 'staging', fromVersion: '1.4.2' },
          'checkout staging: 1.4.2 → launch template version 1 on 4 instances.',
        ],
      ]);
    });

    it('announces a failure with the recorded reason', async () => {
      const w = await notifying();
      const state = await staged(w);
      w.sent.length = 0;
      await finish({ ...state, error: { Error: 'Error', Cause: 'no group' } }, 'failed', w.deps);
      expect(w.sent).toEqual([
        expect.objectContaining({
          kind: 'failed',
          key: 'd-1/failed',
          headline: 'checkout 1.4.2: deployment failed',
          details: [expect.stringContaining('stopped at staging'), 'deployment d-1'],
        }),
      ]);
    });

    it('announces a refused approval as a failure that says it was aborted', async () => {
      const w = await notifying();
      const state = await staged(w);
      await waitForApproval(state, 'token-a', w.deps);
      w.sent.length = 0;
      await finish({ ...state, approval: { approved: false, actor: 'cli:bob' } }, 'approval-refused', w.deps);
      expect(w.sent).toEqual([
        expect.objectContaining({ kind: 'failed', headline: 'checkout 1.4.2: deployment aborted' }),
      ]);
    });
  });
});
