/**
 * What Kiln posts back to Slack (through a request's response_url): plain text with a few Block
 * Kit blocks (https://api.slack.com/reference/block-kit/blocks). Ephemeral, so only the person
 * who asked sees previews and refusals. Pure.
 */
import { CONFIRM_ACTIONS, type Proposal } from './proposal';

export interface ChatMessage {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
  blocks?: unknown[];
  /** On a button's response_url: replace the message holding the button. */
  replace_original?: boolean;
}

export function textMessage(
  text: string,
  options: { replace?: boolean; inChannel?: boolean } = {},
): ChatMessage {
  return {
    response_type: options.inChannel === true ? 'in_channel' : 'ephemeral',
    text,
    ...(options.replace === true ? { replace_original: true } : {}),
  };
}

/** What a proposal will change, in one sentence (the preview's text, and the audit's reason). */
export function describeProposal(
  proposal: Proposal,
  facts: { instances?: number; release?: string },
): string {
  const on =
    facts.instances === undefined ? '' : ` on ${facts.instances} instance${facts.instances === 1 ? '' : 's'}`;
  switch (proposal.action) {
    case 'deploy':
      return `deploy ${proposal.service} ${proposal.version} to ${proposal.environment}: ${proposal.from ?? 'nothing recorded'} → ${proposal.version}${on}`;
    case 'rollback':
      return `roll back ${proposal.service}/${proposal.environment}: ${proposal.from ?? 'nothing recorded'} → ${proposal.version}${on}`;
    case 'approve':
      return `approve deployment ${proposal.deploymentId}: promotes ${facts.release ?? 'its release'} to ${proposal.environment}${on}`;
    case 'refuse':
      return `refuse deployment ${proposal.deploymentId}: ${proposal.environment} stays as it is, the deployment ends`;
    case 'abort':
      return `abort deployment ${proposal.deploymentId}: ${proposal.environment} goes back to its previous release${on}`;
  }
}

/** The preview: what will change, and Confirm / Cancel buttons (Confirm carries the proposal). */
export function previewMessage(proposal: Proposal, summary: string): ChatMessage {
  const text = `Kiln will ${summary}. Confirm?`;
  return {
    response_type: 'ephemeral',
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: CONFIRM_ACTIONS.confirm,
            text: { type: 'plain_text', text: 'Confirm' },
            style: proposal.action === 'approve' || proposal.action === 'deploy' ? 'primary' : 'danger',
            value: JSON.stringify(proposal),
          },
          {
            type: 'button',
            action_id: CONFIRM_ACTIONS.cancel,
            text: { type: 'plain_text', text: 'Cancel' },
            value: 'cancel',
          },
        ],
      },
    ],
  };
}
