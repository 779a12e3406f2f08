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
import { TimerQueue } from './timer-queue';
import type { QueuedTimer } from './timer-queue';

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

/** What the clock reads inside fake-timers 15.5 (pinned in package.json) to order its own queue. */
interface FakeTimer {
  readonly callAt: number;
  readonly order: number;
  readonly interval?: number;
}
interface FakeInternals {
  now: number;
  duringTick?: boolean;
  timers?: Map<number, FakeTimer>;
  timerHeap?: { peek(): FakeTimer | undefined };
}

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

/** fake-timers' reading of a delay (addTimer): past the 32-bit maximum it is 1, then whole ms. */
function fakeDelay(ms: number): number {
  return parseInt(String(ms > 0x7fffffff ? 1 : Math.max(0, ms)), 10) || 0;
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
  const internals = fake as unknown as FakeInternals;
  // The highest creation order fake-timers has handed out, as far as the clock has seen: every
  // fake timer is created through the wrappers below, and the timers that take a new order later
  // (an interval re-arming, a refreshed timeout) are kept in `reordering` and read when needed.
  let lastOrder = -1;
  const reordering = new Set<FakeTimer>();
  const observe = (timerId: unknown): FakeTimer | undefined => {
    const timer = internals.timers?.get(Number(timerId));
    if (timer !== undefined && timer.order > lastOrder) lastOrder = timer.order;
    return timer;
  };
  const currentOrder = (): number => {
    for (const timer of reordering) if (timer.order > lastOrder) lastOrder = timer.order;
    return lastOrder;
  };
  const fakeSetTimeout = globalThis.setTimeout;
  const fakeSetInterval = globalThis.setInterval;
  globalThis.setTimeout = ((callback: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id = fakeSetTimeout(bindCaller(callback), nodeDelay(ms), ...args);
    const timer = observe(id);
    const refresh = (id as { refresh?: () => unknown }).refresh;
    if (timer !== undefined && typeof refresh === 'function') {
      (id as { refresh: () => unknown }).refresh = function (this: unknown) {
        reordering.add(timer);
        return refresh.call(this);
      };
    }
    return id;
  }) as typeof setTimeout;
  globalThis.setInterval = ((callback: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id = fakeSetInterval(bindCaller(callback), nodeDelay(ms), ...args);
    const timer = observe(id);
    if (timer !== undefined) reordering.add(timer);
    return id;
  }) as typeof setInterval;

  const handles = new Map<number, TimerId>();
  const sentinels = new Set<number>();
  // Synchronous timers, ordered among the fake ones as fake-timers would have ordered them.
  const queue = new TimerQueue();
  const queued = new Map<number, QueuedTimer>();
  let queuedSeq = 0;
  let nextHandle = 1;
  let installed = true;

  const arm = (callback: () => void, delayMs: number, sentinel: boolean): TimerHandle => {
    const id = nextHandle++;
    const bound = bindCaller(callback);
    const timerId = fake.setTimeout(() => {
      handles.delete(id);
      sentinels.delete(id);
      bound();
    }, delayMs);
    handles.set(id, timerId);
    observe(timerId);
    if (sentinel) sentinels.add(id);
    return { id };
  };

  const armQueued = (callback: () => void, delayMs: number): TimerHandle => {
    const id = nextHandle++;
    const timer: QueuedTimer = {
      id,
      // fake-timers' arithmetic for the due time (addTimer): whole milliseconds, and a zero
      // delay armed while a timer fires waits 1 ms.
      callAt: fake.now + (fakeDelay(delayMs) || (internals.duringTick === true ? 1 : 0)),
      order: currentOrder() + 0.5,
      seq: queuedSeq++,
      callback: bindCaller(callback),
      index: -1,
    };
    queue.push(timer);
    queued.set(id, timer);
    return { id };
  };

  /** The queued timer that fires before every fake timer, if one does. */
  const queuedFirst = (): QueuedTimer | undefined => {
    const mine = queue.peek();
    if (mine === undefined) return undefined;
    if (internals.timerHeap === undefined && fake.countTimers() > 0) {
      throw new Error(
        'installClock: this fake-timers version keeps no timerHeap; the clock cannot order its timers',
      );
    }
    const theirs = internals.timerHeap?.peek();
    if (theirs === undefined) return mine;
    if (mine.callAt !== theirs.callAt) return mine.callAt < theirs.callAt ? mine : undefined;
    return mine.order < theirs.order ? mine : undefined;
  };

  const clock: SandboxClock = {
    fake,
    now: () => fake.now,
    setTimeout: (callback, delayMs, options) => {
      if (!Number.isFinite(delayMs) || delayMs < 0) {
        throw new RangeError(`clock.setTimeout: delayMs must be a finite number >= 0, got ${delayMs}`);
      }
      return options?.synchronous === true ? armQueued(callback, delayMs) : arm(callback, delayMs, false);
    },
    clearTimeout(handle) {
      const mine = queued.get(handle.id);
      if (mine !== undefined) {
        queue.remove(mine);
        queued.delete(handle.id);
        return;
      }
      const timer = handles.get(handle.id);
      if (timer !== undefined) fake.clearTimeout(timer);
      handles.delete(handle.id);
      sentinels.delete(handle.id);
    },
    sentinel: (delayMs, callback) => arm(callback, Math.max(0, delayMs), true),
    pendingTimers: () => fake.countTimers() - sentinels.size + queue.size,
    fireNext: () => {
      const mine = queuedFirst();
      if (mine !== undefined) {
        queue.remove(mine);
        queued.delete(mine.id);
        // What fake-timers' `next` does around a timer: time jumps to it, and it fires "during a tick".
        internals.now = mine.callAt;
        internals.duringTick = true;
        try {
          mine.callback();
        } finally {
          internals.duringTick = false;
        }
        return true;
      }
      fake.next();
      return false;
    },
    uninstall() {
      if (!installed) return;
      installed = false;
      handles.clear();
      sentinels.clear();
      queue.clear();
      queued.clear();
      reordering.clear();
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
