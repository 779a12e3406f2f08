/**
 * One simulated AWS region on one seed: the virtual clock, seeded randomness and ids, the
 * timeline, faults, the scheduler, dynalite, and the registry of simulated services the SDK
 * middleware routes calls to.
 *
 *   const engine = await createEngine({ seed: 7 });
 *   engine.register(new Ec2Sim(engine.context));
 *   const { ec2 } = engine.clientsFor('kiln-cli');
 *   await engine.run(() => ec2.send(new DescribeInstancesCommand({})));
 *   await engine.dispose();
 *
 * Randomness comes in separate streams derived from the seed (services, scheduling, Math.random,
 * faults, request ids, Kiln's ids, crypto.randomUUID), so adding a draw in one place does not
 * reshuffle the others.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { IdSource } from '../../shared/runtime/ids';
import { releaseCallerContext } from './caller';
import type { SandboxClock } from './clock';
import { installClock } from './clock';
import type { SimContext, SimEventInput, SimIds, SimRng, SimService } from './context';
import type { DynamoSandbox } from './dynamo';
import { startDynamo } from './dynamo';
import type { FaultPlan, PlannedFaults, RateLimiter } from './faults';
import { createEc2RateLimiter, createElbv2RateLimiter, createFaults, parseFaultPlan } from './faults';
import { DynamoMeter } from './metering';
import { createIdSource, createIds, createRng, seedRandomUuid } from './random';
import type { RunOptions, SchedulerLimits } from './scheduler';
import { Scheduler } from './scheduler';
import type { SandboxClientConfig, SandboxClients, SandboxRuntime } from './sdk';
import { attachSandbox, createSandboxClients } from './sdk';
import type { SandboxableClient } from './sdk';
import { SANDBOX_EPOCH } from './context';
import { Timeline } from './timeline';

export interface EngineOptions {
  seed: number;
  region?: string;
  accountId?: string;
  faults?: FaultPlan;
  /** Start dynalite (default true). */
  dynamodb?: boolean;
  /** Enforce AWS's documented EC2 and ELBv2 request rates (default false). */
  rateLimits?: boolean;
  /** Defaults for every run's guards. */
  limits?: SchedulerLimits;
  /**
   * Where the virtual clock starts (default SANDBOX_EPOCH, so one seed is one timeline). Only
   * `kiln sandbox --serve` moves it, near the wall clock, so requests Slack (or a person) signs
   * with the real time are judged against a clock that agrees.
   */
  epochMs?: number;
  /**
   * Meter DynamoDB request units (sandbox/core/metering.ts): the bench's cost estimate. Off by
   * default: it adds ReturnConsumedCapacity to each request (and removes it from the answer).
   */
  meterDynamo?: boolean;
}

export type EventSink = (event: SimEventInput) => void;

export interface SandboxEngine extends SandboxRuntime {
  readonly seed: number;
  readonly accountId: string;
  readonly clock: SandboxClock;
  readonly timeline: Timeline;
  readonly faults: PlannedFaults;
  readonly context: SimContext;
  readonly dynamo: DynamoSandbox | undefined;
  /** DynamoDB request units, when EngineOptions.meterDynamo asked for them. */
  readonly dynamoMeter: DynamoMeter | undefined;
  /** The ids Kiln's own code draws in this run (store writer ids): seeded, a stream of their own. */
  readonly kilnIds: IdSource;
  /** Registers a simulated service, in the engine's Region or (given) another one. */
  register(service: SimService, region?: string): void;
  /** Where `context.emit` delivers (the EventBridge sim). Events emitted before a sink exists wait for it. */
  onEmit(sink: EventSink): () => void;
  /** Throttles a service's calls when `limiter` says so (in addition to `rateLimits`). */
  limitRate(serviceId: string, limiter: RateLimiter): void;
  /** Clients for one actor; cached per caller (asking again with other settings is refused). */
  clientsFor(caller: string, config?: SandboxClientConfig): SandboxClients;
  /** Attaches the sandbox to a client built elsewhere (a handler's own client). */
  attach<I extends object, O extends object>(client: SandboxableClient<I, O>, caller?: string): void;
  createTable(input: CreateTableCommandInput): Promise<void>;
  run<T>(fn: () => Promise<T> | T, options?: RunOptions): Promise<T>;
  runUntil(predicate: () => boolean, options?: SchedulerLimits): Promise<void>;
  advance(ms: number, options?: SchedulerLimits): Promise<void>;
  settle(options?: SchedulerLimits): Promise<void>;
  spawn<T>(caller: string, fn: () => Promise<T> | T): Promise<T>;
  /** Scheduler steps (grants plus timer firings) so far: what a run's cost grows with. */
  readonly steps: number;
  /** Uninstalls the clock, restores Math.random and crypto.randomUUID, closes clients and dynalite. Idempotent. */
  dispose(): Promise<void>;
}

const GOLDEN = 0x9e3779b9;
function subSeed(seed: number, stream: number): number {
  return (seed + Math.imul(stream, GOLDEN)) >>> 0;
}

