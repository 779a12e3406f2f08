/**
 * Sends one notice (shared/domain/notifications.ts) to the service's Slack incoming webhook and/or
 * SNS topic (issue 11, item 5). A notification is news, never a step of the deployment: whatever
 * goes wrong here (Slack answering 404, SNS refusing, the secret missing, a hung connection, the
 * store itself) is logged and audited and this function returns normally, within a bounded time.
 *
 * Course:
 * 1. Not wanted (no destination in the manifest, or the kind left out of `events`): nothing at all
 *    happens, not even a read, so a service without notifications costs its rollout nothing.
 * 2. The `notification` claim on the notice's key: a step retried by the state machine, a duplicate
 *    event or a second reconciler finds it taken (or done) and sends nothing again. A claim held by
 *    the same holder is taken again (its first try died before settling), so a crash between the
 *    send and the settle can repeat a notice: at least once, never twice for a finished send.
 * 3. Each destination in turn, each within `timeoutMs` (the request is aborted past it).
 * 4. The claim settled `done` with what happened per destination, kept `KEEP_MS`, and one audit
 *    entry (`notification.sent` or `notification.failed`, with the failures as the reason).
 */
import type { ClaimInput } from '../../store/schemas';
import type { AuditInput, ClaimOutcome } from '../../store';
import { auditTarget } from '../../store/schemas';
import { slackMessage, snsMessage, wanted, type Notice } from '../../domain/notifications';

/** Posts a message to the Slack incoming webhook whose URL the SecureString `parameterName` holds. */
export interface SlackWebhookPort {
  post(
    parameterName: string,
    message: { text: string; blocks: unknown[] },
    signal: AbortSignal,
  ): Promise<void>;
}

export interface SnsPort {
  publish(
    topicArn: string,
    message: { subject: string; message: string },
    signal: AbortSignal,
  ): Promise<{ messageId: string }>;
}

export interface NotifyStore {
  claim(input: ClaimInput): Promise<ClaimOutcome>;
  settleClaim(
    scope: 'notification',
    key: string,
    request: { holder: string; outcome?: string; expiresAt?: number },
  ): Promise<boolean>;
  audit(input: AuditInput): Promise<unknown>;
}

export interface NotifyLog {
  info(message: string, details: Record<string, unknown>): void;
  warn(message: string, details: Record<string, unknown>): void;
}

export interface NotifyDeps {
  store: NotifyStore;
  slack: SlackWebhookPort;
  sns: SnsPort;
  now: () => number;
  /** Who the audit entry names (e.g. `deploy:rollout`, `alarm:on-alarm`). */
  actor: string;
  /**
   * Who holds the claim while sending. Default: the notice's deployment id (a retried step is the
   * same holder), else `actor`. Concurrent callers (two deliveries of one event) must pass their
   * own, e.g. the Lambda request id, so only one of them sends.
   */
  holder?: string;
  log: NotifyLog;
  /** Per destination; default NOTIFY_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** How long one destination may take: a rollout step must not wait on a slow chat service. */
export const NOTIFY_TIMEOUT_MS = 5_000;
/** A finished notice's claim is kept this long, so a step retried hours later still sees it sent. */
export const KEEP_MS = 14 * 24 * 60 * 60 * 1000;

export type DestinationResult = 'sent' | `failed: ${string}`;

export type NotifyOutcome =
  | { outcome: 'not-wanted' }
  | { outcome: 'duplicate'; by: string }
  | {
      outcome: 'sent' | 'failed' | 'partly-sent';
      results: { slack?: DestinationResult; sns?: DestinationResult };
    }
  | { outcome: 'error'; error: string };

export async function notify(notice: Notice, deps: NotifyDeps): Promise<NotifyOutcome> {
  if (!wanted(notice)) return { outcome: 'not-wanted' };
  const holder = deps.holder ?? notice.deploymentId ?? deps.actor;
  const timeoutMs = deps.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  try {
    const claim = await deps.store.claim({
      scope: 'notification',
      key: notice.key,
      holder,
      // Held for the sends' worst case and a margin; then another may take it over.
      expiresAt: deps.now() + 2 * timeoutMs + 30_000,
      data: { kind: notice.kind, service: notice.service },
    });
    if (!claim.claimed) {
      deps.log.info('notification already sent or being sent; not sent again', {
        key: notice.key,
        by: claim.existing.holder,
        status: claim.existing.status,
      });
      return { outcome: 'duplicate', by: claim.existing.holder };
    }

    const results: { slack?: DestinationResult; sns?: DestinationResult } = {};
    const { slackWebhookParameter, snsTopicArn } = notice.to;
    if (slackWebhookParameter !== undefined) {
      results.slack = await attempt(timeoutMs, (signal) =>
        deps.slack.post(slackWebhookParameter, slackMessage(notice), signal),
      );
    }
    if (snsTopicArn !== undefined) {
      results.sns = await attempt(timeoutMs, (signal) =>
        deps.sns.publish(snsTopicArn, snsMessage(notice), signal),
      );
    }
    const failures = Object.entries(results).filter(([, result]) => result !== 'sent');
    const outcome =
      failures.length === 0
        ? 'sent'
        : failures.length === Object.keys(results).length
          ? 'failed'
          : 'partly-sent';
    const summary = Object.entries(results)
      .map(([where, result]) => `${where} ${result}`)
      .join('; ');

    await deps.store.settleClaim('notification', notice.key, {
      holder,
      outcome: summary,
      expiresAt: deps.now() + KEEP_MS,
    });
    await deps.store.audit({
      actor: deps.actor,
      action: outcome === 'sent' ? 'notification.sent' : 'notification.failed',
      target:
        notice.deploymentId === undefined
          ? auditTarget.service(notice.service)
          : auditTarget.deployment(notice.deploymentId),
      service: notice.service,
      ...(notice.deploymentId === undefined ? {} : { deploymentId: notice.deploymentId }),
      after: { kind: notice.kind, key: notice.key, ...results },
      ...(failures.length === 0
        ? {}
        : { reason: `notification not delivered (${summary}); the deployment goes on` }),
    });
    if (failures.length > 0) {
      deps.log.warn('notification not delivered; the deployment goes on', { key: notice.key, ...results });
    } else {
      deps.log.info('notification sent', { key: notice.key, ...results });
    }
    return { outcome, results };
  } catch (error) {
    // The store failed (claim, settle or audit): still never the deployment's problem.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    deps.log.warn('notification bookkeeping failed; the deployment goes on', {
      key: notice.key,
      error: message,
    });
    return { outcome: 'error', error: message };
  }
}

/**
 * One destination, within `ms`: the request gets an AbortSignal that fires at the deadline, and the
 * wait ends then even if the request ignores it. Timers are the caller's clock (virtual in the
 * sandbox), so a slow destination costs simulated time, not wall time.
 */
async function attempt(
  ms: number,
  send: (signal: AbortSignal) => Promise<unknown>,
): Promise<DestinationResult> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${ms} ms`);
      error.name = 'NotificationTimeout';
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    await Promise.race([send(controller.signal), deadline]);
    return 'sent';
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return `failed: ${text.length > 300 ? `${text.slice(0, 299)}…` : text}`;
  } finally {
    clearTimeout(timer);
  }
}
