/**
 * The Slack incoming webhook adapter: POST a JSON message to the URL a SecureString parameter
 * holds (https://api.slack.com/messaging/webhooks). Slack answers 200 `ok`, or a status with a
 * short error string in the body (400 invalid_payload, 403 action_prohibited, 404
 * channel_not_found, 410 channel_is_archived, 500 rollup_error:
 * https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks, which says
 * to treat any status but 200 as a failure). The URL is a secret: it is never logged, and errors
 * name the parameter, not the URL.
 */
import type { SlackWebhookPort } from '../usecases/notify';

/** One HTTP POST; the sandbox passes a recorder instead of the network. */
export type WebhookPoster = (
  url: string,
  request: { body: string; headers: Record<string, string>; signal: AbortSignal },
) => Promise<{ status: number; text: string }>;

export const fetchPoster: WebhookPoster = async (url, request) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    signal: request.signal,
    redirect: 'error',
  });
  return { status: response.status, text: await response.text() };
};

export class SlackWebhookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlackWebhookError';
  }
}

export class SlackIncomingWebhook implements SlackWebhookPort {
  constructor(
    private readonly deps: {
      /** The decrypted parameter value (shared/aws/parameters.ts SecureParameters.value). */
      secret: (name: string, signal: AbortSignal) => Promise<string>;
      post?: WebhookPoster;
    },
  ) {}

  async post(
    parameterName: string,
    message: { text: string; blocks: unknown[] },
    signal: AbortSignal,
  ): Promise<void> {
    const url = await this.deps.secret(parameterName, signal);
    if (!/^https:\/\/[^\s/]+\/\S*$/.test(url)) {
      throw new SlackWebhookError(`the parameter ${parameterName} does not hold an https URL`);
    }
    const answer = await (this.deps.post ?? fetchPoster)(url, {
      body: JSON.stringify(message),
      headers: { 'content-type': 'application/json' },
      signal,
    });
    if (answer.status !== 200) {
      const said = answer.text.trim().slice(0, 100) || 'no body';
      throw new SlackWebhookError(`Slack answered ${answer.status} ${said} (webhook in ${parameterName})`);
    }
  }
}
