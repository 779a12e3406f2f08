/**
 * The worker half of `chatops`: runs one acknowledged Slack request and answers through its
 * response_url. Invoked asynchronously by the acknowledging half (./receive.ts).
 *
 * Course:
 * 1. Once only: the request's `slack-request` claim must still be held by the acknowledging
 *    invocation; a claim already `done` means Lambda delivered this work twice, and it is skipped.
 * 2. Reads (`status`, `history`, `help`) are answered at once: anyone may read.
 * 3. Anything that changes something becomes a proposal (./preview.ts): authorized against the
 *    manifest's access lists, then shown — from which release to which, on how many instances —
 *    with Confirm and Cancel. Nothing changes yet. The notifier's buttons (Approve, Refuse, Roll
 *    back) lead to the same preview.
 * 4. Confirm: authorized again (whoever presses it), the preview checked against the records
 *    again (the environment must still run what it showed), then carried out by the same use
 *    cases as the CLI (start, approve, abort), with the actor `slack:<team>/<user>`; they audit it.
 * 5. A refusal says what the user may not do; it is logged, not written: it changes nothing.
 * 6. The claim is settled `done` with the outcome, so a late duplicate finds it handled.
 */
import type { DeployExecutions, SfnTasks } from '../../aws/sfn';
import { CHAT_ACTIONS } from '../../domain/chat-actions';
import { parseCommandText, COMMAND_USAGE } from '../../domain/chatops/commands';
import {
  describeProposal,
  previewMessage,
  textMessage,
  type ChatMessage,
} from '../../domain/chatops/messages';
import {
  ChatActionValueSchema,
  CONFIRM_ACTIONS,
  ProposalSchema,
  type Proposal,
} from '../../domain/chatops/proposal';
import type { ServiceManifest } from '../../domain/manifest/schema';
import * as z from '../../domain/zod';
import type { ChatWork } from '../../events/slack';
import type { IdSource } from '../../runtime/ids';
import type { KilnStore } from '../../store';
import { abortDeployment } from '../deployments/abort';
import { approveDeployment } from '../deployments/approve';
import { DeploymentRequestError } from '../deployments/errors';
import { startDeployment } from '../deployments/start';
import type { ChatResponder, UserGroupDirectory } from './ports';
import { proposalFor, authorizeProposal, type PreviewFacts } from './preview';
import { historyMessage, statusMessage } from './read';

export interface ChatWorkDeps {
  store: KilnStore<ServiceManifest>;
  executions: Pick<DeployExecutions, 'executionArn' | 'start'>;
  tasks: Pick<SfnTasks, 'succeed'>;
  ids: IdSource;
  now: () => number;
  responder: ChatResponder;
  userGroups?: UserGroupDirectory;
  log: (message: string, facts: Record<string, unknown>) => void;
}

export type WorkOutcome =
  'duplicate' | 'answered' | 'previewed' | 'refused' | 'invalid' | 'cancelled' | 'done' | 'stale' | 'failed';

export async function handleChatWork(work: ChatWork, deps: ChatWorkDeps): Promise<{ outcome: WorkOutcome }> {
  const claim = await deps.store.getClaim('slack-request', work.claimKey);
  if (claim === undefined || claim.status === 'done' || claim.holder !== work.holder) {
    deps.log('chat request already handled (duplicate delivery); skipped', { claimKey: work.claimKey });
    return { outcome: 'duplicate' };
  }
  let result: { outcome: WorkOutcome; message: ChatMessage };
  try {
    result = await answer(work, deps);
  } catch (error) {
    // Not retried (the claim is settled below): a retry after the action landed would act twice.
    const why = error instanceof Error ? error.message : String(error);
    deps.log('chat request failed', { actor: actorOf(work), error: why });
    result = {
      outcome: 'failed',
      message: textMessage(
        `Kiln failed on this request (${why}); \`/kiln status\` shows where things stand.`,
      ),
    };
  }
  try {
    await deps.responder.respond(work.responseUrl, result.message);
  } catch (error) {
    // The action (if any) stands and is audited; only the answer is lost.
    deps.log('could not answer Slack', { error: error instanceof Error ? error.message : String(error) });
  }
  await deps.store.settleClaim('slack-request', work.claimKey, {
    holder: work.holder,
    outcome: result.outcome,
  });
  return { outcome: result.outcome };
}

export const actorOf = (work: Pick<ChatWork, 'teamId' | 'userId'>): string =>
  `slack:${work.teamId}/${work.userId}`;

