/**
 * Writes of the environment state (DESIGN.md rule 2): what an environment runs, recorded when a
 * release reaches it and again when a rollback puts the previous one back, so Kiln's record always
 * names what the group runs and can never send it back to a bad version. Every write requires this
 * deployment's unexpired lease (`lockHolder`), so a rollout that lost its lock cannot overwrite
 * the next holder's record.
 */
import { historyAfter } from '../../domain/rollout';
import type { EnvironmentRecord, EnvironmentState } from '../../store/schemas';
import type { RolloutDeps } from './deps';

/** Same group and launch template version: the same thing running. */
export function sameRunning(a: EnvironmentRecord | undefined, b: EnvironmentRecord): boolean {
  return (
    a !== undefined &&
    a.group === b.group &&
    a.launchTemplate.id === b.launchTemplate.id &&
    a.launchTemplate.version === b.launchTemplate.version
  );
}

/**
 * Records `current` as what the environment runs now, `previous` (what ran before it) kept in the
 * history beneath it. A repeat of the same write (a retried step) changes nothing.
 */
export async function recordCurrent(
  input: {
    service: string;
    environment: string;
    deploymentId: string;
    current: EnvironmentRecord;
    previous: EnvironmentRecord;
  },
  deps: Pick<RolloutDeps, 'store' | 'actor'>,
): Promise<EnvironmentState> {
  const state = await deps.store.getEnvironmentState(input.service, input.environment);
  const head = state.history?.[0];
  if (
    sameRunning(head, input.current) &&
    head?.release === input.current.release &&
    state.currentRelease === input.current.release
  ) {
    return state;
  }
  // The history beneath the new record starts with what ran before it, recorded once.
  const beneath =
    sameRunning(head, input.previous) || sameRunning(input.current, input.previous)
      ? (state.history ?? [])
      : historyAfter(input.previous, state.history);
  const history = historyAfter(input.current, beneath);
  const previousRelease = history[1]?.release;
  return deps.store.updateEnvironmentState(
    input.service,
    input.environment,
    {
      currentRelease: input.current.release,
      previousRelease: previousRelease ?? null,
      launchTemplate: input.current.launchTemplate,
      capacity: input.current.capacity,
      activeGroup: input.current.group,
      history,
    },
    state.version,
    { actor: deps.actor, lockHolder: input.deploymentId },
  );
}
