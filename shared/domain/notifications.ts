/**
 * What Kiln tells people about a service (issue 11, item 5), as plain data, and how that reads in
 * Slack and in an SNS message. Pure: the notifier (shared/usecases/notify/) sends what these
 * functions build, and the rollout steps and on-alarm build their notices with them.
 *
 * A notice names its own dedupe key (the `notification` claim's key): one notice per key is ever
 * sent, however often the step that raises it is retried.
 */
import { CHAT_ACTIONS, type ChatActionId, type ChatActionValue } from './chat-actions';
import type { NotificationEvent, ServiceManifest } from './manifest/schema';

export type NotificationTarget = ServiceManifest['notifications'];

export interface NoticeButton {
  label: string;
  actionId: ChatActionId;
  value: ChatActionValue;
  style?: 'primary' | 'danger';
  /** Slack asks the person to confirm, showing this (what will change) before the action runs. */
  confirm: { title: string; text: string; confirm: string; deny: string };
}

export interface Notice {
  kind: NotificationEvent;
  service: string;
  /** One notice per key is ever sent (`<deployment>/<event>[/<environment>]`, `alarm/<name>/<at>`). */
  key: string;
  deploymentId?: string;
  /** One line: what happened. */
  headline: string;
  /** Facts under it, one per line. */
  details: string[];
  /** Slack buttons (SNS readers get the matching `kiln` command in the text instead). */
  buttons?: NoticeButton[];
  /** The service's manifest `notifications` block: where the notice goes and which kinds it wants. */
  to: NotificationTarget;
}

/** Whether the manifest wants this notice anywhere at all (no destination: nothing to do). */
export function wanted(notice: Notice): boolean {
  const { to } = notice;
  const somewhere = to.slackWebhookParameter !== undefined || to.snsTopicArn !== undefined;
  return somewhere && to.events.includes(notice.kind);
}

// ---------------------------------------------------------------------------------------------
// The rollout's notices

export interface DeploymentFacts {
  service: string;
  deploymentId: string;
  version: string;
  mode: 'deploy' | 'rollback';
  to: NotificationTarget;
}

export interface EnvironmentSide {
  name: string;
  /** The release it runs now (`unrecorded` when Kiln has no record). */
  release: string;
  /** Desired capacity of its group: how many instances the change touches. */
  instances: number;
}

const verb = (facts: DeploymentFacts): string => (facts.mode === 'rollback' ? 'rollback' : 'deployment');

export function startedNotice(facts: DeploymentFacts, environments: readonly string[]): Notice {
  return {
    kind: 'started',
    service: facts.service,
    key: `${facts.deploymentId}/started`,
    deploymentId: facts.deploymentId,
    headline: `${facts.service} ${facts.version}: ${verb(facts)} started`,
    details: [`deployment ${facts.deploymentId}`, `environments: ${environments.join(' → ')}`],
    to: facts.to,
  };
}

export function promotedNotice(
  facts: DeploymentFacts,
  from: string,
  next: string,
  approvedBy?: string,
): Notice {
  return {
    kind: 'promoted',
    service: facts.service,
    key: `${facts.deploymentId}/promoted/${next}`,
    deploymentId: facts.deploymentId,
    headline: `${facts.service} ${facts.version}: promoted from ${from} to ${next}`,
    details: [
      `deployment ${facts.deploymentId}`,
      approvedBy === undefined ? `${from} passed its gate` : `approved by ${approvedBy}`,
    ],
    to: facts.to,
  };
}

/**
 * Waiting for a person: Approve and Refuse buttons (shared/domain/chat-actions.ts), each asking to
 * confirm with what will change, from which release to which, on how many instances.
 */
export function approvalNotice(
  facts: DeploymentFacts,
  done: EnvironmentSide,
  next: EnvironmentSide,
  deadline: number,
): Notice {
  const change = `${next.name}: ${next.release} → ${facts.version} on ${count(next.instances)}`;
  const value = { deploymentId: facts.deploymentId, environment: next.name };
  return {
    kind: 'approval-waiting',
    service: facts.service,
    key: `${facts.deploymentId}/approval-waiting/${next.name}`,
    deploymentId: facts.deploymentId,
    headline: `${facts.service} ${facts.version}: waiting for approval to promote to ${next.name}`,
    details: [
      `${done.name} runs ${facts.version} on ${count(done.instances)}`,
      change,
      `deployment ${facts.deploymentId}; approve by ${new Date(deadline).toISOString()}`,
    ],
    buttons: [
      {
        label: 'Approve',
        actionId: CHAT_ACTIONS.approve,
        value: { kind: 'approve', ...value },
        style: 'primary',
        confirm: {
          title: `Promote to ${next.name}?`,
          text: `${facts.service} ${change}.`,
          confirm: 'Approve',
          deny: 'Cancel',
        },
      },
      {
        label: 'Refuse',
        actionId: CHAT_ACTIONS.refuse,
        value: { kind: 'refuse', ...value },
        style: 'danger',
        confirm: {
          title: `Refuse ${next.name}?`,
          text: `${next.name} keeps ${next.release} (${count(next.instances)}); the deployment ends aborted.`,
          confirm: 'Refuse',
          deny: 'Cancel',
        },
      },
    ],
    to: facts.to,
  };
}

