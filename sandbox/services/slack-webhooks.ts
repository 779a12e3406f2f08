/**
 * Slack's side of incoming webhooks, recorded instead of sent: no request leaves the machine. A
 * story registers the webhook URLs it gave out (as a Slack workspace owner creates them); every
 * POST is kept (`posts`) and put on the timeline as an `api` entry of service `Slack`, with the
 * message's fallback text and its buttons' action ids, so a run shows what people would have read.
 *
 * Answers as Slack documents them (https://api.slack.com/messaging/webhooks;
 * https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks): 200 `ok`;
 * 400 `invalid_payload` for a body that is not a JSON object; 400 `no_text` for a message with
 * neither text nor blocks; 404 `no_service` for a URL no workspace issued (Slack's answer for a
 * revoked or unknown webhook); 410 `channel_is_archived` for a webhook marked so with `archive`.
 */
import type { SimContext, TimelineEntry } from '../core/context';

export interface WebhookPost {
  url: string;
  caller: string;
  /** Virtual epoch milliseconds. */
  at: number;
  status: number;
  /** The parsed JSON body (undefined when it did not parse). */
  message?: { text?: string; blocks?: unknown[] };
}

export class SlackWebhooks {
  private readonly urls = new Map<string, 'open' | 'archived'>();
  private readonly list: WebhookPost[] = [];

  constructor(private readonly ctx: SimContext) {}

  /** A webhook URL a workspace issued (https://hooks.slack.com/services/T…/B…/…). */
  register(url: string): void {
    this.urls.set(url, 'open');
  }

  /** The webhook's channel is archived: posts answer 410. */
  archive(url: string): void {
    this.urls.set(url, 'archived');
  }

  /** Every POST received, oldest first. */
  get posts(): readonly WebhookPost[] {
    return this.list;
  }

  receive(url: string, body: string, caller: string): { status: number; text: string } {
    let message: WebhookPost['message'];
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        message = parsed as WebhookPost['message'];
    } catch {
      message = undefined;
    }
    const known = this.urls.get(url);
    const [status, text] =
      known === undefined
        ? [404, 'no_service']
        : known === 'archived'
          ? [410, 'channel_is_archived']
          : message === undefined
            ? [400, 'invalid_payload']
            : message.text === undefined && message.blocks === undefined
              ? [400, 'no_text']
              : [200, 'ok'];
    const at = this.ctx.clock.now();
    this.list.push({ url, caller, at, status, ...(message === undefined ? {} : { message }) });
    const actions = (message?.blocks ?? []).flatMap((block) => actionIds(block));
    const entry: TimelineEntry & { text?: string; buttons?: string[] } = {
      kind: 'api',
      service: 'Slack',
      operation: 'IncomingWebhook',
      caller,
      ok: status === 200,
      ...(status === 200 ? {} : { error: `${status} ${text}` }),
      ...(typeof message?.text === 'string' ? { text: message.text } : {}),
      ...(actions.length === 0 ? {} : { buttons: actions }),
    };
    this.ctx.timeline.record(entry);
    return { status, text };
  }
}

function actionIds(block: unknown): string[] {
  if (typeof block !== 'object' || block === null || !('elements' in block) || !Array.isArray(block.elements))
    return [];
  return block.elements.flatMap((element: unknown) =>
    typeof element === 'object' &&
    element !== null &&
    'action_id' in element &&
    typeof element.action_id === 'string'
      ? [element.action_id]
      : [],
  );
}
