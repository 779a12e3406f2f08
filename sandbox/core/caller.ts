/**
 * Who is calling AWS right now. Each logical actor of a story (a Lambda invocation, a Step Functions
 * execution, the CLI) runs inside `withCaller`, so the timeline can say who made each SDK call and
 * the scheduler can order concurrent calls by a key that does not depend on real I/O timing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface CallerFrame {
  readonly caller: string;
  /** A default (a run's 'main'): a client's own caller tag takes precedence over it. */
  readonly weak: boolean;
}

const store = new AsyncLocalStorage<CallerFrame>();

/** Runs `fn` with every SDK call inside it (however deep, across awaits and timers) tagged `caller`. */
export function withCaller<T>(caller: string, fn: () => T): T {
  return runAs(caller, false, fn);
}

/** Like withCaller, but a client created for a named caller keeps its own tag inside. */
export function withDefaultCaller<T>(caller: string, fn: () => T): T {
  return runAs(caller, true, fn);
}

function runAs<T>(caller: string, weak: boolean, fn: () => T): T {
  if (typeof caller !== 'string' || caller.trim() === '') {
    throw new TypeError(`withCaller: caller must be a non-empty string, got ${JSON.stringify(caller)}`);
  }
  return store.run({ caller, weak }, fn);
}

/**
 * Who makes a call: an explicit `withCaller` wins, then the client's own tag (`clientsFor(name)`),
 * then a run's default, then 'anonymous'.
 */
export function resolveCaller(clientCaller: string | undefined): string {
  const frame = store.getStore();
  if (frame !== undefined && !frame.weak) return frame.caller;
  return clientCaller ?? frame?.caller ?? 'anonymous';
}

/**
 * Switches the caller context off; the next `withCaller` switches it on again. The engine calls
 * it when disposed. An enabled AsyncLocalStorage taxes every promise made afterwards anywhere in
 * the process (Node 20 copies each enabled store onto each new async resource), and a process
 * that loads the sandbox many times (a Jest worker, once per test file) would otherwise keep one
 * enabled per load: the scenario test, run after forty others in one worker, took three times as
 * long as alone (https://nodejs.org/api/async_context.html#asynclocalstoragedisable).
 */
export function releaseCallerContext(): void {
  store.disable();
}

/**
 * Binds `fn` to the current caller, for timers: fake-timers fires callbacks from whoever drives
 * the clock. Cheaper than AsyncLocalStorage.bind (which on Node 20 builds a deprecation wrapper per
 * call, measured at ~40 % of a 100-instance refresh's wall time), and the caller is the only
 * async context the sandbox depends on.
 */
export function bindCaller<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const frame = store.getStore();
  if (frame === undefined) return fn;
  return (...args: A) => store.run(frame, fn, ...args);
}