export async function createEngine(options: EngineOptions): Promise<SandboxEngine> {
  const { seed } = options;
  if (!Number.isSafeInteger(seed))
    throw new TypeError(`createEngine: seed must be an integer, got ${String(seed)}`);
  const region = options.region ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new TypeError(`createEngine: region is not a region name: '${region}'`);
  const accountId = options.accountId ?? '123456789012';
  if (!/^\d{12}$/.test(accountId))
    throw new TypeError(`createEngine: accountId must be 12 digits, got '${accountId}'`);
  const plan = parseFaultPlan(options.faults ?? []);

  const clock = installClock(options.epochMs ?? SANDBOX_EPOCH);
  const originalRandom = Math.random;
  const mathRng = createRng(subSeed(seed, 2));
  // The SDK's retry jitter draws Math.random; seeded, backoff delays repeat run to run.
  Math.random = () => mathRng.next();
  // Its invocation ids and default idempotency tokens draw crypto.randomUUID: seeded too.
  const restoreRandomUuid = seedRandomUuid(createRng(subSeed(seed, 6)));

  const rng: SimRng = createRng(seed);
  const ids: SimIds = createIds(rng);
  const requestIds = createIds(createRng(subSeed(seed, 4)));
  const kilnIds = createIdSource(createRng(subSeed(seed, 5)));
  const timeline = new Timeline(() => clock.now(), options.epochMs ?? SANDBOX_EPOCH);
  const faults = createFaults(plan, { rng: createRng(subSeed(seed, 3)), clock, timeline });
  const scheduler = new Scheduler({
    clock,
    rng: createRng(subSeed(seed, 1)),
    ...options.limits,
    onTaskError: (caller, error) =>
      timeline.record({
        kind: 'log',
        message: `task ${caller} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      }),
  });

  let dynamo: DynamoSandbox | undefined;
  try {
    dynamo = options.dynamodb === false ? undefined : await startDynamo(clock, region);
  } catch (error) {
    clock.uninstall();
    Math.random = originalRandom;
    restoreRandomUuid();
    throw error;
  }

  const services = new Map<string, SimService>();
  const limiters = new Map<string, RateLimiter[]>();
  const addLimiter = (serviceId: string, limiter: RateLimiter): void => {
    limiters.set(serviceId, [...(limiters.get(serviceId) ?? []), limiter]);
  };
  if (options.rateLimits === true) {
    addLimiter('EC2', createEc2RateLimiter(clock));
    addLimiter('Elastic Load Balancing v2', createElbv2RateLimiter(clock));
  }

  const sinks = new Set<EventSink>();
  const undelivered: SimEventInput[] = [];
  const clients = new Map<string, { set: SandboxClients; settings: string }>();
  let disposed = false;

  const context: SimContext = {
    accountId,
    region,
    clock,
    rng,
    ids,
    timeline,
    faults,
    emit(event) {
      if (sinks.size === 0) {
        undelivered.push(event);
        return;
      }
      for (const sink of sinks) sink(event);
    },
  };

  const dynamoMeter = options.meterDynamo === true ? new DynamoMeter() : undefined;
  const engine: SandboxEngine = {
    seed,
    region,
    accountId,
    clock,
    timeline,
    faults,
    scheduler,
    context,
    dynamo,
    kilnIds,
    dynamoEndpoint: dynamo?.endpoint,
    dynamoRequestHandler: dynamo?.requestHandler,
    dynamoMeter,
    now: () => clock.now(),
    requestId: () => requestIds.uuid(),
    serviceFor: (serviceId, inRegion) =>
      inRegion === undefined || inRegion === region
        ? services.get(serviceId)
        : services.get(`${inRegion}/${serviceId}`),
    admitsRate(serviceId, operation, input) {
      const list = limiters.get(serviceId);
      if (list === undefined) return true;
      // Every limiter sees the call, as AWS checks each bucket; any refusal throttles it.
      return list.map((limit) => limit(operation, input)).every(Boolean);
    },
    register(service, inRegion) {
      if (inRegion !== undefined && inRegion !== region) {
        // Another Region's service (CopyImage's target): reached only by clients made for it.
        services.set(`${inRegion}/${service.serviceId}`, service);
        return;
      }
      if (typeof service.serviceId !== 'string' || service.serviceId === '') {
        throw new TypeError('engine.register: service.serviceId must be the SDK service id, e.g. "EC2"');
      }
      if (services.has(service.serviceId)) {
        throw new Error(`engine.register: a service is already registered for '${service.serviceId}'`);
      }
      services.set(service.serviceId, service);
    },
    onEmit(sink) {
      sinks.add(sink);
      for (const event of undelivered.splice(0)) sink(event);
      return () => sinks.delete(sink);
    },
    limitRate: addLimiter,
    clientsFor(caller, config = {}) {
      const settings = JSON.stringify(config);
      // One set per caller and Region: a caller's clients for another Region are another set.
      const key = config.region === undefined ? caller : `${caller}@${config.region}`;
      const cached = clients.get(key);
      if (cached === undefined) {
        const set = createSandboxClients(engine, caller, config);
        clients.set(key, { set, settings });
        return set;
      }
      if (cached.settings !== settings) {
        throw new Error(
          `engine.clientsFor('${caller}'): its clients were made with ${cached.settings}, not ${settings}`,
        );
      }
      return cached.set;
    },
    attach(client, caller) {
      attachSandbox(client, engine, caller === undefined ? {} : { caller });
    },
    async createTable(input) {
      if (dynamo === undefined)
        throw new Error('engine.createTable: the engine was created with dynamodb: false');
      if (scheduler.running)
        throw new Error('engine.createTable: create tables before a run, not during one');
      await dynamo.createTable(input);
      dynamoMeter?.describeTable(input);
    },
    run: (fn, runOptions) => scheduler.run(fn, runOptions),
    runUntil: (predicate, limits) => scheduler.runUntil(predicate, limits),
    advance: (ms, limits) => scheduler.advance(ms, limits),
    settle: (limits) => scheduler.settle(limits),
    spawn: (caller, fn) => scheduler.spawn(caller, fn),
    get steps() {
      return scheduler.steps;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      scheduler.dispose();
      for (const { set } of clients.values()) set.destroy();
      clients.clear();
      releaseCallerContext();
      // Real timers first: dynalite's shutdown arms timers it expects to fire.
      clock.uninstall();
      Math.random = originalRandom;
      restoreRandomUuid();
      await dynamo?.stop();
    },
  };
  return engine;
}
