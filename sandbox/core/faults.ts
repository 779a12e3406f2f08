/**
 * Faults from a plan, decided by the seed; and the token buckets AWS uses to throttle API calls.
 */
import { z } from 'zod';
import type {
  FaultEventScope,
  FaultKind,
  SimClock,
  SimFaults,
  SimRng,
  SimTimeline,
  VirtualMs,
} from './context';
import { SANDBOX_EPOCH } from './context';

const FAULT_KINDS = [
  'instance-boot-failure',
  'create-image-failure',
  'ssm-command-failure',
  'api-5xx',
  'throttle',
  'event-loss',
  'event-duplicate',
  'event-delay',
  'handler-crash',
] as const satisfies readonly FaultKind[];

/** The kinds that strike an EventBridge delivery, so a rule may scope them to one kind of event. */
const EVENT_KINDS: ReadonlySet<FaultKind> = new Set(['event-loss', 'event-duplicate', 'event-delay']);

export const faultRuleSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    /** Exact key ('i-0abc…', 'EC2:RunInstances') or '*' (default) for any key. */
    key: z.string().min(1).optional(),
    /** Chance that an eligible check strikes (default 1). */
    probability: z.number().min(0).max(1).optional(),
    /** Strikes at most this many times (default unlimited). */
    count: z.number().int().positive().optional(),
    /** Active from this many virtual seconds after SANDBOX_EPOCH (inclusive). */
    from: z.number().min(0).optional(),
    /** Active until this many virtual seconds after SANDBOX_EPOCH (exclusive). */
    until: z.number().min(0).optional(),
    /**
     * Event faults only: strikes only events from this source (`aws.ec2`), so a run can lose one
     * kind of event every time (probability 1) and leave every other delivery alone.
     */
    source: z.string().min(1).optional(),
    /** Event faults only: strikes only events of this detail-type (`EC2 AMI State Change`). */
    detailType: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (rule) => (rule.source === undefined && rule.detailType === undefined) || EVENT_KINDS.has(rule.kind),
    {
      message: 'source and detailType apply only to event-loss, event-duplicate and event-delay',
      path: ['kind'],
    },
  )
  .refine((rule) => rule.from === undefined || rule.until === undefined || rule.from < rule.until, {
    message: 'from must be before until',
    path: ['until'],
  });

export const faultPlanSchema = z.array(faultRuleSchema);

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultPlan = FaultRule[];

/** Parses a plan, naming the offending field (e.g. `faults[2].probability`) on bad input. */
export function parseFaultPlan(input: unknown): FaultPlan {
  const parsed = faultPlanSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .map(
      (issue) =>
        `faults${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`,
    )
    .join('; ');
  throw new TypeError(`invalid fault plan: ${issues}`);
}

/** A rule as `--fault` spells it (`api-5xx:EC2:RunInstances@0.2`), with any window or count after it. */
export function describeFaultRule(rule: FaultRule): string {
  let text = rule.kind;
  if (rule.key !== undefined && rule.key !== '*') text += `:${rule.key}`;
  if (rule.probability !== undefined) text += `@${rule.probability}`;
  const limits = [
    rule.source !== undefined ? `source ${rule.source}` : undefined,
    rule.detailType !== undefined ? `detail-type ${rule.detailType}` : undefined,
    rule.count !== undefined ? `count ${rule.count}` : undefined,
    rule.from !== undefined ? `from ${rule.from} s` : undefined,
    rule.until !== undefined ? `until ${rule.until} s` : undefined,
  ].filter((part) => part !== undefined);
  return limits.length > 0 ? `${text} (${limits.join(', ')})` : text;
}

/** One rule's strike: which rule (as `describeFaultRule` spells it) struck where. */
export interface FaultStrike {
  readonly kind: FaultKind;
  readonly key: string;
  readonly rule: string;
}

export interface PlannedFaults extends SimFaults {
  /** How many times each rule has struck, by index in the plan. */
  readonly strikes: readonly number[];
  /** Like `should`, but says which rule struck (undefined when none did). */
  strike(kind: FaultKind, key: string, event?: FaultEventScope): FaultStrike | undefined;
  /** The rules that have struck so far, in plan order, with their strike counts. */
  struck(): Array<{ kind: FaultKind; rule: string; strikes: number }>;
}

