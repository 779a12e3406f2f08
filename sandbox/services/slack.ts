/**
 * Slack's side of chat in the sandbox: what Kiln posts to a request's response_url is recorded
 * here (no network), on the timeline as a `log` entry and in `responses` for a story's checks;
 * `kiln sandbox --serve` prints each one. Slack accepts at most five posts per response_url
 * within 30 minutes of the request (https://api.slack.com/interactivity/handling#message_responses);
 * a sixth is refused and the refusal recorded (Slack documents the limit, not its error: the
 * recorder's "HTTP 429" is its own).
 */
import type { ChatMessage } from '../../shared/domain/chatops/messages';
import type { ChatResponder } from '../../shared/usecases/chatops/ports';
import type { SimTimeline } from '../core/context';

export interface RecordedResponse {
  at: number;
  responseUrl: string;
  message: ChatMessage;
}

const MAX_POSTS = 5;

export class SlackResponses implements ChatResponder {
  readonly responses: RecordedResponse[] = [];
  private readonly listeners: Array<(response: RecordedResponse) => void> = [];

  constructor(
    private readonly timeline: SimTimeline,
    private readonly now: () => number,
  ) {}

  /** Called for every recorded response (the --serve mode prints them). */
  onResponse(listener: (response: RecordedResponse) => void): void {
    this.listeners.push(listener);
  }

  async respond(responseUrl: string, message: ChatMessage): Promise<void> {
    const earlier = this.responses.filter((r) => r.responseUrl === responseUrl).length;
    if (earlier >= MAX_POSTS) {
      this.timeline.record({ kind: 'log', message: `slack: refused a 6th response to ${responseUrl}` });
      throw new Error('Slack refused the response (HTTP 429)');
    }
    const response = { at: this.now(), responseUrl, message: structuredClone(message) };
    this.responses.push(response);
    this.timeline.record({
      kind: 'log',
      message: `slack response (${message.response_type}): ${message.text}`,
    });
    for (const listener of this.listeners) listener(response);
  }

  /** The responses posted to one response_url, oldest first. */
  to(responseUrl: string): RecordedResponse[] {
    return this.responses.filter((r) => r.responseUrl === responseUrl);
  }
}
