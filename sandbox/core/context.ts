/**
 * The contract between the sandbox engine and the simulated AWS services.
 *
 * Every simulated service is a plain class that receives a SimContext and answers SDK operations
 * through `handle(operation, input)`. Services never touch global timers, Math.random or
 * Date.now: they use the context's clock, rng and ids, so one seed gives one timeline.
 * The engine (sandbox/core) routes SDK calls to `handle` from a client middleware, so the real
 * SDK command objects, serializers' inputs and exception classes are exercised end to end.
 */

/** Virtual time in milliseconds since the Unix epoch. */
export type VirtualMs = number;

/** Where every sandbox clock starts: 2026-01-01T00:00:00Z. Timeline `t` counts from here. */
export const SANDBOX_EPOCH: VirtualMs = Date.UTC(2026, 0, 1, 0, 0, 0);

export interface TimerHandle {
  readonly id: number;
}

export interface TimerOptions {
  readonly synchronous?: boolean;
}

export interface SimClock {
  /** Current virtual time (ms since epoch). */
  now(): VirtualMs;
  /**
   * Runs `callback` after `delayMs` of virtual time. `synchronous: true` promises that the callback
   * only changes in-memory state and records on the timeline: it makes no SDK call, spawns no task,
   * emits no event, settles no promise and starts no real I/O. The scheduler then fires the next
   * step without waiting real event-loop turns for the world to go quiet (nothing can have started).
   */
  setTimeout(callback: () => void, delayMs: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A seeded pseudo-random source (same seed, same sequence). */
export interface SimRng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  /** Picks one element. */
  pick<T>(items: readonly T[]): T;
}

/** Deterministic identifiers in AWS's formats, drawn from the seed. */
export interface SimIds {
  /** e.g. next('i') → 'i-0a1b2c3d4e5f60718' (17 hex digits), next('ami') → 'ami-…'. */
  next(prefix: string): string;
  /** A UUID v4-shaped string (for tokens, request ids, refresh ids, event ids). */
  uuid(): string;
}

export type TimelineEntry =
  | {
      kind: 'api';
      service: string;
      operation: string;
      caller: string;
      ok: boolean;
      error?: string;
    }
  | { kind: 'event'; source: string; detailType: string; deliveredTo: string[] }
  | { kind: 'state'; resource: string; from: string | null; to: string }
  | { kind: 'log'; message: string };

export interface SimTimeline {
  /** Records an entry at the current virtual time. */
  record(entry: TimelineEntry): void;
}

/** What a service hands to the event bus; the bus adds version, id, account, time and region. */
export interface SimEventInput {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  /** Defaults to the context's region. */
  region?: string;
}

/** The EventBridge envelope, exactly as AWS delivers it. */
export interface EventBridgeEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/**
 * Faults the chaos layer can switch on. Services consult `faults.should(kind, key)` at the point
 * where the fault would strike; the engine decides (from the seed and the fault plan) whether it does.
 */
export type FaultKind =
  | 'instance-boot-failure'
  | 'create-image-failure'
  | 'ssm-command-failure'
  | 'api-5xx'
  | 'throttle'
  | 'event-loss'
  | 'event-duplicate'
  | 'event-delay'
  | 'handler-crash';

/** The event an EventBridge delivery carries, for fault rules scoped to a source or detail-type. */
export interface FaultEventScope {
  readonly source: string;
  readonly detailType: string;
}

export interface SimFaults {
  /**
   * True when a fault of this kind should strike now at this key (e.g. an instance id). Event
   * faults also pass the event, so a rule can name the kind of event it strikes.
   */
  should(kind: FaultKind, key: string, event?: FaultEventScope): boolean;
}

export interface SimContext {
  readonly accountId: string;
  readonly region: string;
  readonly clock: SimClock;
  readonly rng: SimRng;
  readonly ids: SimIds;
  readonly timeline: SimTimeline;
  readonly faults: SimFaults;
  /** Publishes an event to the default EventBridge bus (delivery is asynchronous). */
  emit(event: SimEventInput): void;
}

/** A simulated AWS service: answers SDK operations by name with the SDK's input/output shapes. */
export interface SimService {
  /** The SDK client's service id as seen in middleware context, e.g. 'EC2', 'Auto Scaling'. */
  readonly serviceId: string;
  /**
   * Answers one operation (`RunInstances`, not `RunInstancesCommand`). Returns the output without
   * `$metadata` (the engine adds it); throws the SDK's exception classes for AWS's errors.
   */
  handle(operation: string, input: unknown): Promise<object>;
}
