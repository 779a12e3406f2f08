/**
 * The simulated EventBridge default bus (and any custom buses the routes name): builds envelopes,
 * matches every rule with the same patterns serverless.yml deploys, and delivers to Lambda targets
 * asynchronously on the virtual clock.
 *
 * Delivery is at least once (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
 * and the EventBridge FAQ): the chaos layer can drop a delivery ('event-loss'), repeat it
 * ('event-duplicate') or hold it back ('event-delay'). Kiln must cope with all three.
 * Also answers PutEvents through `handle()` for custom events such as "Artifact Published".
 *
 * A delivery the target refuses follows "Event retry policy and using dead-letter queues"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html): a missing target or
 * missing permission is not retried and goes straight to the rule target's dead-letter queue;
 * other errors are retried with exponential backoff and jitter until the retry policy's attempts
 * (default 185) or event age (default 24 h) run out, then go to the queue. The message is the
 * event itself, with the attributes RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE and, after
 * retries, RETRY_ATTEMPTS and EXHAUSTED_RETRY_CONDITION. Without a queue the event is dropped.
 * The backoff's base (1 s, doubling, capped at 5 min) is the sandbox's choice: AWS does not publish it.
 */
import { EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import type { EventBridgeEnvelope, SimContext, SimEventInput, SimService } from '../core/context';
import { compilePattern } from '../core/event-pattern';
import type { EventBridgeRoute } from '../core/routes';

/** Invokes one function with one event (the sandbox's Lambda runtime). */
export type EventTarget = (functionName: string, envelope: EventBridgeEnvelope) => Promise<void>;

export interface EventBridgeSimOptions {
  /** Normal delivery latency, drawn per delivery from the seed (ms, inclusive). */
  deliveryDelayMs?: readonly [number, number];
  /** Extra latency when an 'event-delay' fault strikes (ms, inclusive). */
  lateDelayMs?: readonly [number, number];
  /** Puts a message on the SQS queue an ARN names; false when the queue does not exist. */
  sendToQueue?: (queueArn: string, body: string, attributes: Record<string, string>) => boolean;
  /** The ARN of a function target (for TARGET_ARN); defaults to the function key. */
  targetArn?: (functionName: string) => string;
}

export interface SimRuleInput {
  functionName: string;
  pattern: unknown;
  name?: string;
  eventBus?: string;
  enabled?: boolean;
  /** The target's dead-letter queue (an SQS queue ARN). */
  deadLetterQueueArn?: string;
  retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeSeconds?: number };
}

interface SimRule {
  name: string;
  functionName: string;
  eventBus: string;
  enabled: boolean;
  matches: (event: unknown) => boolean;
  deadLetterQueueArn?: string;
  maximumRetryAttempts: number;
  maximumEventAgeMs: number;
}

/** EventBridge's retry defaults: 185 attempts over 24 hours. */
const DEFAULT_RETRY_ATTEMPTS = 185;
const DEFAULT_EVENT_AGE_SECONDS = 86_400;
/** Errors retrying cannot fix: sent to the dead-letter queue at once, with the DLQ's error code. */
const NOT_RETRIED: Record<string, string> = {
  ResourceNotFoundException: 'NO_RESOURCE',
  AccessDeniedException: 'NO_PERMISSIONS',
};
const THROTTLES = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling']);

interface PutEventsRequestEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  EventBusName?: unknown;
  Time?: unknown;
}

type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

const DEFAULT_DELIVERY_DELAY: readonly [number, number] = [50, 500];
const DEFAULT_LATE_DELAY: readonly [number, number] = [30_000, 300_000];

