/**
 * How a story step fails without crashing the run. A story is an operator's script and a test at
 * once: when the simulation makes one of its steps impossible — a call that an injected fault
 * keeps failing past every retry, a wait that passes its virtual deadline — the run ends in its
 * checks with that step as a failed check (exit 1). Anything else a story throws is a bug in Kiln
 * or the sandbox and still propagates (exit 2): the distinction rests on the mark the SDK hook puts
 * on the errors it throws on purpose (`simulatedFailureOf`), not on catching everything.
 */
import { simulatedFailureOf, type SimulatedFailure } from '../core/sdk';

/** A story step that could not finish because of what the simulation did. */
export class StoryStepError extends Error {
  constructor(
    /** The step, as the failed check is named: `setup`, `rollout`, … */
    readonly step: string,
    readonly detail: string,
    /** 'simulated': a call failed on purpose; 'deadline': a wait ran out of virtual time. */
    readonly reason: 'simulated' | 'deadline',
    options?: ErrorOptions,
  ) {
    super(`${step}: ${detail}`, options);
    this.name = 'StoryStepError';
  }
}

/** A story's wait passed its virtual deadline (what it waited for did not happen in time). */
export class StoryDeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoryDeadlineError';
  }
}

function attemptsOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata: unknown = error.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('attempts' in metadata)) return undefined;
  return typeof metadata.attempts === 'number' ? metadata.attempts : undefined;
}

/**
 * The failed step `error` amounts to when the simulation caused it; undefined when it is a bug.
 * e.g. `setup: CreateAutoScalingGroup failed after 10 attempts: ServiceUnavailable (injected api-5xx@0.2)`.
 */
export function storyStepFailure(step: string, error: unknown): StoryStepError | undefined {
  if (error instanceof StoryStepError) return error;
  if (error instanceof StoryDeadlineError) {
    return new StoryStepError(step, error.message, 'deadline', { cause: error });
  }
  const marked = markedCause(error);
  if (marked === undefined) return undefined;
  const { simulated, failed } = marked;
  const attempts = attemptsOf(failed);
  const tries = attempts === undefined ? '' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  return new StoryStepError(
    step,
    `${simulated.operation} failed${tries}: ${failed.name} (${simulated.cause})`,
    'simulated',
    { cause: error },
  );
}

/** The error itself or, when code in between wrapped it (`cause` kept), the simulated failure inside. */
function markedCause(error: unknown): { simulated: SimulatedFailure; failed: Error } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const simulated = simulatedFailureOf(current);
    if (simulated !== undefined) return { simulated, failed: current };
    current = current.cause;
  }
  return undefined;
}

/** Runs one named step of a story; a failure the simulation caused becomes a StoryStepError. */
export async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw storyStepFailure(name, error) ?? error;
  }
}
