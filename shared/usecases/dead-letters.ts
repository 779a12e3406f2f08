/**
 * Listing and replaying Kiln's dead letters (events that failed after AWS's retries).
 *
 * Replay course:
 * 1. receive every message (hidden from other readers while we work) and read each;
 * 2. pick the ones asked for (unknown or ambiguous ids: release everything, change nothing);
 * 3. hand each picked event back to the function that failed on it, as an asynchronous
 *    invocation (the same path EventBridge uses, so a new failure comes back here as a new
 *    dead letter, never silently);
 * 4. delete a message only after Lambda accepted its event; release everything else.
 * An EnvironmentError (an endpoint, credentials, permissions, a function missing from this
 * account and Region) would fail every letter alike: the run stops at it, keeping that message
 * and the ones after it.
 * Replaying twice is safe: Kiln's handlers are idempotent (DESIGN rule 1).
 */
import { readDeadLetter, selectDeadLetters, type DeadLetter, type QueueMessage } from '../domain/dead-letter';
import { EnvironmentError, KilnError } from '../runtime/errors';

export interface DeadLetterQueuePort {
  receiveAll(options: { limit: number; visibilitySeconds?: number }): Promise<QueueMessage[]>;
  release(messages: readonly QueueMessage[]): Promise<void>;
  delete(message: QueueMessage): Promise<void>;
}

export interface InvokerPort {
  invokeAsync(functionArn: string, event: unknown): Promise<void>;
}

/** Ids on the command line that name no dead letter, or more than one. */
export class DeadLetterSelectionError extends KilnError {}

/** At most this many messages are read per run. */
export const MAX_DEAD_LETTERS = 1000;

export async function listDeadLetters(deps: { queue: DeadLetterQueuePort }): Promise<DeadLetter[]> {
  const messages = await deps.queue.receiveAll({ limit: MAX_DEAD_LETTERS });
  await deps.queue.release(messages);
  return messages.map(readDeadLetter).sort(byFailure);
}

export type ReplayOutcome =
  | { letter: DeadLetter; status: 'replayed' }
  | { letter: DeadLetter; status: 'would-replay' }
  | { letter: DeadLetter; status: 'failed'; reason: string };

export async function replayDeadLetters(
  request: { ids: readonly string[] } | { all: true },
  /** `onOutcome` hears of each letter as it is done, so what was replayed is known if the run stops. */
  options: { dryRun: boolean; onOutcome?: (outcome: ReplayOutcome) => void },
  deps: { queue: DeadLetterQueuePort; invoker: InvokerPort },
): Promise<ReplayOutcome[]> {
  const messages = await deps.queue.receiveAll({ limit: MAX_DEAD_LETTERS });
  const letters = messages.map(readDeadLetter).sort(byFailure);
  const messageOf = new Map(messages.map((message) => [message.messageId, message]));
  let chosen: DeadLetter[];
  if ('all' in request) chosen = letters;
  else {
    const selection = selectDeadLetters(letters, request.ids);
    if (!('letters' in selection)) {
      await deps.queue.release(messages);
      throw 'unknown' in selection
        ? new DeadLetterSelectionError(
            `no dead letter with id ${selection.unknown.join(', ')} (see \`kiln dead-letters list\`)`,
          )
        : new DeadLetterSelectionError(
            `id ${selection.ambiguous.join(', ')} matches more than one dead letter: give more characters`,
          );
    }
    chosen = selection.letters;
  }
  const outcomes: ReplayOutcome[] = [];
  const report = (outcome: ReplayOutcome) => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };
  const deleted = new Set<string>();
  try {
    for (const letter of chosen) {
      const message = messageOf.get(letter.id) as QueueMessage;
      if (letter.kind === 'unreadable' || letter.functionArn === undefined) {
        report({ letter, status: 'failed', reason: `unreadable: ${letter.error}` });
      } else if (options.dryRun) {
        report({ letter, status: 'would-replay' });
      } else {
        try {
          await deps.invoker.invokeAsync(letter.functionArn, letter.payload);
        } catch (error) {
          if (error instanceof EnvironmentError) throw error;
          report({
            letter,
            status: 'failed',
            reason: error instanceof Error ? error.message : String(error),
          });
          continue;
        }
        await deps.queue.delete(message);
        deleted.add(message.messageId);
        report({ letter, status: 'replayed' });
      }
    }
  } finally {
    // Every message not deleted, whether picked, kept or never reached, is visible again at once.
    await deps.queue.release(messages.filter((m) => !deleted.has(m.messageId)));
  }
  return outcomes;
}

/** Oldest failure first; messages without a time last, by id. */
function byFailure(a: DeadLetter, b: DeadLetter): number {
  const at = (letter: DeadLetter) =>
    letter.failedAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(letter.failedAt);
  return at(a) - at(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
