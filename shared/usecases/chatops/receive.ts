/**
 * The acknowledging half of `chatops` (POST /slack): everything it does fits well inside Slack's
 * three seconds, even on a cold start, because the slow part (reading Kiln's records, previews,
 * acting) is handed to the worker (./work.ts) through Lambda's asynchronous invoke.
 *
 * Course:
 * 1. Signature first, on the raw body (shared/domain/chatops/signature.ts). A request without
 *    Slack's headers is refused before even the signing secret is read; any refusal is 401 and
 *    touches nothing else: no claim, no store read, no worker.
 * 2. Read the body: a slash command's form fields, or an interaction's `payload` JSON
 *    (block_actions). Malformed: a 200 whose text names the field (Slack shows it to the person),
 *    nothing else done.
 * 3. Replay: one `slack-request` claim per signature (a replay carries the same one). Only the
 *    first delivery passes; a replay is refused with 409 and changes nothing. The claim outlives
 *    the five minutes in which the timestamp check lets a replay through.
 * 4. Queue the work for the worker; if that fails, the claim is let go (so Slack's user can try
 *    again) and the reply says nothing was done.
 * 5. Reply: a slash command gets an ephemeral "working on it"; a button press an empty 200
 *    (Slack's acknowledgement), the answer follows through response_url.
 */
import { verifySlackSignature, SLACK_MAX_AGE_SECONDS } from '../../domain/chatops/signature';
import { KNOWN_ACTION_IDS } from '../../domain/chatops/proposal';
import type { ServiceManifest } from '../../domain/manifest/schema';
import * as z from '../../domain/zod';
import { BlockActionsSchema, SlashCommandSchema, type ChatWork, type HttpApiEvent } from '../../events/slack';
import { formatPath } from '../../runtime/validation';
import type { KilnStore } from '../../store';
import type { ChatWorkQueue } from './ports';

export interface ReceiveDeps {
  /** The signing secret (read once from SSM and cached by the adapter). */
  signingSecret: () => Promise<string>;
  store: Pick<KilnStore<ServiceManifest>, 'claim' | 'releaseClaim'>;
  queue: ChatWorkQueue;
  now: () => number;
  /** This invocation's request id: the claim's holder. */
  holder: string;
}

export interface HttpReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type ReceiveOutcome =
  'queued' | 'unsigned' | 'bad-signature' | 'stale' | 'malformed' | 'not-kiln' | 'replayed' | 'queue-failed';

/** How long a request's claim is kept: past the window in which its timestamp is still accepted. */
export const REQUEST_CLAIM_SECONDS = 2 * SLACK_MAX_AGE_SECONDS;

const json = (statusCode: number, body: unknown): HttpReply => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const ephemeral = (text: string) => json(200, { response_type: 'ephemeral', text });

export async function receiveSlackRequest(
  event: HttpApiEvent,
  deps: ReceiveDeps,
): Promise<{ outcome: ReceiveOutcome; reply: HttpReply; work?: ChatWork }> {
  const rawBody = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64')
    : Buffer.from(event.body ?? '', 'utf8');
  const header = (name: string): string | undefined => event.headers[name];
  const timestamp = header('x-slack-request-timestamp');
  const signature = header('x-slack-signature');
  if (timestamp === undefined || signature === undefined) {
    return {
      outcome: 'unsigned',
      reply: json(401, {
        error: 'not signed by Slack: X-Slack-Request-Timestamp and X-Slack-Signature are required',
      }),
    };
  }
  const verdict = verifySlackSignature(
    { timestamp, signature, rawBody },
    await deps.signingSecret(),
    deps.now(),
  );
  if (!verdict.ok) {
    const outcome =
      verdict.reason === 'stale'
        ? 'stale'
        : verdict.reason === 'bad-signature'
          ? 'bad-signature'
          : 'unsigned';
    return { outcome, reply: json(401, { error: verdict.message }) };
  }

  const read = readRequest(rawBody);
  if (!read.ok) return { outcome: read.outcome, reply: ephemeral(read.message) };

  const claimKey = `slack-signature/${signature}`.slice(0, 200);
  const claimed = await deps.store.claim({
    scope: 'slack-request',
    key: claimKey,
    holder: deps.holder,
    expiresAt: deps.now() + REQUEST_CLAIM_SECONDS * 1000,
  });
  if (!claimed.claimed) {
    return {
      outcome: 'replayed',
      reply: json(409, { error: 'this request was already received; nothing done' }),
    };
  }
  const work: ChatWork = { kind: 'kiln.chatops.work', claimKey, holder: deps.holder, ...read.work };
  try {
    await deps.queue.enqueue(work);
  } catch (error) {
    await deps.store.releaseClaim('slack-request', claimKey, { holder: deps.holder });
    const why = error instanceof Error ? error.message : String(error);
    return {
      outcome: 'queue-failed',
      reply: ephemeral(`Kiln could not start on this (${why}); nothing was done, try again.`),
    };
  }
  if (work.ask.type === 'button')
    return { outcome: 'queued', reply: { statusCode: 200, headers: {}, body: '' }, work };
  return { outcome: 'queued', reply: ephemeral(`Working on \`/kiln ${work.ask.text}\`…`), work };
}

type Read =
  | { ok: true; work: Omit<ChatWork, 'kind' | 'claimKey' | 'holder'> }
  | { ok: false; outcome: 'malformed' | 'not-kiln'; message: string };

function problems(error: z.core.$ZodError, what: string): string {
  return `Kiln could not read this ${what}: ${error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`;
}

/** The form body as Slack sends it: a slash command's fields, or `payload` holding an interaction. */
function readRequest(rawBody: Buffer): Read {
  const form = new URLSearchParams(rawBody.toString('utf8'));
  const payload = form.get('payload');
  if (payload === null) {
    const parsed = z.safeParse(SlashCommandSchema, Object.fromEntries(form));
    if (!parsed.success)
      return { ok: false, outcome: 'malformed', message: problems(parsed.error, 'slash command') };
    const c = parsed.data;
    return {
      ok: true,
      work: {
        teamId: c.team_id,
        userId: c.user_id,
        responseUrl: c.response_url,
        ask: { type: 'command', text: c.text.trim() },
      },
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return {
      ok: false,
      outcome: 'malformed',
      message: 'Kiln could not read this interaction: payload: is not JSON',
    };
  }
  const parsed = z.safeParse(BlockActionsSchema, value);
  if (!parsed.success)
    return { ok: false, outcome: 'malformed', message: problems(parsed.error, 'interaction') };
  const p = parsed.data;
  const [action] = p.actions as [(typeof p.actions)[number]];
  if (!KNOWN_ACTION_IDS.includes(action.action_id)) {
    return {
      ok: false,
      outcome: 'not-kiln',
      message: `Kiln does not answer the button "${action.action_id}"`,
    };
  }
  return {
    ok: true,
    work: {
      teamId: p.team.id,
      userId: p.user.id,
      responseUrl: p.response_url,
      ask: {
        type: 'button',
        actionId: action.action_id,
        ...(action.value === undefined ? {} : { value: action.value }),
      },
    },
  };
}
