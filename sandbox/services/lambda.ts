/**
 * The simulated Lambda service: runs Kiln's real handlers in-process with a Lambda-shaped context.
 *
 * - Synchronous invocations (Step Functions tasks, the HTTP API) return the handler's result or
 *   throw its error.
 * - Asynchronous invocations (EventBridge targets) follow "How Lambda handles errors and retries
 *   with asynchronous invocation": on a function error Lambda runs it two more times (or as many
 *   as the function's MaximumRetryAttempts, 0-2), one minute after the first attempt and two
 *   minutes after the second.
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 * - When every attempt failed, the function's on-failure destination (an SQS queue here) receives
 *   an invocation record: version, timestamp, requestContext (requestId, functionArn with the
 *   executed qualifier, condition RetriesExhausted, approximateInvokeCount), requestPayload (the
 *   event), responseContext and responsePayload (the error). Without a destination the event is
 *   dropped. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * - The SDK's Invoke answers InvocationType Event (202, queued as above) and DryRun (204).
 *   RequestResponse is not offered through the SDK: the handler would run inside the granted
 *   call and its own SDK calls could never be granted. https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * - The `handler-crash` fault makes an invocation fail as a crashed runtime would
 *   (errorType Runtime.ExitError), before the handler runs.
 */
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import type { SimContext, SimService } from '../core/context';
import { meterInvocation } from '../core/metering';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface SimFunction {
  /** The deployed function name, e.g. kiln-sandbox-on-artifact. */
  name: string;
  /** The serverless.yml key, e.g. onArtifact. */
  key: string;
  /** Loads the handler lazily (modules are imported on first invocation, like a cold start). */
  load: () => Promise<LambdaHandler>;
  timeoutSeconds: number;
  memorySizeMb: number;
  /** Retries of a failed asynchronous invocation, 0-2 (Lambda's default: 2). */
  maximumRetryAttempts?: number;
  /** ARN of the on-failure destination (an SQS queue) for asynchronous invocations. */
  onFailure?: string;
}

/** The record Lambda sends to an on-failure destination. */
export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: string; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string; trace: string[] };
}

export interface LambdaSimOptions {
  /** Runs `fn` tagged as `caller` (so its SDK calls are attributed in the timeline). */
  runAs: <T>(caller: string, fn: () => Promise<T>) => Promise<T>;
  /**
   * Holds the virtual clock during real I/O the scheduler cannot see; returns the release. Loading
   * a function's module (its first invocation) is such I/O: without the hold, how long the import
   * takes on this machine would decide when the handler runs.
   */
  holdClock?: () => () => void;
  /** Delivers an invocation record to a destination ARN; false when it cannot (no such queue). */
  sendToDestination?: (destinationArn: string, record: InvocationRecord) => boolean;
}

export interface InvocationLogEntry {
  functionName: string;
  mode: 'sync' | 'async';
  attempt: number;
  ok: boolean;
  error?: string;
  /** Virtual ms (clock.now()) when the attempt started and ended; ended is unset while it runs. */
  startedMs: number;
  endedMs?: number;
  /** The attempt loaded the function's module (a cold start: one execution environment per function). */
  cold: boolean;
  /** SDK calls the handler made, by service id, each attempt counted (sandbox/core/metering.ts). */
  calls: Record<string, number>;
}

/** AWS's documented delays before the 2nd and 3rd attempts of a failed asynchronous invocation. */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;

export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = errorType;
  }
}

export class LambdaSim implements SimService {
  readonly serviceId = 'Lambda';
  private readonly functions = new Map<string, SimFunction>();
  private readonly loaded = new Map<string, LambdaHandler>();
  readonly invocations: InvocationLogEntry[] = [];
  private pendingAsync = 0;
  private requestCounter = 0;

  constructor(
    private readonly ctx: SimContext,
    private readonly options: LambdaSimOptions,
  ) {}

  register(fn: SimFunction): void {
    this.functions.set(fn.name, fn);
  }

