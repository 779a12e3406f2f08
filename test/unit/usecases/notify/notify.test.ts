import type { ServiceManifest } from '../../../../shared/domain/manifest/schema';
import { startedNotice, type Notice, type NotificationTarget } from '../../../../shared/domain/notifications';
import { KilnStore } from '../../../../shared/store';
import { notify, type NotifyDeps } from '../../../../shared/usecases/notify';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:deploys';
const PARAMETER = '/kiln/notifications/checkout';

const everywhere = (change: Partial<NotificationTarget> = {}): NotificationTarget => ({
  slackWebhookParameter: PARAMETER,
  snsTopicArn: TOPIC,
  events: ['started', 'promoted', 'approval-waiting', 'succeeded', 'failed', 'rolled-back', 'alarm'],
  ...change,
});

const started = (to: NotificationTarget = everywhere()): Notice =>
  startedNotice({ service: 'checkout', deploymentId: 'd-1', version: '1.4.2', mode: 'deploy', to }, [
    'staging',
    'production',
  ]);

interface Harness {
  deps: NotifyDeps;
  store: KilnStore<ServiceManifest>;
  slackPosts: Array<{ parameter: string; text: string }>;
  published: Array<{ topic: string; subject: string }>;
  warnings: string[];
}

async function harness(
  options: {
    slack?: (signal: AbortSignal) => Promise<void>;
    sns?: (signal: AbortSignal) => Promise<void>;
    holder?: string;
    timeoutMs?: number;
  } = {},
): Promise<Harness> {
  const store = new KilnStore<ServiceManifest>({
    client: dynamo.client,
    tableName: await dynamo.createTable(),
    now: () => T0,
  });
  const slackPosts: Harness['slackPosts'] = [];
  const published: Harness['published'] = [];
  const warnings: string[] = [];
  const deps: NotifyDeps = {
    store,
    slack: {
      post: async (parameter, message, signal) => {
        slackPosts.push({ parameter, text: message.text });
        await options.slack?.(signal);
      },
    },
    sns: {
      publish: async (topic, message, signal) => {
        published.push({ topic, subject: message.subject });
        await options.sns?.(signal);
        return { messageId: `m-${published.length}` };
      },
    },
    now: () => T0,
    actor: 'deploy:rollout',
    log: { info: () => undefined, warn: (message) => void warnings.push(message) },
    ...(options.holder === undefined ? {} : { holder: options.holder }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  return { deps, store, slackPosts, published, warnings };
}

describe('notify', () => {
  describe('what it sends', () => {
    it('posts to the Slack webhook and publishes to the SNS topic the manifest names', async () => {
      const h = await harness();
      const result = await notify(started(), h.deps);
      expect(result).toEqual({ outcome: 'sent', results: { slack: 'sent', sns: 'sent' } });
      expect(h.slackPosts).toEqual([{ parameter: PARAMETER, text: 'checkout 1.4.2: deployment started' }]);
      expect(h.published).toEqual([{ topic: TOPIC, subject: 'Kiln: checkout 1.4.2: deployment started' }]);
    });

    it('sends only to the destinations the manifest names', async () => {
      const h = await harness();
      const { snsTopicArn: _topic, ...slackOnly } = everywhere();
      await notify(started(slackOnly), h.deps);
      expect(h.slackPosts).toHaveLength(1);
      expect(h.published).toEqual([]);
    });

    it('does nothing at all, not even a store read, when the manifest names no destination', async () => {
      const h = await harness();
      const claim = jest.spyOn(h.store, 'claim');
      const result = await notify(started({ events: ['started'] }), h.deps);
      expect(result).toEqual({ outcome: 'not-wanted' });
      expect(claim).not.toHaveBeenCalled();
      expect(h.slackPosts).toEqual([]);
    });

    it('does nothing for a kind the manifest left out of its events', async () => {
      const h = await harness();
      const result = await notify(started(everywhere({ events: ['failed'] })), h.deps);
      expect(result).toEqual({ outcome: 'not-wanted' });
      expect(h.slackPosts).toEqual([]);
      expect(await h.store.getClaim('notification', 'd-1/started')).toBeUndefined();
    });
  });

  describe('once per notice', () => {
    it('sends nothing again when a retried step raises the same notice', async () => {
      const h = await harness();
      await notify(started(), h.deps);
      const again = await notify(started(), h.deps);
      expect(again).toEqual({ outcome: 'duplicate', by: 'd-1' });
      expect(h.slackPosts).toHaveLength(1);
      expect(h.published).toHaveLength(1);
    });

    it('lets one of two concurrent callers with their own holders send', async () => {
      const h = await harness();
      const [a, b] = await Promise.all([
        notify(started(), { ...h.deps, holder: 'request-a' }),
        notify(started(), { ...h.deps, holder: 'request-b' }),
      ]);
      expect([a.outcome, b.outcome].sort()).toEqual(['duplicate', 'sent']);
      expect(h.slackPosts).toHaveLength(1);
    });

    it('records the notice as done, with what happened per destination', async () => {
      const h = await harness();
      await notify(started(), h.deps);
      expect(await h.store.getClaim('notification', 'd-1/started')).toMatchObject({
        status: 'done',
        holder: 'd-1',
        outcome: 'slack sent; sns sent',
      });
    });
  });

  describe('when a destination fails', () => {
    it('returns normally, still publishes to SNS, and audits the failure with the reason', async () => {
      const h = await harness({
        slack: async () => {
          throw new Error('Slack answered 404 no_service (webhook in /kiln/notifications/checkout)');
        },
      });
      const result = await notify(started(), h.deps);
      expect(result).toEqual({
        outcome: 'partly-sent',
        results: {
          slack: 'failed: Error: Slack answered 404 no_service (webhook in /kiln/notifications/checkout)',
          sns: 'sent',
        },
      });
      const audit = await h.store.listAudit({ target: 'deployment:d-1' });
      expect(audit.items).toEqual([
        expect.objectContaining({
          actor: 'deploy:rollout',
          action: 'notification.failed',
          reason: expect.stringContaining('slack failed: Error: Slack answered 404 no_service'),
        }),
      ]);
      expect(h.warnings).toEqual(['notification not delivered; the deployment goes on']);
    });

    it('gives up on a destination that does not answer within the time limit, aborting its request', async () => {
      let aborted = false;
      const h = await harness({
        timeoutMs: 20,
        slack: (signal) =>
          new Promise<void>(() => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
          }),
      });
      const result = await notify(started(), h.deps);
      expect(result).toMatchObject({
        outcome: 'partly-sent',
        results: { slack: 'failed: NotificationTimeout: no answer within 20 ms', sns: 'sent' },
      });
      expect(aborted).toBe(true);
    });

    it('does not send again after a failure (the notice is done, its failure audited)', async () => {
      const h = await harness({
        sns: async () => {
          throw new Error('NotFound: Topic does not exist');
        },
      });
      await notify(started(), h.deps);
      expect(await notify(started(), h.deps)).toMatchObject({ outcome: 'duplicate' });
      expect(h.published).toHaveLength(1);
    });

    it('returns normally when the store itself fails', async () => {
      const h = await harness();
      jest.spyOn(h.store, 'claim').mockRejectedValue(new Error('ProvisionedThroughputExceededException'));
      const result = await notify(started(), h.deps);
      expect(result).toEqual({ outcome: 'error', error: 'Error: ProvisionedThroughputExceededException' });
      expect(h.slackPosts).toEqual([]);
    });
  });
});
