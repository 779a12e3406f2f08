/**
 * What a message on Kiln's dead-letter queue says. Two AWS services put messages there:
 *
 * - EventBridge, when it could not deliver an event to a rule's target (the function was missing,
 *   not permitted, or throttled past the retry policy): the body is the event itself and the
 *   message attributes say RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE (and after retries
 *   RETRY_ATTEMPTS). https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
 * - Lambda, when a function failed an asynchronous invocation on every attempt: the body is an
 *   invocation record (requestContext.functionArn / condition / approximateInvokeCount,
 *   requestPayload = the event, responsePayload = the error).
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 *
 * Either way the dead letter names the function to hand the event back to; anything else on the
 * queue is reported as unreadable and never replayed.
 */
import * as z from './zod';

/** One message as the queue adapter reads it. */
export interface QueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** String message attributes. */
  attributes: Record<string, string>;
  /** When the message reached the queue (ISO 8601), if known. */
  sentAt?: string;
}

export interface DeadLetter {
  /** The SQS message id. */
  id: string;
  /** The first 8 characters of the id: what `kiln dead-letters replay` accepts. */
  shortId: string;
  /** `delivery`: EventBridge could not deliver; `invocation`: the function failed; `unreadable`: neither. */
  kind: 'delivery' | 'invocation' | 'unreadable';
  failedAt?: string;
  /** The rule whose delivery failed (delivery only). */
  ruleArn?: string;
  /** The function to hand the event back to (without a version qualifier). */
  functionArn?: string;
  /** `CODE: message` as AWS reported it. */
  error: string;
  /** How many times AWS tried. */
  attempts?: number;
  event: {
    id?: string;
    source?: string;
    detailType?: string;
  };
  /** The original event, exactly as it was delivered (undefined when unreadable). */
  payload?: unknown;
}

const EventShape = z.looseObject({
  id: z.optional(z.string()),
  source: z.optional(z.string()),
  'detail-type': z.optional(z.string()),
});

const InvocationRecordShape = z.object({
  timestamp: z.optional(z.string()),
  requestContext: z.object({
    functionArn: z.string().check(z.minLength(1)),
    condition: z.string(),
    approximateInvokeCount: z.optional(z.number().check(z.int())),
  }),
  requestPayload: z.unknown(),
  responsePayload: z.nullish(
    z.looseObject({ errorType: z.optional(z.string()), errorMessage: z.optional(z.string()) }),
  ),
});

function shortIdOf(messageId: string): string {
  return messageId.replace(/-/g, '').slice(0, 8).toLowerCase();
}

/** `arn:…:function:name:$LATEST` → `arn:…:function:name` (a version or alias qualifier is dropped). */
function unqualified(functionArn: string): string {
  const match = /^(arn:[^:]+:lambda:[^:]+:\d{12}:function:[^:]+)(?::.+)?$/.exec(functionArn);
  return match?.[1] ?? functionArn;
}

function describeEvent(payload: unknown): DeadLetter['event'] {
  const parsed = EventShape.safeParse(payload);
  if (!parsed.success) return {};
  const event: DeadLetter['event'] = {};
  if (parsed.data.id !== undefined) event.id = parsed.data.id;
  if (parsed.data.source !== undefined) event.source = parsed.data.source;
  if (parsed.data['detail-type'] !== undefined) event.detailType = parsed.data['detail-type'];
  return event;
}

/** Reads one dead-letter message. Never throws: a message it cannot read is `unreadable`. */
export function readDeadLetter(message: QueueMessage): DeadLetter {
  const base = {
    id: message.messageId,
    shortId: shortIdOf(message.messageId),
    ...(message.sentAt === undefined ? {} : { failedAt: message.sentAt }),
  };
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    return { ...base, kind: 'unreadable', error: 'the body is not JSON', event: {} };
  }
  const { RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS } = message.attributes;
  if (TARGET_ARN !== undefined && ERROR_CODE !== undefined) {
    const letter: DeadLetter = {
      ...base,
      kind: 'delivery',
      functionArn: unqualified(TARGET_ARN),
      error: ERROR_MESSAGE === undefined ? ERROR_CODE : `${ERROR_CODE}: ${ERROR_MESSAGE}`,
      event: describeEvent(body),
      payload: body,
    };
    if (RULE_ARN !== undefined) letter.ruleArn = RULE_ARN;
    // RETRY_ATTEMPTS counts retries; the first attempt makes one more.
    if (RETRY_ATTEMPTS !== undefined && /^\d+$/.test(RETRY_ATTEMPTS))
      letter.attempts = Number(RETRY_ATTEMPTS) + 1;
    return letter;
  }
  const record = InvocationRecordShape.safeParse(body);
  if (record.success) {
    const { requestContext, responsePayload, requestPayload, timestamp } = record.data;
    const errorType = responsePayload?.errorType ?? requestContext.condition;
    const letter: DeadLetter = {
      ...base,
      kind: 'invocation',
      functionArn: unqualified(requestContext.functionArn),
      error:
        responsePayload?.errorMessage === undefined
          ? errorType
          : `${errorType}: ${responsePayload.errorMessage}`,
      event: describeEvent(requestPayload),
      payload: requestPayload,
    };
    if (timestamp !== undefined) letter.failedAt = timestamp;
    if (requestContext.approximateInvokeCount !== undefined)
      letter.attempts = requestContext.approximateInvokeCount;
    return letter;
  }
  return {
    ...base,
    kind: 'unreadable',
    error: 'neither an EventBridge dead letter (no TARGET_ARN/ERROR_CODE) nor a Lambda invocation record',
    event: describeEvent(body),
  };
}

/** The deployed function name in a Lambda ARN (the last path element). */
export function functionNameOf(functionArn: string): string {
  return /:function:([^:]+)/.exec(functionArn)?.[1] ?? functionArn;
}

export type Selection = { letters: DeadLetter[] } | { unknown: string[] } | { ambiguous: string[] };

/**
 * The dead letters `ids` name: each id is a whole message id or a prefix of at least 4
 * characters of the short id (case-insensitive). Unknown or ambiguous ids select nothing.
 */
export function selectDeadLetters(letters: readonly DeadLetter[], ids: readonly string[]): Selection {
  const unknown: string[] = [];
  const ambiguous: string[] = [];
  const chosen = new Map<string, DeadLetter>();
  for (const raw of ids) {
    const id = raw.trim().toLowerCase();
    const exact = letters.filter((l) => l.id.toLowerCase() === id);
    const matches =
      exact.length > 0 ? exact : id.length >= 4 ? letters.filter((l) => l.shortId.startsWith(id)) : [];
    if (matches.length === 0) unknown.push(raw);
    else if (matches.length > 1) ambiguous.push(raw);
    else chosen.set(matches[0]?.id ?? '', matches[0] as DeadLetter);
  }
  if (unknown.length > 0) return { unknown };
  if (ambiguous.length > 0) return { ambiguous };
  return { letters: [...chosen.values()] };
}
