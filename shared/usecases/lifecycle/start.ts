/**
 * Starts the handling of one lifecycle action: the lifecycle state machine's execution named after
 * the action (shared/domain/lifecycle.ts), so every delivery of the event and the reconciler finding
 * the same action start it once. A second start is `already-started`, not an error.
 */
import { lifecycleExecutionName, type LifecycleAction } from '../../domain/lifecycle';
import type { LifecycleProgress } from './deps';

/** The execution's input: the action and where the handling starts. */
export interface LifecycleExecutionInput {
  action: LifecycleAction;
  progress: LifecycleProgress;
}

export interface LifecycleExecutionsPort {
  start(name: string, input: LifecycleExecutionInput): Promise<{ outcome: 'started' | 'already-started' }>;
  /** How the execution of that name stands; undefined when there is none. */
  status(name: string): Promise<string | undefined>;
}

export async function startLifecycleHandling(
  action: LifecycleAction,
  executions: LifecycleExecutionsPort,
): Promise<{ name: string; outcome: 'started' | 'already-started' }> {
  const name = lifecycleExecutionName(action);
  const { outcome } = await executions.start(name, { action, progress: { phase: 'begin', next: 'wait' } });
  return { name, outcome };
}