/**
 * The ending. `succeeded` offers a Roll back button for the last environment (its watch window
 * is when a person most wants it); `rolled-back` and `failed` carry the recorded reason.
 */
export function endingNotice(
  facts: DeploymentFacts,
  ending: 'succeeded' | 'failed' | 'rolled-back',
  status: string,
  reason: string,
  last?: EnvironmentSide & { previous?: string },
): Notice {
  const notice: Notice = {
    kind: ending,
    service: facts.service,
    key: `${facts.deploymentId}/${ending}`,
    deploymentId: facts.deploymentId,
    headline: `${facts.service} ${facts.version}: ${verb(facts)} ${status}`,
    details: [reason, `deployment ${facts.deploymentId}`],
    to: facts.to,
  };
  const previous = last?.previous;
  if (ending === 'succeeded' && last && previous !== undefined && facts.mode === 'deploy') {
    notice.buttons = [
      {
        label: `Roll back ${last.name}`,
        actionId: CHAT_ACTIONS.rollback,
        value: {
          kind: 'rollback',
          service: facts.service,
          environment: last.name,
          fromVersion: facts.version,
        },
        style: 'danger',
        confirm: {
          title: `Roll back ${last.name}?`,
          text: `${facts.service} ${last.name}: ${facts.version} → ${previous} on ${count(last.instances)}.`,
          confirm: 'Roll back',
          deny: 'Cancel',
        },
      },
    ];
  }
  return notice;
}

/** An alarm that moved outside any rollout or watch window (on-alarm's "otherwise notify"). */
export function alarmNotice(alarm: {
  service: string;
  environment: string;
  name: string;
  state: string;
  /** Epoch milliseconds of the state change: one notice per alarm and change. */
  at: number;
  reason?: string;
  to: NotificationTarget;
}): Notice {
  return {
    kind: 'alarm',
    service: alarm.service,
    key: `alarm/${alarm.name}/${alarm.at}`,
    headline: `${alarm.service} ${alarm.environment}: alarm ${alarm.name} is ${alarm.state}`,
    details: [
      `since ${new Date(alarm.at).toISOString()}`,
      ...(alarm.reason === undefined ? [] : [alarm.reason]),
    ],
    to: alarm.to,
  };
}

function count(instances: number): string {
  return `${instances} instance${instances === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------
// How a notice reads

/**
 * A Slack incoming webhook message: `text` (the notification's fallback) and Block Kit blocks.
 * https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks,
 * button and confirm objects: https://api.slack.com/reference/block-kit/block-elements#button,
 * https://api.slack.com/reference/block-kit/composition-objects#confirm (button `value` at most
 * 2,000 characters, section text at most 3,000).
 */
export function slackMessage(notice: Notice): { text: string; blocks: unknown[] } {
  const body = [`*${escapeSlack(notice.headline)}*`, ...notice.details.map(escapeSlack)].join('\n');
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(body, 3000) } }];
  if (notice.buttons && notice.buttons.length > 0) {
    blocks.push({
      type: 'actions',
      elements: notice.buttons.map((button) => ({
        type: 'button',
        text: { type: 'plain_text', text: button.label },
        action_id: button.actionId,
        value: JSON.stringify(button.value),
        ...(button.style === undefined ? {} : { style: button.style }),
        confirm: {
          title: { type: 'plain_text', text: clip(button.confirm.title, 100) },
          text: { type: 'mrkdwn', text: clip(escapeSlack(button.confirm.text), 300) },
          confirm: { type: 'plain_text', text: button.confirm.confirm },
          deny: { type: 'plain_text', text: button.confirm.deny },
        },
      })),
    });
  }
  return { text: clip(notice.headline, 3000), blocks };
}

/**
 * An SNS message: Subject (for email subscribers) "must be ASCII text that begins with a letter,
 * number, or punctuation mark; must not include line breaks or control characters; and must be
 * less than 100 characters long" (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
 */
export function snsMessage(notice: Notice): { subject: string; message: string } {
  const ascii = `Kiln: ${notice.headline}`.replace(/[^\x20-\x7e]/g, '?');
  const subject = ascii.length < 100 ? ascii : `${ascii.slice(0, 96)}...`;
  const commands = (notice.buttons ?? []).map((button) => commandFor(button.value));
  return {
    subject,
    message: [notice.headline, ...notice.details, ...commands.map((c) => `to act: ${c}`)].join('\n'),
  };
}

function commandFor(value: ChatActionValue): string {
  switch (value.kind) {
    case 'approve':
      return `kiln approve ${value.deploymentId}`;
    case 'refuse':
      return `kiln approve ${value.deploymentId} --refuse`;
    case 'rollback':
      return `kiln rollback ${value.service} ${value.environment}`;
  }
}

/** Slack's three control characters in text (https://api.slack.com/reference/surfaces/formatting#escaping). */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
