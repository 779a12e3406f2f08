/**
 * What reaches `chatops`: the HTTP API's payload 2.0 event carrying a Slack request, the two kinds
 * of Slack request Kiln answers, and the work item the acknowledging invocation hands to the
 * asynchronous one. Samples: test/fixtures/events/slack (Slack's documented bodies) and
 * test/fixtures/events/apigw (AWS's documented payload 2.0 event).
 *
 * - Slash command: an application/x-www-form-urlencoded POST
 *   (https://api.slack.com/interactivity/slash-commands, "app command payload").
 * - Interactions: the same content type with one field, `payload`, holding JSON; Kiln answers
 *   `block_actions` (https://api.slack.com/reference/interaction-payloads/block-actions).
 * Only the fields Kiln reads are checked; Slack adds fields over time.
 */
import * as z from '../domain/zod';

const Id = z.string().check(z.regex(/^[A-Z0-9]{2,40}$/, 'must be a Slack id'));
const SlackUserId = z.string().check(z.regex(/^[UW][A-Z0-9]{2,40}$/, 'must be a Slack user id (U… or W…)'));

/**
 * Where Kiln posts its answers. Slack's response URLs are on hooks.slack.com; holding them to it
 * keeps a forged (but somehow signed) body from making Kiln post elsewhere.
 */
export const ResponseUrl = z
  .string()
  .check(
    z.maxLength(2048),
    z.regex(/^https:\/\/hooks\.slack\.com\/[A-Za-z0-9/_\-.%]+$/, 'must be a https://hooks.slack.com/ URL'),
  );

/** The HTTP API's payload 2.0 event, the parts Kiln reads (the raw body stays as sent). */
export const HttpApiEventSchema = z.object({
  version: z.literal('2.0'),
  headers: z._default(z.record(z.string(), z.string()), {}),
  body: z.optional(z.string()),
  isBase64Encoded: z._default(z.boolean(), false),
  requestContext: z.object({
    requestId: z.string().check(z.minLength(1)),
    http: z.object({ method: z.string() }),
  }),
});
export type HttpApiEvent = z.infer<typeof HttpApiEventSchema>;

/** The fields of a slash command Kiln reads. */
export const SlashCommandSchema = z.object({
  command: z.string().check(z.regex(/^\/[\w-]{1,31}$/, 'must be a slash command such as /kiln')),
  text: z._default(z.string().check(z.maxLength(4000)), ''),
  team_id: Id,
  user_id: SlackUserId,
  response_url: ResponseUrl,
});
export type SlashCommand = z.infer<typeof SlashCommandSchema>;

const KnownAction = z.object({
  action_id: z.string().check(z.minLength(1), z.maxLength(255)),
  // Slack allows 2,000 characters in a button's value.
  value: z.optional(z.string().check(z.maxLength(2000))),
});

export const BlockActionsSchema = z.object({
  type: z.literal('block_actions'),
  team: z.object({ id: Id }),
  user: z.object({ id: SlackUserId }),
  response_url: ResponseUrl,
  actions: z.array(KnownAction).check(z.minLength(1, 'must hold the button pressed')),
});
export type BlockActions = z.infer<typeof BlockActionsSchema>;

/** One request as the worker receives it: who, where to answer, and what was asked. */
export const ChatWorkSchema = z.object({
  kind: z.literal('kiln.chatops.work'),
  /** The `slack-request` claim taken when the request was acknowledged (settled when done). */
  claimKey: z.string().check(z.minLength(1), z.maxLength(200)),
  holder: z.string().check(z.minLength(1)),
  teamId: Id,
  userId: SlackUserId,
  responseUrl: ResponseUrl,
  ask: z.discriminatedUnion('type', [
    z.object({ type: z.literal('command'), text: z.string().check(z.maxLength(4000)) }),
    z.object({
      type: z.literal('button'),
      actionId: z.string().check(z.minLength(1), z.maxLength(255)),
      value: z.optional(z.string().check(z.maxLength(2000))),
    }),
  ]),
});
export type ChatWork = z.infer<typeof ChatWorkSchema>;
