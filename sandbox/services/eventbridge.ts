/**
 * The simulated EventBridge default bus (and any custom buses the routes name): builds envelopes,
 * matches every rule with the same patterns serverless.yml deploys, and delivers to Lambda targets
 * asynchronously on the virtual clock.
 *
 * Delivery is at least once (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
 * and the EventBridge FAQ): the chaos layer can drop a delivery ('event-loss'), repeat it
 * ('event-duplicate') or hold it back ('event-delay'). Kiln must cope with all three.
 * Also answers PutEvents through `handle()` for custom events such as "Artifact Published".
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
}

export interface SimRuleInput {
  functionName: string;
  pattern: unknown;
  name?: string;
  eventBus?: string;
  enabled?: boolean;
}

interface SimRule {
  name: string;
  functionName: string;
  eventBus: string;
  enabled: boolean;
  matches: (event: unknown) => boolean;
}

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

  constructor(
    private readonly ctx: SimContext,
    options: EventBridgeSimOptions = {},
  ) {
    this.deliveryDelay = options.deliveryDelayMs ?? DEFAULT_DELIVERY_DELAY;
    this.lateDelay = options.lateDelayMs ?? DEFAULT_LATE_DELAY;
  }

  /** Adds a rule with one Lambda target; the pattern is validated now (throws EventPatternError). */
  addRule(rule: SimRuleInput): void {
    this.rules.push({
      name: rule.name ?? `${rule.functionName}-rule-${this.rules.length + 1}`,
      functionName: rule.functionName,
      eventBus: busName(rule.eventBus ?? 'default'),
      enabled: rule.enabled ?? true,
      matches: compilePattern(rule.pattern),
    });
  }

  /** Adds the rules serverless.yml declares (see sandbox/core/routes.ts). */
  addRoutes(routes: readonly EventBridgeRoute[]): void {
    for (const route of routes) {
      const rule: SimRuleInput = {
        functionName: route.functionName,
        pattern: route.pattern,
        eventBus: route.eventBus,
        enabled: route.enabled,
      };
      if (route.ruleName !== undefined) rule.name = route.ruleName;
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
    return this.rules
      .filter((rule) => rule.enabled && rule.eventBus === busName(eventBus) && rule.matches(event))
      .map((rule) => rule.functionName);
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
    for (const functionName of this.matchingFunctions(envelope, eventBus)) {
      if (this.ctx.faults.should('event-loss', envelope.id)) {
        this.ctx.timeline.record({
          kind: 'log',
          message: `event ${envelope.id} to ${functionName} lost (fault)`,
        });
        continue;
      }
      const copies = this.ctx.faults.should('event-duplicate', envelope.id) ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        let delay = this.ctx.rng.int(this.deliveryDelay[0], this.deliveryDelay[1]);
        if (this.ctx.faults.should('event-delay', envelope.id)) {
          delay += this.ctx.rng.int(this.lateDelay[0], this.lateDelay[1]);
        }
        this.schedule(functionName, envelope, delay);
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

  private schedule(functionName: string, envelope: EventBridgeEnvelope, delayMs: number): void {
    this.inFlight++;
    this.ctx.clock.setTimeout(() => {
      // Each delivery gets its own copy, as separate invocations would.
      const deliveries = this.targets.map((target) =>
        target(functionName, structuredClone(envelope)).catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          this.ctx.timeline.record({
            kind: 'log',
            message: `delivery of ${envelope.id} to ${functionName} failed: ${reason}`,
          });
        }),
      );
      void Promise.all(deliveries).finally(() => {
        this.inFlight--;
      });
    }, delayMs);
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
