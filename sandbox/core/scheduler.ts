/**
 * The deterministic driver. Every SDK call waits at a gate until the scheduler grants it; the
 * scheduler grants one call at a time, chosen by the seed among the calls waiting (sorted by a
 * stable key first), and moves the virtual clock only when nothing else can happen. Real I/O
 * (dynalite's HTTP) runs only inside a granted call, so its timing never decides an order.
 *
 * A loop step:
 *   1. wait for quiet: several real event-loop turns with no new activity, no call in flight and
 *      no call still preparing (resolving config/credentials before the gate);
 *   2. if the goal holds, stop;
 *   3. else grant one waiting call, or else fire the next timer, or else stop (idle) / fail
 *      (the goal can never be reached).
 * Between runs time is frozen: pending timers and waiting calls resume on the next run.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { resolveCaller, withCaller, withDefaultCaller } from './caller';
import type { SandboxClock } from './clock';
import { realTimeout } from './clock';
import type { SimRng } from './context';

export { withCaller } from './caller';

export class SchedulerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SchedulerError';
  }
}

/** An SDK call was made while no run is driving the scheduler: it could never be granted. */
export class SandboxNotRunningError extends SchedulerError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxNotRunningError';
  }
}

/** A run hit its virtual-time budget or its step limit. */
export class SandboxBudgetError extends SchedulerError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxBudgetError';
  }
}

/** Nothing can run any more, but the run's goal was not reached (or a call never finished). */
export class SandboxDeadlockError extends SchedulerError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxDeadlockError';
  }
}

export interface CallInfo {
  readonly caller: string;
  readonly service: string;
  readonly operation: string;
  /** Per-caller sequence number, assigned when the call starts (program order). */
  readonly seq: number;
}

/** One SDK call from `send` to its last attempt. */
export interface CallTicket extends CallInfo {
  readonly id: number;
  attempt: number;
  phase: 'preparing' | 'waiting' | 'in-flight' | 'between-attempts' | 'done';
}

export type Release = () => void;

interface Waiting {
  readonly ticket: CallTicket;
  readonly key: string;
  readonly grant: (release: Release) => void;
  readonly refuse: (error: Error) => void;
}

interface Task {
  readonly id: number;
  readonly caller: string;
}

export interface SchedulerLimits {
  /** Virtual time a single run may consume (default 7 days). */
  maxVirtualMs?: number;
  /** Grants plus timer firings a single run may take (default 200,000). */
  maxSteps?: number;
  /** Wall time one step may wait for in-flight or preparing calls (default 10 s). */
  maxWallMs?: number;
  /** Real event-loop turns without activity that count as quiet (default 4). */
  quietTurns?: number;
}

export interface RunOptions extends SchedulerLimits {
  /** Caller tag for `fn` (default 'main', which a client's own `clientsFor` tag overrides). */
  caller?: string;
  /** 'settled' (default): stop when `fn` settles. 'idle': also run until no call, timer or task remains. */
  until?: 'settled' | 'idle';
}

export interface SchedulerOptions extends SchedulerLimits {
  clock: SandboxClock;
  /** Picks among concurrent calls; a dedicated stream so services' draws do not shift interleavings. */
  rng: SimRng;
  /** Told when a spawned task rejects (the engine records it on the timeline). */
  onTaskError?: (caller: string, error: unknown) => void;
}

const DEFAULTS = { maxVirtualMs: 7 * 24 * 3600 * 1000, maxSteps: 200_000, maxWallMs: 10_000, quietTurns: 4 };

export class Scheduler {
  private readonly clock: SandboxClock;
  private readonly rng: SimRng;
  private readonly limits: Required<SchedulerLimits>;
  private readonly onTaskError: ((caller: string, error: unknown) => void) | undefined;

  private readonly preparing = new Set<CallTicket>();
  private readonly waiting = new Set<Waiting>();
  private readonly inFlight = new Set<CallTicket>();
  private readonly tasks = new Map<number, Task>();
  private readonly deferred: Array<() => void> = [];
  private readonly seqByCaller = new Map<string, number>();
  private readonly changeListeners = new Set<() => void>();
  private activity = 0;
  private nextId = 1;
  private driving = false;
  private disposed = false;
  private stepCount = 0;