/**
 * `should(kind, key)` is true when an active rule matches and its draw strikes. The rng is only
 * drawn for eligible rules, so an empty plan leaves every other seeded sequence untouched.
 */
export function createFaults(
  plan: FaultPlan,
  deps: { rng: SimRng; clock: Pick<SimClock, 'now'>; timeline?: SimTimeline; epochMs?: VirtualMs },
): PlannedFaults {
  const rules = parseFaultPlan(plan);
  const epoch = deps.epochMs ?? SANDBOX_EPOCH;
  const strikes = rules.map(() => 0);
  const strike = (kind: FaultKind, key: string, event?: FaultEventScope): FaultStrike | undefined => {
    const seconds = (deps.clock.now() - epoch) / 1000;
    for (const [index, rule] of rules.entries()) {
      if (rule.kind !== kind) continue;
      if (rule.key !== undefined && rule.key !== '*' && rule.key !== key) continue;
      // A scoped rule strikes only a delivery of that kind of event (never a check without one).
      if (rule.source !== undefined && event?.source !== rule.source) continue;
      if (rule.detailType !== undefined && event?.detailType !== rule.detailType) continue;
      if (rule.from !== undefined && seconds < rule.from) continue;
      if (rule.until !== undefined && seconds >= rule.until) continue;
      const struck = strikes[index] ?? 0;
      if (rule.count !== undefined && struck >= rule.count) continue;
      const probability = rule.probability ?? 1;
      if (probability < 1 && deps.rng.next() >= probability) continue;
      strikes[index] = struck + 1;
      deps.timeline?.record({ kind: 'log', message: `fault ${kind} strikes ${key}` });
      return { kind, key, rule: describeFaultRule(rule) };
    }
    return undefined;
  };
  return {
    strikes,
    strike,
    should: (kind, key, event) => strike(kind, key, event) !== undefined,
    struck: () =>
      rules
        .map((rule, index) => ({
          kind: rule.kind,
          rule: describeFaultRule(rule),
          strikes: strikes[index] ?? 0,
        }))
        .filter((entry) => entry.strikes > 0),
  };
}

/**
 * A token bucket on the virtual clock: starts full with `capacity` tokens and regains
 * `refillPerSecond` per second up to `capacity`. AWS describes refills as happening every second;
 * we refill continuously, which differs only within a second and never lets more through overall.
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html#throttling-how
 */
export class TokenBucket {
  private tokens: number;
  private last: VirtualMs;

  constructor(
    readonly refillPerSecond: number,
    readonly capacity: number,
    private readonly clock: Pick<SimClock, 'now'>,
  ) {
    if (!(refillPerSecond > 0))
      throw new RangeError(`TokenBucket: refillPerSecond must be > 0, got ${refillPerSecond}`);
    if (!(capacity >= 1)) throw new RangeError(`TokenBucket: capacity must be >= 1, got ${capacity}`);
    this.tokens = capacity;
    this.last = clock.now();
  }

  /** Tokens available now. */
  available(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
    return this.tokens;
  }

  /** Takes `n` tokens if all are there (true), else takes none (false). */
  tryTake(n = 1): boolean {
    if (this.available() < n) return false;
    this.tokens -= n;
    return true;
  }
}

interface BucketSpec {
  readonly capacity: number;
  readonly refill: number;
}

