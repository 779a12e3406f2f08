/**
 * Answers a Slack request through its response_url: a JSON POST that Slack accepts up to five
 * times within 30 minutes of the request (https://api.slack.com/interactivity/handling#message_responses).
 * Bounded in time so a slow Slack cannot hold the worker; a refusal is an error naming Slack's
 * status. The URL was checked to be on hooks.slack.com when the request was read.
 */
import type { ChatMessage } from '../domain/chatops/messages';
import type { ChatResponder } from '../usecases/chatops/ports';

export type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number }>;

export class SlackResponseUrl implements ChatResponder {
  constructor(
    private readonly fetcher: Fetch = (url, init) => fetch(url, init),
    private readonly timeoutMs = 5000,
  ) {}

  async respond(responseUrl: string, message: ChatMessage): Promise<void> {
    const response = await this.fetcher(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`Slack refused the response (HTTP ${response.status})`);
  }
}
