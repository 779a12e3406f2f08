/**
 * The confirm step of chat (README "ChatOps"): every action that changes something is first shown
 * as a proposal — what will change, from which release to which, on how many instances — with a
 * Confirm button carrying the proposal and a Cancel button. The buttons the notifier draws
 * (shared/domain/chat-actions.ts) lead to the same preview. Pure.
 */
import { CHAT_ACTIONS } from '../chat-actions';
import * as z from '../zod';

const Name = z.string().check(
  z.minLength(1),
  z.maxLength(200),
  z.refine((v) => !v.includes('#'), 'must not contain "#"'),
);

/** Kiln's own confirm step: the button that carries out what a preview showed (README ChatOps). */
export const CONFIRM_ACTIONS = { confirm: 'kiln.confirm', cancel: 'kiln.cancel' } as const;

/** A button value of shared/domain/chat-actions.ts (the notifier's buttons). */
export const ChatActionValueSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['approve', 'refuse']), deploymentId: Name, environment: Name }),
  z.object({ kind: z.literal('rollback'), service: Name, environment: Name, fromVersion: z.optional(Name) }),
]);

/** What a confirm button carries: the action, and what the preview showed (checked again before acting). */
export const ProposalSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('deploy'),
    service: Name,
    environment: Name,
    version: Name,
    from: z.optional(Name),
  }),
  z.object({
    action: z.literal('rollback'),
    service: Name,
    environment: Name,
    version: Name,
    from: z.optional(Name),
  }),
  z.object({ action: z.enum(['approve', 'refuse']), deploymentId: Name, environment: Name }),
  z.object({ action: z.literal('abort'), deploymentId: Name, environment: Name }),
]);
export type Proposal = z.infer<typeof ProposalSchema>;

export const KNOWN_ACTION_IDS: readonly string[] = [
  ...Object.values(CHAT_ACTIONS),
  ...Object.values(CONFIRM_ACTIONS),
];
