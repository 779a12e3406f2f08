/**
 * The simulated Lambda service: runs Kiln's real handlers in-process with a Lambda-shaped context.
 *
 * - Synchronous invocations (Step Functions tasks, the HTTP API) return the handler's result or
 *   throw its error.
 * - Asynchronous invocations (EventBridge targets) follow "How Lambda handles errors and retries
 *   with asynchronous invocation": on a function error Lambda runs it two more times, one minute
 *   after the first attempt and two minutes after the second.
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 * - The `handler-crash` fault makes an invocation fail as a crashed runtime would
 *   (errorType Runtime.ExitError), before the handler runs.
 */
import type { Context } from 'aws-lambda';
import type { SimContext } from '../core/context';

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
}

export interface LambdaSimOptions {
  /** Runs `fn` tagged as `caller` (so its SDK calls are attributed in the timeline). */
  runAs: <T>(caller: string, fn: () => Promise<T>) => Promise<T>;
}

export interface InvocationRecord {
  functionName: string;
  mode: 'sync' | 'async';
  attempt: number;
  ok: boolean;
  error?: string;
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

export class LambdaSim {
  private readonly functions = new Map<string, SimFunction>();
  private readonly loaded = new Map<string, LambdaHandler>();
  readonly invocations: InvocationRecord[] = [];
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

  /** An asynchronous (Event) invocation: returns at once; retries twice on a function error. */
  invokeAsync(functionName: string, event: unknown): void {
    this.requireFunction(functionName);
    this.pendingAsync++;
    const run = (attempt: number): void => {
      this.attempt(functionName, event, 'async', attempt).then(
        () => {
          this.pendingAsync--;
        },
        () => {
          const delay = ASYNC_RETRY_DELAYS_MS[attempt - 1];
          if (delay === undefined) {
            this.pendingAsync--;
            this.ctx.timeline.record({
              kind: 'log',
              message: `lambda ${functionName}: event dropped after ${attempt} failed attempts`,
            });
            return;
          }
          this.ctx.clock.setTimeout(() => run(attempt + 1), delay);
        },
      );
    };
    // Lambda's queue hands the event over asynchronously, never inside the caller's turn.
    this.ctx.clock.setTimeout(() => run(1), 0);
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
  ): Promise<unknown> {
    const fn = this.requireFunction(functionName);
    const record: InvocationRecord = { functionName, mode, attempt, ok: false };
    this.invocations.push(record);
    try {
      if (this.ctx.faults.should('handler-crash', functionName)) {
        throw new FunctionError(
          'Runtime.ExitError',
          `RequestId: simulated Error: Runtime exited with error: signal: killed`,
        );
      }
      const handler = await this.loadHandler(fn);
      const context = this.lambdaContext(fn);
      const result = await this.options.runAs(`fn:${fn.key}`, () => handler(structuredClone(event), context));
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
    }
  }

  private async loadHandler(fn: SimFunction): Promise<LambdaHandler> {
    const cached = this.loaded.get(fn.name);
    if (cached) return cached;
    const handler = await fn.load();
    this.loaded.set(fn.name, handler);
    return handler;
  }

  private lambdaContext(fn: SimFunction): Context {
    const started = this.ctx.clock.now();
    const requestId = `00000000-0000-4000-8000-${String(++this.requestCounter).padStart(12, '0')}`;
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.ctx.region}:${this.ctx.accountId}:function:${fn.name}`,
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