  constructor(options: SchedulerOptions) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.onTaskError = options.onTaskError;
    this.limits = {
      maxVirtualMs: options.maxVirtualMs ?? DEFAULTS.maxVirtualMs,
      maxSteps: options.maxSteps ?? DEFAULTS.maxSteps,
      maxWallMs: options.maxWallMs ?? DEFAULTS.maxWallMs,
      quietTurns: options.quietTurns ?? DEFAULTS.quietTurns,
    };
  }

  /** True while a run is driving the loop. */
  get running(): boolean {
    return this.driving;
  }

  /** Grants plus timer firings over the scheduler's life (the bench reports it per run). */
  get steps(): number {
    return this.stepCount;
  }

  // ---- the call gate (used by the SDK middleware) ----

  /** Registers a call as it enters the SDK stack. Throws when no run could ever grant it. */
  begin(service: string, operation: string, defaultCaller?: string): CallTicket {
    const caller = resolveCaller(defaultCaller);
    if (this.disposed)
      throw new SandboxNotRunningError(`${describeCall(caller, service, operation)}: the engine is disposed`);
    if (!this.driving) {
      throw new SandboxNotRunningError(
        `${describeCall(caller, service, operation)} was made while the sandbox scheduler is not running, so it ` +
          'could never be granted: make SDK calls inside engine.run(...), runUntil(...) or a spawned task',
      );
    }
    const seq = (this.seqByCaller.get(caller) ?? 0) + 1;
    this.seqByCaller.set(caller, seq);
    const ticket: CallTicket = {
      id: this.nextId++,
      caller,
      service,
      operation,
      seq,
      attempt: 0,
      phase: 'preparing',
    };
    this.preparing.add(ticket);
    this.bump();
    return ticket;
  }

  /**
   * The call has reached its retry strategy: what happens before its first attempt from here on is
   * pacing on the virtual clock (adaptive retries' client-side rate limiter "can delay initial
   * request", https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html), like
   * the backoff between two attempts, so it no longer holds the clock as a preparing call does.
   */
  pacing(ticket: CallTicket): void {
    if (ticket.phase !== 'preparing') return;
    this.preparing.delete(ticket);
    ticket.phase = 'between-attempts';
    this.bump();
  }

  /** Waits at the gate for this attempt's grant; call the returned release when the attempt is over. */
  admit(ticket: CallTicket): Promise<Release> {
    if (ticket.phase !== 'preparing' && ticket.phase !== 'between-attempts') {
      return Promise.reject(
        new SchedulerError(`${describeTicket(ticket)} reached the gate twice in one attempt`),
      );
    }
    this.preparing.delete(ticket);
    ticket.attempt += 1;
    if (!this.driving || this.disposed) {
      ticket.phase = 'done';
      this.bump();
      return Promise.reject(
        new SandboxNotRunningError(
          `${describeTicket(ticket)} reached the gate while the scheduler is not running`,
        ),
      );
    }
    ticket.phase = 'waiting';
    const key = `${ticket.caller}\u0000${String(ticket.seq).padStart(9, '0')}\u0000${ticket.service}.${ticket.operation}\u0000${ticket.attempt}`;
    return new Promise<Release>((resolve, reject) => {
      this.waiting.add({ ticket, key, grant: resolve, refuse: reject });
      this.bump();
    });
  }

  /** The call has left the SDK stack (success, failure, or a throw before reaching the gate). */
  end(ticket: CallTicket): void {
    this.preparing.delete(ticket);
    ticket.phase = 'done';
    this.bump();
  }

  // ---- real I/O outside the SDK ----

  private holds = 0;

  /**
   * Real I/O the scheduler cannot see (an HTTP request to the sandbox's API, on loopback) is in
   * flight: calls are still granted, but virtual time must not move until it is over, or the
   * request's timing would decide the timeline. Returns the release (idempotent).
   */
  holdClock(): Release {
    this.holds++;
    this.bump();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.bump();
    };
  }

  // ---- tasks ----

  /**
   * Starts `fn` as a background actor tagged `caller`; a run does not go idle while it is running.
   * Outside a run the start waits for the next run, so SDK calls never happen unscheduled.
   * The returned promise is the task's own result.
   */
  spawn<T>(caller: string, fn: () => Promise<T> | T): Promise<T> {
    return this.start(caller, false, fn, true);
  }

  private start<T>(caller: string, weak: boolean, fn: () => Promise<T> | T, report: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        const task: Task = { id: this.nextId++, caller };
        this.tasks.set(task.id, task);
        this.bump();
        const finish = (): void => {
          this.tasks.delete(task.id);
          this.bump();
        };
        (weak ? withDefaultCaller : withCaller)(caller, async () => fn()).then(
          (value) => {
            finish();
            resolve(value);
          },
          (error: unknown) => {
            finish();
            // A run's own actor rejects the run itself; only background tasks need reporting.
            if (report) this.onTaskError?.(caller, error);
            reject(error);
          },
        );
      };
      if (this.driving) start();
      else this.deferred.push(start);
    });
  }

  // ---- runs ----

  /** Runs `fn` as the main actor and drives the world until it settles (or until idle). */
  async run<T>(fn: () => Promise<T> | T, options: RunOptions = {}): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    const caller = options.caller ?? 'main';
    const weak = options.caller === undefined;
    await this.drive(
      () => outcome !== undefined && (options.until !== 'idle' || this.isIdle()),
      options,
      `${caller} to settle${options.until === 'idle' ? ' and the world to go idle' : ''}`,
      () => {
        this.start(caller, weak, fn, false).then(
          (value) => {
            outcome = { ok: true, value };
          },
          (error: unknown) => {
            outcome = { ok: false, error };
          },
        );
      },
    );
    if (outcome === undefined) throw new SchedulerError('run ended without an outcome'); // unreachable by construction
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Drives the world until `predicate()` holds (checked whenever everything is quiet). */
  async runUntil(predicate: () => boolean, options: SchedulerLimits = {}): Promise<void> {
    await this.drive(predicate, options, 'the predicate to hold');
  }

  /** Drives the world through `ms` of virtual time (timers due at the very end may wait for the next run). */
  async advance(ms: number, options: SchedulerLimits = {}): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`advance: ms must be a finite number >= 0, got ${ms}`);
    let reached = false;
    const sentinel = this.clock.sentinel(ms, () => {
      reached = true;
    });
    try {
      await this.drive(
        () => reached,
        { ...options, maxVirtualMs: options.maxVirtualMs ?? ms + 1 },
        `${ms} ms to pass`,
        undefined,
        true,
      );
    } finally {
      this.clock.clearTimeout(sentinel);
    }
  }

  /** Drives the world until no call, timer or task remains. */
  async settle(options: SchedulerLimits = {}): Promise<void> {
    await this.drive(() => this.isIdle(), options, 'the world to go idle');
  }

  /** True when no call, timer or task remains. */
  isIdle(): boolean {
    return (
      this.waiting.size === 0 &&
      this.inFlight.size === 0 &&
      this.preparing.size === 0 &&
      this.tasks.size === 0 &&
      this.holds === 0 &&
      this.clock.pendingTimers() === 0
    );
  }

  /** A readable list of everything pending, for error messages. */
  describePending(): string {
    const lines: string[] = [];
    for (const t of this.inFlight) lines.push(`  in flight: ${describeTicket(t)}`);
    for (const t of this.preparing) lines.push(`  preparing (not yet at the gate): ${describeTicket(t)}`);
    for (const w of this.sortedWaiting()) lines.push(`  waiting for a grant: ${describeTicket(w.ticket)}`);
    for (const task of this.tasks.values()) lines.push(`  task running: ${task.caller}`);
    lines.push(`  timers pending: ${this.clock.pendingTimers()}`);
    return lines.join('\n');
  }

  /** Refuses every waiting call and stops accepting new ones (engine disposal). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const error = new SandboxNotRunningError(
      'the sandbox engine was disposed while this call waited for a grant',
    );
    for (const w of this.waiting) {
      w.ticket.phase = 'done';
      w.refuse(error);
    }
    this.waiting.clear();
    this.deferred.length = 0;
  }

  // ---- the loop ----

  private async drive(
    goal: () => boolean,
    limits: SchedulerLimits,
    goalName: string,
    start?: () => void,
    /** Set by `advance`: with nothing else to do, time still moves on to the target. */
    toTarget = false,
  ): Promise<void> {
    if (this.disposed) throw new SandboxNotRunningError('the sandbox engine is disposed');
    if (this.driving)
      throw new SchedulerError('the sandbox is already running: runs cannot be nested or overlap');
    const maxVirtualMs = limits.maxVirtualMs ?? this.limits.maxVirtualMs;
    const maxSteps = limits.maxSteps ?? this.limits.maxSteps;
    const maxWallMs = limits.maxWallMs ?? this.limits.maxWallMs;
    const quietTurns = limits.quietTurns ?? this.limits.quietTurns;
    const startedAt = this.clock.now();
    let overBudget = false;
    const budget = this.clock.sentinel(maxVirtualMs, () => {
      overBudget = true;
    });
    let steps = 0;
    // True after a synchronous timer that started nothing: the world is as quiet as it was.
    let stillQuiet = false;
    this.driving = true;
    try {
      for (const begin of this.deferred.splice(0)) begin();
      start?.();
      for (;;) {
        if (!stillQuiet) await this.waitQuiet(maxWallMs, quietTurns);
        stillQuiet = false;
        if (goal()) return;
        if (overBudget) {
          throw new SandboxBudgetError(
            `virtual-time budget of ${maxVirtualMs} ms exhausted (from t=${startedAt} to t=${this.clock.now()}) ` +
              `while waiting for ${goalName}; pending:\n${this.describePending()}`,
          );
        }
        if (++steps > maxSteps) {
          throw new SandboxBudgetError(
            `step limit of ${maxSteps} reached while waiting for ${goalName}; pending:\n${this.describePending()}`,
          );
        }
        this.stepCount++;
        if (this.waiting.size > 0) {
          this.grantOne();
        } else if (this.holds > 0) {
          const deadline = performance.now() + maxWallMs;
          while (this.holds > 0 && this.waiting.size === 0) {
            if (performance.now() > deadline) {
              throw new SandboxDeadlockError(
                `real I/O held the clock for ${maxWallMs} ms of wall time with nothing to grant; pending:\n${this.describePending()}`,
              );
            }
            await this.nextChange(deadline);
          }
        } else if (this.clock.pendingTimers() > 0 || toTarget) {
          const before = this.activity;
          // The settle wait exists for work a timer may have set going (SDK calls, tasks, real
          // I/O, promise chains); a timer armed synchronous promises none, and if it still
          // touched the gate (activity moved), the wait happens as for any other timer.
          stillQuiet = this.clock.fireNext() && this.activity === before;
          this.bump();
        } else {
          throw new SandboxDeadlockError(
            `nothing left to run, but still waiting for ${goalName}: something awaits a promise that no call, ` +
              `timer or task will ever settle; pending:\n${this.describePending()}`,
          );
        }
      }
    } finally {
      this.clock.clearTimeout(budget);
      this.driving = false;
    }
  }

  private sortedWaiting(): Waiting[] {
    return [...this.waiting].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private grantOne(): void {
    const candidates = this.sortedWaiting();
    // Draw only when there is a choice, so a lone call does not shift later interleavings.
    const chosen =
      candidates.length === 1 ? candidates[0] : candidates[this.rng.int(0, candidates.length - 1)];
    if (chosen === undefined) return;
    this.waiting.delete(chosen);
    const ticket = chosen.ticket;
    ticket.phase = 'in-flight';
    this.inFlight.add(ticket);
    let released = false;
    this.bump();
    chosen.grant(() => {
      if (released) return;
      released = true;
      this.inFlight.delete(ticket);
      if (ticket.phase === 'in-flight') ticket.phase = 'between-attempts';
      this.bump();
    });
  }

  private async waitQuiet(maxWallMs: number, quietTurns: number): Promise<void> {
    const deadline = performance.now() + maxWallMs;
    let seen = this.activity;
    let stable = 0;
    while (stable < quietTurns) {
      if (performance.now() > deadline) {
        throw new SandboxDeadlockError(
          `no quiet within ${maxWallMs} ms of wall time: a call stayed in flight or never reached the gate ` +
            `(a simulated service awaiting virtual time, or a credentials/config lookup hanging?); pending:\n${this.describePending()}`,
        );
      }
      if (this.inFlight.size > 0 || this.preparing.size > 0) {
        await this.nextChange(deadline);
        seen = this.activity;
        stable = 0;
        continue;
      }
      await nextTurn();
      if (this.activity !== seen) {
        seen = this.activity;
        stable = 0;
      } else {
        stable++;
      }
    }
  }

  private nextChange(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = realTimeout(
        () => {
          this.changeListeners.delete(listener);
          resolve();
        },
        Math.max(1, deadline - performance.now() + 1),
      );
      const listener = (): void => {
        timer.cancel();
        this.changeListeners.delete(listener);
        resolve();
      };
      this.changeListeners.add(listener);
    });
  }

  private bump(): void {
    this.activity++;
    if (this.changeListeners.size === 0) return;
    for (const listener of [...this.changeListeners]) listener();
  }
}

function describeCall(caller: string, service: string, operation: string): string {
  return `SDK call ${service}.${operation} by '${caller}'`;
}

function describeTicket(t: CallTicket): string {
  return `${describeCall(t.caller, t.service, t.operation)} (#${t.seq} of that caller, attempt ${t.attempt})`;
}