function isoSeconds(ms: number): string {
  // EventBridge envelopes carry times without milliseconds, e.g. 2015-11-11T21:29:54Z
  // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html).
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function busName(nameOrArn: string): string {
  // EventBusName accepts a name or an ARN (arn:aws:events:<region>:<account>:event-bus/<name>).
  const marker = ':event-bus/';
  const at = nameOrArn.indexOf(marker);
  return at < 0 ? nameOrArn : nameOrArn.slice(at + marker.length);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function validationError(message: string): EventBridgeServiceException {
  return new EventBridgeServiceException({
    name: 'ValidationException',
    $fault: 'client',
    message,
    $metadata: { httpStatusCode: 400 },
  });
}

export class EventBridgeSim implements SimService {
  readonly serviceId = 'EventBridge';
  private readonly rules: SimRule[] = [];
  private readonly targets: EventTarget[] = [];
  private readonly deliveryDelay: readonly [number, number];
  private readonly lateDelay: readonly [number, number];
  private inFlight = 0;
  /** Events some rule matched, newest last: what `redeliver` can send again. */
  private readonly matched: Array<{ envelope: EventBridgeEnvelope; eventBus: string }> = [];

  constructor(
    private readonly ctx: SimContext,
    private readonly options: EventBridgeSimOptions = {},
  ) {
    this.deliveryDelay = options.deliveryDelayMs ?? DEFAULT_DELIVERY_DELAY;
    this.lateDelay = options.lateDelayMs ?? DEFAULT_LATE_DELAY;
  }

  /** Adds a rule with one Lambda target; the pattern is validated now (throws EventPatternError). */
  addRule(rule: SimRuleInput): void {
    const added: SimRule = {
      name: rule.name ?? `${rule.functionName}-rule-${this.rules.length + 1}`,
      functionName: rule.functionName,
      eventBus: busName(rule.eventBus ?? 'default'),
      enabled: rule.enabled ?? true,
      matches: compilePattern(rule.pattern),
      maximumRetryAttempts: rule.retryPolicy?.maximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
      maximumEventAgeMs: (rule.retryPolicy?.maximumEventAgeSeconds ?? DEFAULT_EVENT_AGE_SECONDS) * 1000,
    };
    if (rule.deadLetterQueueArn !== undefined) added.deadLetterQueueArn = rule.deadLetterQueueArn;
    this.rules.push(added);
  }

  /**
   * Adds the rules serverless.yml declares (see sandbox/core/routes.ts); `queueArn` turns a
   * dead-letter queue's logical id into the deployed queue's ARN.
   */
  addRoutes(
    routes: readonly EventBridgeRoute[],
    queueArn: (logicalId: string) => string | undefined = () => undefined,
  ): void {
    for (const route of routes) {
      const rule: SimRuleInput = {
        functionName: route.functionName,
        pattern: route.pattern,
        eventBus: route.eventBus,
        enabled: route.enabled,
      };
      if (route.ruleName !== undefined) rule.name = route.ruleName;
      if (route.retryPolicy !== undefined) rule.retryPolicy = route.retryPolicy;
      const dlq = route.deadLetterQueue === undefined ? undefined : queueArn(route.deadLetterQueue);
      if (dlq !== undefined) rule.deadLetterQueueArn = dlq;
      this.addRule(rule);
    }
  }

  /** Registers a receiver of deliveries; every delivery goes to every registered target. */
  addTarget(target: EventTarget): void {
    this.targets.push(target);
  }

  /** Deliveries scheduled or running but not finished (lets an engine tell when the bus is idle). */
  get pendingDeliveries(): number {
    return this.inFlight;
  }

  /** Names of the functions whose enabled rules on `eventBus` match `event` (one per rule). */
  matchingFunctions(event: EventBridgeEnvelope, eventBus = 'default'): string[] {
    return this.matchingRules(event, eventBus).map((rule) => rule.functionName);
  }

  private matchingRules(event: EventBridgeEnvelope, eventBus: string): SimRule[] {
    return this.rules.filter(
      (rule) => rule.enabled && rule.eventBus === busName(eventBus) && rule.matches(event),
    );
  }

  /** Publishes one event as an AWS service would; returns the envelope as delivered. */
  putEvent(input: SimEventInput, eventBus = 'default', time?: number): EventBridgeEnvelope {
    const envelope: EventBridgeEnvelope = {
      version: '0',
      id: this.ctx.ids.uuid(),
      'detail-type': input.detailType,
      source: input.source,
      account: this.ctx.accountId,
      time: isoSeconds(time ?? this.ctx.clock.now()),
      region: input.region ?? this.ctx.region,
      resources: [...(input.resources ?? [])],
      detail: input.detail,
    };
    const deliveredTo: string[] = [];
    const scope = { source: envelope.source, detailType: envelope['detail-type'] };
    const rules = this.matchingRules(envelope, eventBus);
    if (rules.length > 0) this.matched.push({ envelope, eventBus });
    for (const rule of rules) {
      const functionName = rule.functionName;
      if (this.ctx.faults.should('event-loss', envelope.id, scope)) {
        this.ctx.timeline.record({
          kind: 'log',
          message: `event ${envelope.id} to ${functionName} lost (fault)`,
        });
        continue;
      }
      const copies = this.ctx.faults.should('event-duplicate', envelope.id, scope) ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        let delay = this.ctx.rng.int(this.deliveryDelay[0], this.deliveryDelay[1]);
        if (this.ctx.faults.should('event-delay', envelope.id, scope)) {
          delay += this.ctx.rng.int(this.lateDelay[0], this.lateDelay[1]);
        }
        this.schedule(rule, envelope, delay);
        deliveredTo.push(functionName);
      }
    }
    this.ctx.timeline.record({
      kind: 'event',
      source: envelope.source,
      detailType: envelope['detail-type'],
      deliveredTo,
    });
    return envelope;
  }

  /**
   * Delivers the newest event that `select` picks once more to every rule it matched, the same
   * envelope (same id) as the first time: what a durable-delivery service sending an event "at
   * least once" looks like to the target
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-delivery-level.html).
   * A story's deliberate duplicate, where the 'event-duplicate' fault is a seeded draw. Returns the
   * functions it went to (none when no matched event is picked).
   */
  redeliver(select: (envelope: EventBridgeEnvelope) => boolean): string[] {
    const found = this.matched.findLast(({ envelope }) => select(envelope));
    if (found === undefined) return [];
    const deliveredTo: string[] = [];
    for (const rule of this.matchingRules(found.envelope, found.eventBus)) {
      this.schedule(rule, found.envelope, this.ctx.rng.int(this.deliveryDelay[0], this.deliveryDelay[1]));
      deliveredTo.push(rule.functionName);
    }
    this.ctx.timeline.record({
      kind: 'event',
      source: found.envelope.source,
      detailType: found.envelope['detail-type'],
      deliveredTo,
    });
    return deliveredTo;
  }

  private schedule(rule: SimRule, envelope: EventBridgeEnvelope, delayMs: number): void {
    this.inFlight++;
    const firstAttemptAt = this.ctx.clock.now() + delayMs;
    const attempt = (retries: number): void => {
      // Each delivery gets its own copy, as separate invocations would.
      const deliveries = this.targets.map((target) =>
        target(rule.functionName, structuredClone(envelope)).then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
      void Promise.all(deliveries).then((outcomes) => {
        const error = outcomes.find((outcome) => outcome !== undefined);
        if (error === undefined) {
          this.inFlight--;
          return;
        }
        const retryIn = this.retryDelay(rule, error, retries, firstAttemptAt);
        if (retryIn === undefined) {
          this.inFlight--;
          this.deadLetter(rule, envelope, error, retries);
          return;
        }
        this.ctx.clock.setTimeout(() => attempt(retries + 1), retryIn);
      });
    };
    this.ctx.clock.setTimeout(() => attempt(0), delayMs);
  }

  /** Milliseconds until the next attempt, or undefined when the error or the policy ends retrying. */
  private retryDelay(
    rule: SimRule,
    error: unknown,
    retries: number,
    firstAttemptAt: number,
  ): number | undefined {
    if (errorName(error) in NOT_RETRIED) return undefined;
    if (retries >= rule.maximumRetryAttempts) return undefined;
    const backoff = Math.min(1000 * 2 ** retries, 300_000);
    const delay = this.ctx.rng.int(Math.floor(backoff / 2), backoff);
    return this.ctx.clock.now() + delay - firstAttemptAt > rule.maximumEventAgeMs ? undefined : delay;
  }

  private deadLetter(rule: SimRule, envelope: EventBridgeEnvelope, error: unknown, retries: number): void {
    const name = errorName(error);
    const message = error instanceof Error ? error.message : String(error);
    const code = NOT_RETRIED[name] ?? (THROTTLES.has(name) ? 'THROTTLING' : 'SDK_CLIENT_ERROR');
    const attributes: Record<string, string> = {
      RULE_ARN: `arn:aws:events:${this.ctx.region}:${this.ctx.accountId}:rule/${
        rule.eventBus === 'default' ? '' : `${rule.eventBus}/`
      }${rule.name}`,
      TARGET_ARN: this.options.targetArn?.(rule.functionName) ?? rule.functionName,
      ERROR_CODE: code,
      ERROR_MESSAGE: message,
    };
    if (!(name in NOT_RETRIED)) {
      attributes.RETRY_ATTEMPTS = String(retries);
      attributes.EXHAUSTED_RETRY_CONDITION =
        retries >= rule.maximumRetryAttempts ? 'MaximumRetryAttempts' : 'MaximumEventAge';
    }
    const sent =
      rule.deadLetterQueueArn !== undefined &&
      this.options.sendToQueue?.(rule.deadLetterQueueArn, JSON.stringify(envelope), attributes) === true;
    this.ctx.timeline.record({
      kind: 'log',
      message: `delivery of ${envelope.id} to ${rule.functionName} failed (${code}: ${message}); ${
        sent ? 'sent to the dead-letter queue' : 'dropped'
      }`,
    });
  }

  async handle(operation: string, input: unknown): Promise<object> {
    if (operation === 'PutEvents') return this.putEvents(input);
    throw new EventBridgeServiceException({
      name: 'UnknownOperationException',
      $fault: 'client',
      message: `The sandbox's EventBridge does not implement ${operation}`,
      $metadata: { httpStatusCode: 400 },
    });
  }

  /**
   * PutEvents: 1–10 entries; each entry fails on its own with ErrorCode/ErrorMessage while the
   * rest go through, and FailedEntryCount counts the failures
   * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html,
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html).
   */
  private putEvents(input: unknown): object {
    const entries = (input as { Entries?: unknown } | undefined)?.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw validationError(
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    const results = entries.map((entry: PutEventsRequestEntry) => this.putEntry(entry ?? {}));
    return {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    };
  }

  private putEntry(entry: PutEventsRequestEntry): PutEventsResultEntry {
    // Messages as moto and AWS word them for missing arguments.
    const invalid = (name: string): PutEventsResultEntry => ({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter ${name} is not valid. Reason: ${name} is a required argument.`,
    });
    if (typeof entry.Source !== 'string' || entry.Source === '') return invalid('Source');
    if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return invalid('DetailType');
    if (typeof entry.Detail !== 'string' || entry.Detail === '') return invalid('Detail');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    // Detail is "a valid JSON object" (PutEventsRequestEntry); arrays and scalars are not.
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const resources = entry.Resources ?? [];
    if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string'))
      return invalid('Resources');
    let time: number | undefined;
    if (entry.Time !== undefined) {
      time = entry.Time instanceof Date ? entry.Time.getTime() : Number.NaN;
      if (Number.isNaN(time)) return invalid('Time');
    }
    const eventBus =
      typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
    const envelope = this.putEvent(
      {
        source: entry.Source,
        detailType: entry.DetailType,
        detail: detail as Record<string, unknown>,
        resources,
      },
      eventBus,
      time,
    );
    return { EventId: envelope.id };
  }
}