// Request token buckets, per API action ("each API is evaluated individually"), from
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html#throttling-limits-rate-based
const EC2_NON_MUTATING: BucketSpec = { capacity: 100, refill: 20 };
const EC2_UNFILTERED: BucketSpec = { capacity: 50, refill: 10 };
const EC2_MUTATING: BucketSpec = { capacity: 50, refill: 5 };
const EC2_UNFILTERED_ACTIONS = new Set([
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
]);
/** The "Uncategorized actions" Kiln's adapters call. */
const EC2_UNCATEGORIZED: Record<string, BucketSpec> = {
  CopyImage: { capacity: 100, refill: 1 },
  CreateLaunchTemplateVersion: { capacity: 100, refill: 5 },
  CreateSnapshot: { capacity: 100, refill: 5 },
  CreateTags: { capacity: 100, refill: 10 },
  DeleteSnapshot: { capacity: 100, refill: 5 },
  DeleteTags: { capacity: 100, refill: 10 },
  DeregisterImage: { capacity: 100, refill: 5 },
  ModifyImageAttribute: { capacity: 100, refill: 5 },
  ModifyLaunchTemplate: { capacity: 100, refill: 5 },
  RunInstances: { capacity: 5, refill: 2 },
  StartInstances: { capacity: 5, refill: 2 },
  TerminateInstances: { capacity: 100, refill: 5 },
};
// Resource token buckets (one token per instance), same page, #throttling-limits-cost-based.
const EC2_RESOURCE: Record<string, BucketSpec> = {
  RunInstances: { capacity: 1000, refill: 2 },
  TerminateInstances: { capacity: 1000, refill: 20 },
  StartInstances: { capacity: 1000, refill: 2 },
  StopInstances: { capacity: 1000, refill: 20 },
};

function field(input: unknown, name: string): unknown {
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[name] : undefined;
}

function ec2RequestBucket(action: string, input: unknown): { key: string; spec: BucketSpec } {
  const uncategorized = EC2_UNCATEGORIZED[action];
  if (uncategorized !== undefined) return { key: action, spec: uncategorized };
  if (/^(Describe|List|Search|Get)/.test(action)) {
    const filtered = field(input, 'Filters') !== undefined;
    const paginated = field(input, 'MaxResults') !== undefined || field(input, 'NextToken') !== undefined;
    if (EC2_UNFILTERED_ACTIONS.has(action) && !filtered && !paginated) {
      return { key: `${action}#unfiltered`, spec: EC2_UNFILTERED };
    }
    return { key: action, spec: EC2_NON_MUTATING };
  }
  return { key: action, spec: EC2_MUTATING };
}

function ec2ResourceCost(action: string, input: unknown): number {
  if (action === 'RunInstances') {
    const max = field(input, 'MaxCount');
    return typeof max === 'number' && max > 0 ? max : 1;
  }
  const ids = field(input, 'InstanceIds');
  return Array.isArray(ids) ? Math.max(1, ids.length) : 1;
}

/** Admits a call (true) or says it is throttled (false). */
export type RateLimiter = (operation: string, input: unknown) => boolean;

/**
 * EC2's account-level request limits: a request bucket per action and, for RunInstances,
 * TerminateInstances, StartInstances and StopInstances, a resource bucket per instance. A call
 * must pass both; a refused call takes no tokens.
 */
export function createEc2RateLimiter(clock: Pick<SimClock, 'now'>): RateLimiter {
  const buckets = new Map<string, TokenBucket>();
  const bucket = (key: string, spec: BucketSpec): TokenBucket => {
    let b = buckets.get(key);
    if (b === undefined) {
      b = new TokenBucket(spec.refill, spec.capacity, clock);
      buckets.set(key, b);
    }
    return b;
  };
  return (operation, input) => {
    const { key, spec } = ec2RequestBucket(operation, input);
    const request = bucket(key, spec);
    const resourceSpec = EC2_RESOURCE[operation];
    if (resourceSpec === undefined) return request.tryTake();
    const resource = bucket(`${operation}#resource`, resourceSpec);
    const cost = ec2ResourceCost(operation, input);
    if (request.available() < 1 || resource.available() < cost) return false;
    return request.tryTake() && resource.tryTake(cost);
  };
}

/**
 * ELBv2's documented figure: non-mutating (Describe*) calls share a bucket of 40 tokens refilled
 * at 10 per second. https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html
 * The page's per-action mutating limits are not modelled (they are not throttled here).
 */
export function createElbv2RateLimiter(clock: Pick<SimClock, 'now'>): RateLimiter {
  const describe = new TokenBucket(10, 40, clock);
  return (operation) => (operation.startsWith('Describe') ? describe.tryTake() : true);
}
