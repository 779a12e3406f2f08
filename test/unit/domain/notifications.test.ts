import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { safeParseManifest } from '../../../shared/domain/manifest/schema';
import { CHAT_ACTIONS } from '../../../shared/domain/chat-actions';
import {
  alarmNotice,
  approvalNotice,
  slackMessage,
  snsMessage,
  startedNotice,
  wanted,
  type DeploymentFacts,
  type NotificationTarget,
} from '../../../shared/domain/notifications';

const TO: NotificationTarget = {
  slackWebhookParameter: '/kiln/notifications/shop',
  events: ['started', 'promoted', 'approval-waiting', 'succeeded', 'failed', 'rolled-back', 'alarm'],
};
const facts = (change: Partial<DeploymentFacts> = {}): DeploymentFacts => ({
  service: 'shop',
  deploymentId: 'd-1',
  version: '2.0.0',
  mode: 'deploy',
  to: TO,
  ...change,
});
const approval = () =>
  approvalNotice(
    facts(),
    { name: 'staging', release: '2.0.0', instances: 3 },
    { name: 'production', release: '1.0.0', instances: 6 },
    Date.parse('2026-01-02T00:00:00Z'),
  );

describe('notifications', () => {
  describe('wanted', () => {
    it('is false when the manifest names no destination, whatever the events', () => {
      expect(wanted(startedNotice(facts({ to: { events: TO.events } }), ['staging']))).toBe(false);
    });

    it('is false for a kind left out of the events', () => {
      expect(wanted(startedNotice(facts({ to: { ...TO, events: ['failed'] } }), ['staging']))).toBe(false);
    });
  });

  describe('in Slack', () => {
    it('draws Approve and Refuse as buttons whose values chatops reads back', () => {
      const message = slackMessage(approval());
      const actions = message.blocks[1] as {
        elements: Array<{ action_id: string; value: string; style?: string }>;
      };
      expect(actions.elements.map((e) => [e.action_id, JSON.parse(e.value), e.style])).toEqual([
        [
          CHAT_ACTIONS.approve,
          { kind: 'approve', deploymentId: 'd-1', environment: 'production' },
          'primary',
        ],
        [CHAT_ACTIONS.refuse, { kind: 'refuse', deploymentId: 'd-1', environment: 'production' }, 'danger'],
      ]);
    });

    it('asks to confirm each button with what will change', () => {
      const message = slackMessage(approval());
      const actions = message.blocks[1] as { elements: Array<{ confirm: { text: { text: string } } }> };
      expect(actions.elements[0]?.confirm.text.text).toBe('shop production: 1.0.0 → 2.0.0 on 6 instances.');
    });

    it("escapes Slack's control characters in text", () => {
      const notice = { ...startedNotice(facts(), ['staging']), details: ['reason: <b> & co'] };
      const section = slackMessage(notice).blocks[0] as { text: { text: string } };
      expect(section.text.text).toContain('reason: &lt;b&gt; &amp; co');
    });

    it('keeps every section and button within Slack’s limits, whatever the details', () => {
      fc.assert(
        fc.property(fc.array(fc.string({ maxLength: 500 }), { maxLength: 20 }), (details) => {
          const message = slackMessage({ ...approval(), details });
          const section = message.blocks[0] as { text: { text: string } };
          const actions = message.blocks[1] as { elements: Array<{ value: string }> };
          return section.text.text.length <= 3000 && actions.elements.every((e) => e.value.length <= 2000);
        }),
      );
    });
  });

  describe('in SNS', () => {
    it('gives a subject SNS accepts (ASCII, no line breaks, under 100 characters), whatever the headline', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), (headline) => {
          const { subject } = snsMessage({ ...startedNotice(facts(), ['staging']), headline });
          return subject.length < 100 && /^[\x20-\x7e]+$/.test(subject);
        }),
      );
    });

    it('tells readers the command for each button', () => {
      expect(snsMessage(approval()).message.split('\n').slice(-2)).toEqual([
        'to act: kiln approve d-1',
        'to act: kiln approve d-1 --refuse',
      ]);
    });
  });

  describe('alarm notices (for on-alarm)', () => {
    it('is one notice per alarm and state change', () => {
      const at = Date.parse('2026-01-02T03:04:05Z');
      expect(
        alarmNotice({
          service: 'shop',
          environment: 'production',
          name: 'shop-5xx',
          state: 'ALARM',
          at,
          to: TO,
        }),
      ).toMatchObject({
        kind: 'alarm',
        key: `alarm/shop-5xx/${at}`,
        headline: 'shop production: alarm shop-5xx is ALARM',
      });
    });
  });

  describe("the manifest's notifications block", () => {
    const withNotifications = (notifications: unknown) => {
      const doc = parse(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as object;
      return safeParseManifest({ ...doc, notifications });
    };

    it('accepts a webhook parameter under /kiln/notifications/ and an SNS topic', () => {
      const outcome = withNotifications({
        slackWebhookParameter: '/kiln/notifications/checkout',
        snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:deploys',
      });
      expect(outcome.success && outcome.data.notifications.events).toContain('alarm');
    });

    it('refuses a webhook parameter anywhere else, naming the field', () => {
      const outcome = withNotifications({ slackWebhookParameter: '/prod/database/password' });
      expect(outcome.success).toBe(false);
      if (outcome.success) return;
      expect(outcome.issues).toEqual([
        expect.objectContaining({
          path: ['notifications', 'slackWebhookParameter'],
          message: expect.stringContaining('must be a parameter under /kiln/notifications/'),
        }),
      ]);
    });
  });
});
