import { createTestContext, type TestSimContext } from '../../../sandbox/core/testing';
import { SlackWebhooks } from '../../../sandbox/services/slack-webhooks';

const URL = 'https://hooks.slack.com/services/T0001/B0001/sandbox';

describe('SlackWebhooks (the recorder of incoming webhook posts)', () => {
  let ctx: TestSimContext;
  let slack: SlackWebhooks;

  beforeEach(() => {
    ctx = createTestContext(1);
    slack = new SlackWebhooks(ctx);
    slack.register(URL);
  });

  it('answers 200 ok and puts the message text and its buttons on the timeline', () => {
    const body = JSON.stringify({
      text: 'shop 2.0.0: waiting for approval',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'kiln.approve' }] }],
    });
    expect(slack.receive(URL, body, 'fn:rolloutSteps')).toEqual({ status: 200, text: 'ok' });
    expect(ctx.entries).toEqual([
      expect.objectContaining({
        kind: 'api',
        service: 'Slack',
        operation: 'IncomingWebhook',
        caller: 'fn:rolloutSteps',
        ok: true,
        text: 'shop 2.0.0: waiting for approval',
        buttons: ['kiln.approve'],
      }),
    ]);
    expect(slack.posts).toHaveLength(1);
  });

  it.each([
    ['a URL no workspace issued', `${URL}x`, JSON.stringify({ text: 'x' }), 404, 'no_service'],
    ['a body that is not a JSON object', URL, 'text=x', 400, 'invalid_payload'],
    ['a message with neither text nor blocks', URL, JSON.stringify({ username: 'kiln' }), 400, 'no_text'],
  ])('answers %s with Slack’s error', (_what, url, body, status, text) => {
    expect(slack.receive(url, body, 'fn:rolloutSteps')).toEqual({ status, text });
    expect(ctx.entries[0]).toMatchObject({ ok: false, error: `${status} ${text}` });
  });

  it('answers 410 channel_is_archived once the channel is archived', () => {
    slack.archive(URL);
    expect(slack.receive(URL, JSON.stringify({ text: 'x' }), 'fn:rolloutSteps')).toEqual({
      status: 410,
      text: 'channel_is_archived',
    });
  });
});
