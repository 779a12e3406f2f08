/**
 * What chat's use cases need from outside: answering Slack (its response_url), handing a request
 * to the asynchronous worker, and (optionally) Slack's user-group memberships. Adapters:
 * shared/slack/ (HTTP to Slack) and shared/aws/lambda.ts (the worker's async invoke).
 */
import type { ChatMessage } from '../../domain/chatops/messages';
import type { ChatWork } from '../../events/slack';

export interface ChatResponder {
  /** Posts to a request's response_url (Slack accepts 5 posts per URL within 30 minutes). */
  respond(responseUrl: string, message: ChatMessage): Promise<void>;
}

export interface ChatWorkQueue {
  /** Hands the request to the worker; resolves once queued (Lambda's async invoke: 202). */
  enqueue(work: ChatWork): Promise<void>;
}

export interface UserGroupDirectory {
  /** The members (user ids) of a Slack user group; throws when Slack cannot say. */
  membersOf(groupId: string): Promise<readonly string[]>;
}
