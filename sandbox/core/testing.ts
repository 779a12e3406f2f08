/**
 * A SimContext for unit tests of one simulated service: a fake-timers clock that is not installed
 * globally (tests drive it with `clock.tickAsync` / `clock.runAllAsync`), a seeded rng, ids, and
 * in-memory timeline and event capture.
 */
import FakeTimers from '@sinonjs/fake-timers';
import { SANDBOX_EPOCH } from './context';
import type {
  EventBridgeEnvelope,
  FaultKind,
  SimContext,
  SimEventInput,
  TimelineEntry,
  TimerHandle,
} from './context';
import { createRng, createIds } from './random';

export interface TestSimContext extends SimContext {
  readonly fakeClock: FakeTimers.Clock;
  readonly events: EventBridgeEnvelope[];
  readonly entries: Array<TimelineEntry & { t: number }>;
  /** Faults that strike for matching (kind, key) pairs; key '*' matches any key. */
  readonly activeFaults: Set<`${FaultKind}:${string}`>;
}

export { SANDBOX_EPOCH };

/**
 * `clock` may be a globally installed fake clock (FakeTimers.install), for code under test that uses
 * the global timers itself (the Step Functions runner's Wait states); by default the clock is private.
 */
export function createTestContext(
  seed = 1,
  region = 'us-east-1',
  clock: FakeTimers.Clock = FakeTimers.createClock(SANDBOX_EPOCH),
): TestSimContext {
  const fakeClock = clock;
  const rng = createRng(seed);
  const ids = createIds(rng);
  const events: EventBridgeEnvelope[] = [];
  const entries: Array<TimelineEntry & { t: number }> = [];
  const activeFaults = new Set<`${FaultKind}:${string}`>();
  const handles = new Map<number, FakeTimers.TimerId>();
  let nextHandle = 1;
  const ctx: TestSimContext = {
    accountId: '123456789012',
    region,
    fakeClock,
    events,
    entries,
    activeFaults,
    rng,
    ids,
    clock: {
      now: () => fakeClock.now,
      setTimeout(callback, delayMs): TimerHandle {
        const id = nextHandle++;
        handles.set(
          id,
          fakeClock.setTimeout(() => {
            handles.delete(id);
            callback();
          }, delayMs),
        );
        return { id };
      },
      clearTimeout(handle) {
        const timer = handles.get(handle.id);
        if (timer !== undefined) fakeClock.clearTimeout(timer);
        handles.delete(handle.id);
      },
    },
    timeline: { record: (entry) => entries.push({ t: (fakeClock.now - SANDBOX_EPOCH) / 1000, ...entry }) },
    faults: {
      should: (kind, key) => activeFaults.has(`${kind}:${key}`) || activeFaults.has(`${kind}:*`),
    },
    emit(event: SimEventInput) {
      events.push({
        version: '0',
        id: ids.uuid(),
        'detail-type': event.detailType,
        source: event.source,
        account: '123456789012',
        time: new Date(fakeClock.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: event.region ?? region,
        resources: event.resources ?? [],
        detail: event.detail,
      });
    },
  };
  return ctx;
}