  functionNames(): string[] {
    return [...this.functions.keys()].sort();
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  /** Asynchronous invocations queued or waiting for a retry. */
  get asyncInFlight(): number {
    return this.pendingAsync;
  }

  /** A synchronous (RequestResponse) invocation. */
  async invoke(functionName: string, event: unknown): Promise<unknown> {
    return this.attempt(functionName, event, 'sync', 1);
  }

  /**
   * An asynchronous (Event) invocation: returns at once; retries on a function error (twice by
   * default), then sends an invocation record to the on-failure destination, if any.
   */
  invokeAsync(functionName: string, event: unknown): void {
    const fn = this.requireFunction(functionName);
    const retries = fn.maximumRetryAttempts ?? ASYNC_RETRY_DELAYS_MS.length;
    const requestId = this.nextRequestId();
    this.pendingAsync++;
    const run = (attempt: number): void => {
      this.attempt(functionName, event, 'async', attempt, requestId).then(
        () => {
          this.pendingAsync--;
        },
        (error: unknown) => {
          const delay = attempt <= retries ? ASYNC_RETRY_DELAYS_MS[attempt - 1] : undefined;
          if (delay === undefined) {
            this.pendingAsync--;
            this.giveUp(fn, event, attempt, requestId, error);
            return;
          }
          this.ctx.clock.setTimeout(() => run(attempt + 1), delay);
        },
      );
    };
    // Lambda's queue hands the event over asynchronously, never inside the caller's turn.
    this.ctx.clock.setTimeout(() => run(1), 0);
  }

  private giveUp(fn: SimFunction, event: unknown, attempts: number, requestId: string, error: unknown): void {
    const record: InvocationRecord = {
      version: '1.0',
      timestamp: new Date(this.ctx.clock.now()).toISOString(),
      requestContext: {
        requestId,
        functionArn: `${this.functionArn(fn.name)}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: attempts,
      },
      requestPayload: structuredClone(event),
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: {
        errorType: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message : String(error),
        trace: [],
      },
    };
    const sent =
      fn.onFailure !== undefined && this.options.sendToDestination?.(fn.onFailure, record) === true;
    this.ctx.timeline.record({
      kind: 'log',
      message: sent
        ? `lambda ${fn.name}: event sent to the on-failure destination after ${attempts} failed attempts`
        : `lambda ${fn.name}: event dropped after ${attempts} failed attempts`,
    });
  }

  functionArn(name: string): string {
    return `arn:aws:lambda:${this.ctx.region}:${this.ctx.accountId}:function:${name}`;
  }

  /**
   * Invoke through the SDK. FunctionName may be a name, a full ARN or `account:function:name`,
   * with an optional `:$LATEST` qualifier (API_Invoke, "Name formats").
   */
  async handle(operation: string, input: unknown): Promise<object> {
    if (operation !== 'Invoke') {
      throw new InvalidParameterValueException({
        message: `The sandbox's Lambda does not implement ${operation}`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    const request = (input ?? {}) as { FunctionName?: unknown; InvocationType?: unknown; Payload?: unknown };
    const reference = typeof request.FunctionName === 'string' ? request.FunctionName : '';
    const name =
      /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9_-]+)(?::\$LATEST)?$/.exec(
        reference,
      )?.[1];
    if (name === undefined || !this.functions.has(name)) {
      throw new ResourceNotFoundException({
        message: `Function not found: ${name === undefined ? reference : this.functionArn(name)}`,
        $metadata: { httpStatusCode: 404 },
      });
    }
    let event: unknown = {};
    if (request.Payload !== undefined) {
      const text =
        typeof request.Payload === 'string'
          ? request.Payload
          : new TextDecoder().decode(request.Payload as Uint8Array);
      try {
        event = JSON.parse(text);
      } catch {
        throw new InvalidRequestContentException({
          message: 'Could not parse request body into json',
          $metadata: { httpStatusCode: 400 },
        });
      }
    }
    if (request.InvocationType === 'DryRun') return { StatusCode: 204 };
    if (request.InvocationType === 'Event') {
      this.invokeAsync(name, event);
      return { StatusCode: 202 };
    }
    throw new InvalidParameterValueException({
      message:
        "The sandbox's Lambda answers Invoke with InvocationType Event or DryRun; RequestResponse would run the handler inside the SDK call",
      $metadata: { httpStatusCode: 400 },
    });
  }

  private requireFunction(functionName: string): SimFunction {
    const fn = this.functions.get(functionName);
    if (!fn) throw new FunctionError('ResourceNotFoundException', `Function not found: ${functionName}`);
    return fn;
  }

  private async attempt(
    functionName: string,
    event: unknown,
    mode: 'sync' | 'async',
    attempt: number,
    requestId = this.nextRequestId(),
  ): Promise<unknown> {
    const fn = this.requireFunction(functionName);
    const record: InvocationLogEntry = {
      functionName,
      mode,
      attempt,
      ok: false,
      startedMs: this.ctx.clock.now(),
      cold: false,
      calls: {},
    };
    this.invocations.push(record);
    const meter = { open: true, calls: record.calls };
    try {
      if (this.ctx.faults.should('handler-crash', functionName)) {
        throw new FunctionError(
          'Runtime.ExitError',
          `RequestId: simulated Error: Runtime exited with error: signal: killed`,
        );
      }
      record.cold = !this.loaded.has(fn.name);
      const handler = await this.loadHandler(fn);
      const context = this.lambdaContext(fn, requestId);
      const result = await meterInvocation(meter, () =>
        this.options.runAs(`fn:${fn.key}`, () => handler(structuredClone(event), context)),
      );
      record.ok = true;
      return result;
    } catch (error) {
      record.error = error instanceof Error ? error.name : 'Error';
      this.ctx.timeline.record({
        kind: 'log',
        message: `lambda ${functionName} (${mode}, attempt ${attempt}) failed: ${record.error}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
      throw error;
    } finally {
      meter.open = false;
      record.endedMs = this.ctx.clock.now();
    }
  }

  private async loadHandler(fn: SimFunction): Promise<LambdaHandler> {
    const cached = this.loaded.get(fn.name);
    if (cached) return cached;
    const release = this.options.holdClock?.();
    try {
      const handler = await fn.load();
      this.loaded.set(fn.name, handler);
      return handler;
    } finally {
      release?.();
    }
  }

  private nextRequestId(): string {
    return `00000000-0000-4000-8000-${String(++this.requestCounter).padStart(12, '0')}`;
  }

  private lambdaContext(fn: SimFunction, requestId: string): Context {
    const started = this.ctx.clock.now();
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn(fn.name),
      memoryLimitInMB: String(fn.memorySizeMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `2026/01/01/[$LATEST]${requestId.replace(/-/g, '')}`,
      getRemainingTimeInMillis: () => Math.max(0, started + fn.timeoutSeconds * 1000 - this.ctx.clock.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  }
}
