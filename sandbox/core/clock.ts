/**
 * The sandbox's virtual clock: @sinonjs/fake-timers installed globally, faking only the timers and
 * `Date`. `setImmediate`, `process.nextTick`, microtasks and `performance` stay real, because the
 * scheduler needs real event-loop turns to tell when the code under test has gone idle
 * (/work/shared/TOOLCHAIN.md, "Virtual time beneath the SDK").
 */
import { bindCaller } from './caller';
import FakeTimers from '@sinonjs/fake-timers';
import type { Clock as InstalledClock, TimerId } from '@sinonjs/fake-timers';
import type { SimClock, TimerHandle, VirtualMs } from './context';
import { SANDBOX_EPOCH } from './context';

// Captured at load, before any install: the wall-clock guards must keep working while faked.
const nativeSetTimeout = globalThis.setTimeout;
const nativeClearTimeout = globalThis.clearTimeout;

export interface RealTimer {
  cancel(): void;
}

/** Schedules `callback` after `ms` of WALL time (for guards that must fire even when virtual time is frozen). */
export function realTimeout(callback: () => void, ms: number): RealTimer {
  const handle = nativeSetTimeout(callback, ms);
  return { cancel: () => nativeClearTimeout(handle) };
}

export interface SandboxClock extends SimClock {
  /** The installed fake-timers clock (for the scheduler; services use the SimClock methods). */
  readonly fake: InstalledClock;
  /** Timers armed by code under test, not counting the engine's own sentinels. */
  pendingTimers(): number;
  /**
   * Jumps to the earliest timer and fires it. True when it was armed `synchronous` (see
   * SimClock.setTimeout), so nothing asynchronous can have started from it.
   */
  fireNext(): boolean;
  /**
   * A timer owned by the engine (budgets, `advance` targets). It still orders among other timers,
   * but never counts as pending work, so it cannot keep a run alive on its own.
   */
  sentinel(delayMs: number, callback: () => void): TimerHandle;
  /** Restores the real timers and Date. Idempotent. */
  uninstall(): void;
  readonly installed: boolean;
}

let active: SandboxClock | undefined;

/**
 * Node waits at least 1 ms for any delay ("less than 1 … will be set to 1",
 * https://nodejs.org/api/timers.html#settimeoutcallback-delay-args), but fake-timers truncates a
 * positive delay under 1 ms to 0 and fires it without moving the clock: a loop that sleeps until
 * a fraction of a millisecond has passed (the SDK's adaptive rate limiter) would then spin forever.
 * A delay of 0 (or none) keeps firing at once, as before: dynalite's table creation relies on it
 * (see dynamo.ts), and no code here depends on Node's extra millisecond there.
 */
function nodeDelay(ms: number | undefined): number | undefined {
  return typeof ms === 'number' && ms > 0 && ms < 1 ? 1 : ms;
}

export function installClock(epochMs: VirtualMs = SANDBOX_EPOCH): SandboxClock {
  if (active?.installed) {
    throw new Error('installClock: a sandbox clock is already installed; dispose the previous engine first');
  }
  const fake = FakeTimers.install({
    now: epochMs,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    shouldClearNativeTimers: true,
  });

  // fake-timers fires callbacks from whoever drives the clock, which would lose the caller tag;
  // real Node timers run callbacks in the async context that armed them, so restore that.
  const fakeSetTimeout = globalThis.setTimeout;
  const fakeSetInterval = globalThis.setInterval;
  globalThis.setTimeout = ((callback: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    fakeSetTimeout(bindCaller(callback), nodeDelay(ms), ...args)) as typeof setTimeout;
  globalThis.setInterval = ((callback: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    fakeSetInterval(bindCaller(callback), nodeDelay(ms), ...args)) as typeof setInterval;

  const handles = new Map<number, TimerId>();
  const sentinels = new Set<number>();
  let nextHandle = 1;
  let installed = true;

  // Set by the timer fireNext just fired, when that timer was armed synchronous.
  let firedSynchronous = false;

  const arm = (
    callback: () => void,
    delayMs: number,
    sentinel: boolean,
    synchronous = false,
  ): TimerHandle => {
    const id = nextHandle++;
    const bound = bindCaller(callback);
    handles.set(
      id,
      fake.setTimeout(() => {
        handles.delete(id);
        sentinels.delete(id);
        firedSynchronous = synchronous;
        bound();
      }, delayMs),
    );
    if (sentinel) sentinels.add(id);
    return { id };
  };

  const clock: SandboxClock = {
    fake,
    now: () => fake.now,
    setTimeout: (callback, delayMs, options) => {
      if (!Number.isFinite(delayMs) || delayMs < 0) {
        throw new RangeError(`clock.setTimeout: delayMs must be a finite number >= 0, got ${delayMs}`);
      }
      return arm(callback, delayMs, false, options?.synchronous === true);
    },
    clearTimeout(handle) {
      const timer = handles.get(handle.id);
      if (timer !== undefined) fake.clearTimeout(timer);
      handles.delete(handle.id);
      sentinels.delete(handle.id);
    },
    sentinel: (delayMs, callback) => arm(callback, Math.max(0, delayMs), true),
    pendingTimers: () => fake.countTimers() - sentinels.size,
    fireNext: () => {
      firedSynchronous = false;
      fake.next();
      return firedSynchronous;
    },
    uninstall() {
      if (!installed) return;
      installed = false;
      handles.clear();
      sentinels.clear();
      fake.uninstall();
      if (active === clock) active = undefined;
    },
    get installed() {
      return installed;
    },
  };
  active = clock;
  return clock;
}
