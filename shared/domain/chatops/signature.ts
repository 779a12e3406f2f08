/**
 * Slack's request signature, version 0 (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature` is `v0=` and the hex HMAC-SHA256, keyed by the app's signing secret, of
 * `v0:<X-Slack-Request-Timestamp>:<raw body>`. Checked on the raw bytes before anything parses
 * them (a re-serialised body would not match), compared in constant time, and a timestamp more
 * than five minutes from now is refused, as Slack's page advises against replays. Requests that
 * pass are still deduplicated by their signature (shared/usecases/chatops/receive.ts): a replay
 * inside the five minutes carries the very same signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's window: "more than five minutes from local time … could be a replay attack". */
export const SLACK_MAX_AGE_SECONDS = 5 * 60;

export interface SignedRequest {
  /** The `X-Slack-Request-Timestamp` header (epoch seconds), as received. */
  timestamp: string | undefined;
  /** The `X-Slack-Signature` header, as received. */
  signature: string | undefined;
  /** The body exactly as received (before any decoding of its form fields or JSON). */
  rawBody: Buffer;
}

export type SignatureVerdict =
  | { ok: true }
  | {
      ok: false;
      reason: 'missing-headers' | 'bad-timestamp' | 'stale' | 'bad-signature';
      message: string;
    };

/** The signature Slack would send for `rawBody` at `timestamp`: `v0=` and 64 hex digits. */
export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

export function verifySlackSignature(
  request: SignedRequest,
  secret: string,
  nowMs: number,
): SignatureVerdict {
  const { timestamp, signature } = request;
  if (timestamp === undefined || signature === undefined) {
    return {
      ok: false,
      reason: 'missing-headers',
      message: 'not signed by Slack: X-Slack-Request-Timestamp and X-Slack-Signature are required',
    };
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return {
      ok: false,
      reason: 'bad-timestamp',
      message: 'X-Slack-Request-Timestamp must be whole epoch seconds',
    };
  }
  const ageSeconds = Math.abs(nowMs / 1000 - Number(timestamp));
  if (ageSeconds > SLACK_MAX_AGE_SECONDS) {
    return {
      ok: false,
      reason: 'stale',
      message: `request timestamp is ${Math.round(ageSeconds)} s from now (more than ${SLACK_MAX_AGE_SECONDS} s): refused as a possible replay`,
    };
  }
  const expected = Buffer.from(slackSignature(secret, timestamp, request.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch leaks nothing but the length, which
  // is public (always 67 characters).
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature', message: 'X-Slack-Signature does not match the body' };
  }
  return { ok: true };
}