async function answer(
  work: ChatWork,
  deps: ChatWorkDeps,
): Promise<{ outcome: WorkOutcome; message: ChatMessage }> {
  try {
    if (work.ask.type === 'command') {
      const parsed = parseCommandText(work.ask.text);
      if (!parsed.ok) return { outcome: 'invalid', message: textMessage(parsed.message) };
      const { command } = parsed;
      switch (command.name) {
        case 'help':
          return {
            outcome: 'answered',
            message: textMessage(`Kiln's commands:\n${COMMAND_USAGE.join('\n')}`),
          };
        case 'status':
          return { outcome: 'answered', message: await statusMessage(command.service, deps.store) };
        case 'history':
          return { outcome: 'answered', message: await historyMessage(command.service, deps.store) };
        default:
          return propose(await proposalFor(command, deps.store), work, deps);
      }
    }
    const { actionId, value } = work.ask;
    if (actionId === CONFIRM_ACTIONS.cancel) {
      return { outcome: 'cancelled', message: textMessage('Cancelled; nothing changed.', { replace: true }) };
    }
    const json = parseJson(value);
    if (actionId === CONFIRM_ACTIONS.confirm) {
      const proposal = z.safeParse(ProposalSchema, json);
      if (!proposal.success) return invalidButton(actionId);
      return confirm(proposal.data, work, deps);
    }
    const button = z.safeParse(ChatActionValueSchema, json);
    if (!button.success || !matches(actionId, button.data.kind)) return invalidButton(actionId);
    const b = button.data;
    const command =
      b.kind === 'rollback'
        ? ({ name: 'rollback', service: b.service, environment: b.environment } as const)
        : ({ name: b.kind, deploymentId: b.deploymentId } as const);
    return propose(await proposalFor(command, deps.store), work, deps);
  } catch (error) {
    if (error instanceof DeploymentRequestError) {
      return { outcome: 'refused', message: textMessage(error.message) };
    }
    throw error;
  }
}

function matches(actionId: string, kind: 'approve' | 'refuse' | 'rollback'): boolean {
  return actionId === CHAT_ACTIONS[kind];
}

function parseJson(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function invalidButton(actionId: string): { outcome: WorkOutcome; message: ChatMessage } {
  return {
    outcome: 'invalid',
    message: textMessage(`Kiln could not read the value of the button "${actionId}"; nothing changed.`),
  };
}

async function propose(
  preview: { proposal: Proposal; facts: PreviewFacts },
  work: ChatWork,
  deps: ChatWorkDeps,
): Promise<{ outcome: WorkOutcome; message: ChatMessage }> {
  const verdict = await authorizeProposal(preview.proposal, work.userId, deps.store, deps.userGroups);
  if (!verdict.allowed) {
    deps.log('refused a chat request; nothing changed', { actor: actorOf(work), refusal: verdict.message });
    return { outcome: 'refused', message: textMessage(verdict.message) };
  }
  return {
    outcome: 'previewed',
    message: previewMessage(preview.proposal, describeProposal(preview.proposal, preview.facts)),
  };
}

async function confirm(
  proposal: Proposal,
  work: ChatWork,
  deps: ChatWorkDeps,
): Promise<{ outcome: WorkOutcome; message: ChatMessage }> {
  const actor = actorOf(work);
  const verdict = await authorizeProposal(proposal, work.userId, deps.store, deps.userGroups);
  if (!verdict.allowed) {
    deps.log('refused a chat confirmation; nothing changed', { actor, refusal: verdict.message });
    return { outcome: 'refused', message: textMessage(verdict.message) };
  }
  const reason = `from Slack by <@${work.userId}>`;
  switch (proposal.action) {
    case 'deploy':
    case 'rollback': {
      // The environment must still run what the preview showed, or the person confirmed something else.
      const state = await deps.store.getEnvironmentState(proposal.service, proposal.environment);
      if (state.currentRelease !== proposal.from) {
        return {
          outcome: 'stale',
          message: textMessage(
            `${proposal.service}/${proposal.environment} now runs ${state.currentRelease ?? 'nothing recorded'}, not ${proposal.from ?? 'nothing'} as the preview showed; nothing changed. Ask again.`,
            { replace: true },
          ),
        };
      }
      const { deployment } = await startDeployment(
        {
          service: proposal.service,
          version: proposal.version,
          environments: [proposal.environment],
          mode: proposal.action,
          trigger: 'chatops',
          actor,
          reason,
        },
        deps,
      );
      return {
        outcome: 'done',
        message: textMessage(
          `<@${work.userId}> started ${proposal.action === 'deploy' ? 'deployment' : 'rollback'} ${deployment.id}: ${proposal.service}/${proposal.environment} ${proposal.from ?? 'nothing recorded'} → ${proposal.version}.`,
          { replace: true, inChannel: true },
        ),
      };
    }
    case 'approve':
    case 'refuse': {
      const approved = proposal.action === 'approve';
      await approveDeployment({ deploymentId: proposal.deploymentId, actor, approved, reason }, deps);
      return {
        outcome: 'done',
        message: textMessage(
          `<@${work.userId}> ${approved ? 'approved' : 'refused'} deployment ${proposal.deploymentId} ${approved ? 'into' : 'before'} ${proposal.environment}.`,
          { replace: true, inChannel: true },
        ),
      };
    }
    case 'abort': {
      const { outcome } = await abortDeployment({ deploymentId: proposal.deploymentId, actor, reason }, deps);
      const said =
        outcome === 'already-final'
          ? `deployment ${proposal.deploymentId} had already ended; nothing changed.`
          : `<@${work.userId}> asked deployment ${proposal.deploymentId} to stop; ${proposal.environment} goes back to its previous release.`;
      return {
        outcome: 'done',
        message: textMessage(said, { replace: true, inChannel: outcome !== 'already-final' }),
      };
    }
  }
}
