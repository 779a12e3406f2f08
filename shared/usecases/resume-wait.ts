/**
 * Wakes the deploy task waiting for what a progress event reports (DESIGN.md rule 5).
 *
 * Course:
 * 1. A state that does not end the wait wakes nothing (shared/domain/waits.ts).
 * 2. Take the waiting task's token: a conditional delete, so of two deliveries of one event (or
 *    of an event and a repeat) exactly one gets it; without a token there is nobody to wake (the
 *    task already woke, or polled and finished, or never waited).
 * 3. SendTaskSuccess with a wake-up output; the task re-reads the real state from AWS itself, so
 *    the event is never trusted as the result and never fails the task (no SendTaskFailure).
 *    A task no longer waiting is fine. A transient failure puts the token back (unless the task
 *    has stored a newer one) and rethrows, so Lambda's retry of the event can wake it.
 *
 * Not audited: a wake changes none of Kiln's state (the task records what it finds); it is logged.
 */
import { endsWait, wakeOutput, type ProgressSignal } from '../domain/waits';
import type { TaskResumption } from '../aws/sfn';
import type { KilnStore } from '../store';

export interface ResumeWaitDeps {
  store: Pick<KilnStore, 'takeTaskToken' | 'restoreTaskToken'>;
  tasks: { succeed(taskToken: string, output: unknown): Promise<TaskResumption> };
}

export type ResumeWaitResult =
  | { outcome: 'not-terminal' }
  | { outcome: 'no-waiter' }
  | { outcome: 'resumed'; deploymentId: string }
  | { outcome: 'task-gone'; deploymentId: string; code: string };

export async function resumeWait(signal: ProgressSignal, deps: ResumeWaitDeps): Promise<ResumeWaitResult> {
  if (!endsWait(signal)) return { outcome: 'not-terminal' };
  const token = await deps.store.takeTaskToken(signal.waitKind, signal.key);
  if (token === undefined) return { outcome: 'no-waiter' };
  let resumption: TaskResumption;
  try {
    resumption = await deps.tasks.succeed(token.token, wakeOutput(signal));
  } catch (error) {
    await deps.store.restoreTaskToken(token);
    throw error;
  }
  return resumption.outcome === 'resumed'
    ? { outcome: 'resumed', deploymentId: token.deploymentId }
    : { outcome: 'task-gone', deploymentId: token.deploymentId, code: resumption.code };
}
