/**
 * The interactive buttons Kiln puts on its Slack notifications, and how the `chatops` function
 * reads them back from a `block_actions` payload (https://api.slack.com/reference/interaction-payloads/block-actions).
 * One spelling for the notifier that draws them and the handler that answers them (issue 11).
 *
 * Each button's `action_id` names what it does; its `value` carries what it acts on, as JSON.
 */
export const CHAT_ACTIONS = {
  /** Resumes the deployment's own waiting approval task (its task token) as approved. */
  approve: 'kiln.approve',
  /** Resumes it as refused: the deployment ends `approval-refused`. */
  refuse: 'kiln.refuse',
  /** Rolls one environment back to its previous release (a new rollback deployment). */
  rollback: 'kiln.rollback',
} as const;
export type ChatActionId = (typeof CHAT_ACTIONS)[keyof typeof CHAT_ACTIONS];

/** A button's `value` (Slack allows at most 2,000 characters there). */
export type ChatActionValue =
  | { kind: 'approve' | 'refuse'; deploymentId: string; environment: string }
  | { kind: 'rollback'; service: string; environment: string; fromVersion?: string };
