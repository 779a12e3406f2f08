/**
 * Puts the sandbox beneath the real AWS SDK v3 clients. Two middlewares per client:
 *
 * - `initialize`/`high` (outermost): registers the call with the scheduler as soon as `send` starts,
 *   so config and credential resolution before the gate count as activity, and tags it with its
 *   caller and per-caller sequence number.
 * - `finalizeRequest`, just before the signer (inside the retry strategy, outside the deserializer):
 *   waits for the scheduler's grant; then answers from the registered `SimService` without HTTP,
 *   or, for DynamoDB, lets the request through to the in-process dynalite. Each attempt is one
 *   timeline `api` entry. Errors thrown here reach the SDK's retry strategy exactly like AWS's, so
 *   throttling and 5xx are retried with backoff on the virtual clock.
 * - `deserialize`/`low`: rewrites dynalite's real-time `Date` header to virtual time; otherwise the
 *   SDK computes a clock skew of months, marks errors retryable and can loop.
 *
 * Middleware steps and priorities: https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/middleware.html
 * Verified by experiment (SDK 3.1169): `context.commandName` is 'DescribeInstancesCommand', the
 * service id is on `client.config.serviceId` ('EC2', 'Auto Scaling', 'Elastic Load Balancing v2',
 * 'CloudWatch', 'SSM', 'SFN', 'DynamoDB'), not in the handler context.
 *
 * Client choice: handlers take injected clients (dependencies object), so the sandbox hands out
 * `clientsFor(caller)`. A handler that builds its own client can still be attached with
 * `attachSandbox(client, runtime)`. We do not patch the SDK globally: a forgotten client then
 * fails loudly (no simulated service / not pointed at dynalite) instead of silently reaching AWS.
 */
import { AutoScalingClient, AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, CloudWatchServiceException } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { LambdaClient, LambdaServiceException } from '@aws-sdk/client-lambda';
import { SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClientFor } from '../../shared/runtime/clients';
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  DeserializeHandlerOutput,
  FinalizeHandler,
  FinalizeHandlerArguments,
  FinalizeHandlerOutput,
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  MiddlewareStack,
} from '@smithy/types';
import type { SimService, SimTimeline, VirtualMs } from './context';
import type { SdkRequestHandler } from './dynamo';
import type { PlannedFaults } from './faults';
import { countInvocationCall, type DynamoMeter } from './metering';
import type { CallTicket, Scheduler } from './scheduler';
import { SchedulerError } from './scheduler';

/** What the middleware needs from the engine. */
export interface SandboxRuntime {
  readonly region: string;
  readonly scheduler: Scheduler;
  readonly timeline: SimTimeline;
  readonly faults: PlannedFaults;
  /** Virtual now (ms since epoch). */
  now(): VirtualMs;
  /**
   * The simulated service for an SDK service id, if registered: in `region` (the Region the
   * client was made for) when given, else in the engine's own Region.
   */
  serviceFor(serviceId: string, region?: string): SimService | undefined;
  /** Admission control (rate limits): false means throttle this call. */
  admitsRate(serviceId: string, operation: string, input: unknown): boolean;
  /** A request id drawn from the seed. */
  requestId(): string;
  /** dynalite's endpoint, when it runs. */
  readonly dynamoEndpoint: string | undefined;
  /** Hands requests for `dynamoEndpoint` to dynalite in this process (sandbox/core/dynamo.ts). */
  readonly dynamoRequestHandler?: SdkRequestHandler | undefined;
  /** Records DynamoDB request units when the engine meters them (EngineOptions.meterDynamo). */
  readonly dynamoMeter?: DynamoMeter | undefined;
}

/**
 * The Region a request is for, from its endpoint (`ec2.eu-west-1.amazonaws.com`): a client made
 * for another Region reaches that Region's simulated service, as it would reach AWS's.
 */
function regionOf(request: unknown): string | undefined {
  const hostname = (request as { hostname?: unknown } | undefined)?.hostname;
  if (typeof hostname !== 'string') return undefined;
  return /^[a-z0-9-]+\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$/.exec(hostname)?.[1];
}

/** A client the sandbox can attach to: any SDK v3 client. */
export interface SandboxableClient<I extends object, O extends object> {
  readonly middlewareStack: MiddlewareStack<I, O>;
  readonly config: { readonly serviceId?: string };
}

export interface AttachOptions {
  /** Caller tag for calls made outside any `withCaller` (an explicit `withCaller` wins). */
  caller?: string;
}

export class SandboxUnsupportedError extends SchedulerError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnsupportedError';
  }
}

const GATE = 'kilnSandboxGate';
const ENTRY = 'kilnSandboxEntry';
const DATE = 'kilnSandboxDate';
const PACING = 'kilnSandboxPacing';

type ExceptionClass = new (options: {
  name: string;
  $fault: 'client' | 'server';
  message: string;
  $metadata: { httpStatusCode: number; requestId?: string };
}) => Error;

interface ServiceErrors {
  readonly exception: ExceptionClass;
  /** The throttling error code the service's wire protocol carries. */
  readonly throttle: { name: string; status: number; message: string };
  readonly unavailable: { name: string; status: number; message: string };
}

// EC2 throttling: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
//   ("If you exceed an API throttling limit, you get the RequestLimitExceeded error code"); it is
//   listed among the common client errors (400 series):
//   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
// ELB: https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html says
//   "ThrottlingException ... Rate exceeded"; the Query protocol (ELBv2, Auto Scaling, CloudWatch)
//   carries the code `Throttling`. Both names are in the SDK's throttling list, so retries match.
// Auto Scaling common errors (ThrottlingException 400, ServiceUnavailable 503):
//   https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html
const QUERY_THROTTLE = { name: 'Throttling', status: 400, message: 'Rate exceeded' };
const JSON_THROTTLE = { name: 'ThrottlingException', status: 400, message: 'Rate exceeded' };
const UNAVAILABLE = {
  name: 'ServiceUnavailable',
  status: 503,
  message: 'Service is unavailable. Please try again.',
};
const SERVICE_ERRORS: Record<string, ServiceErrors> = {
  EC2: {
    exception: EC2ServiceException,
    throttle: { name: 'RequestLimitExceeded', status: 400, message: 'Request limit exceeded.' },
    unavailable: {
      name: 'Unavailable',
      status: 503,
      message: 'The server is overloaded and cannot handle the request.',
    },
  },
  'Auto Scaling': {
    exception: AutoScalingServiceException,
    throttle: QUERY_THROTTLE,
    unavailable: UNAVAILABLE,
  },
  'Elastic Load Balancing v2': {
    exception: ElasticLoadBalancingV2ServiceException,
    throttle: QUERY_THROTTLE,
    unavailable: UNAVAILABLE,
  },
  CloudWatch: { exception: CloudWatchServiceException, throttle: QUERY_THROTTLE, unavailable: UNAVAILABLE },
  SSM: { exception: SSMServiceException, throttle: JSON_THROTTLE, unavailable: UNAVAILABLE },
  SFN: { exception: SFNServiceException, throttle: JSON_THROTTLE, unavailable: UNAVAILABLE },
  // SNS (Query protocol) throttles with Throttled (HTTP 429) and fails with InternalError (500):
  // https://docs.aws.amazon.com/sns/latest/api/API_Publish.html#API_Publish_Errors
  SNS: {
    exception: SNSServiceException,
    throttle: { name: 'Throttled', status: 429, message: 'Rate exceeded' },
    unavailable: { name: 'InternalError', status: 500, message: 'Internal error' },
  },
  // SQS (JSON protocol) and EventBridge throttle with ThrottlingException; Lambda with
  // TooManyRequestsException (429) and fails with ServiceException (500):
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html,
  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
  SQS: { exception: SQSServiceException, throttle: JSON_THROTTLE, unavailable: UNAVAILABLE },
  EventBridge: {
    exception: EventBridgeServiceException,
    throttle: JSON_THROTTLE,
    unavailable: { name: 'InternalException', status: 500, message: 'Internal error' },
  },
  Lambda: {
    exception: LambdaServiceException,
    throttle: { name: 'TooManyRequestsException', status: 429, message: 'Rate Exceeded.' },
    unavailable: { name: 'ServiceException', status: 500, message: 'Internal error' },
  },
  DynamoDB: {
    exception: DynamoDBServiceException,
    throttle: JSON_THROTTLE,
    unavailable: { name: 'InternalServerError', status: 500, message: 'Internal server error' },
  },
};

/** The error the service returns when a caller exceeds its request rate. */
export function throttlingError(serviceId: string, requestId?: string): Error {
  return serviceError(serviceId, 'throttle', requestId);
}

/** A 5xx the service may return on a bad day. */
export function unavailableError(serviceId: string, requestId?: string): Error {
  return serviceError(serviceId, 'unavailable', requestId);
}

function serviceError(serviceId: string, kind: 'throttle' | 'unavailable', requestId?: string): Error {
  const spec = SERVICE_ERRORS[serviceId];
  if (spec === undefined) throw new SandboxUnsupportedError(`no error model for service '${serviceId}'`);
  const shape = spec[kind];
  return new spec.exception({
    name: shape.name,
    $fault: shape.status >= 500 ? 'server' : 'client',
    message: shape.message,
    $metadata:
      requestId === undefined
        ? { httpStatusCode: shape.status }
        : { httpStatusCode: shape.status, requestId },
  });
}

/**
 * Why a simulated call failed on purpose rather than through a bug: an injected fault (`--fault`)
 * or an enforced request rate limit. Whoever catches the SDK's final error can ask with
 * `simulatedFailureOf(error)`: a run then reports the failure as a failed check (exit 1), while any
 * other error stays a bug (exit 2).
 */
export interface SimulatedFailure {
  readonly service: string;
  readonly operation: string;
  /** e.g. `injected api-5xx@0.2`, `throttled by the simulated request rate limit`. */
  readonly cause: string;
}

// Keyed by the error object itself: the SDK's retry middleware rethrows the last attempt's error
// as it is (adding `$metadata.attempts`), so the mark reaches the caller.
const simulatedFailures = new WeakMap<object, SimulatedFailure>();

function markSimulated(error: Error, failure: SimulatedFailure): Error {
  simulatedFailures.set(error, failure);
  return error;
}

/** The mark `attachSandbox` put on an error it threw on purpose; undefined for any other error. */
export function simulatedFailureOf(error: unknown): SimulatedFailure | undefined {
  return typeof error === 'object' && error !== null ? simulatedFailures.get(error) : undefined;
}

function isLoopback(request: unknown): boolean {
  if (typeof request !== 'object' || request === null || !('hostname' in request)) return false;
  const { hostname } = request;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '::1' || hostname === '[::1]';
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * Attaches the sandbox middlewares to an SDK v3 client (idempotent).
 * Works for clients built anywhere, including a handler's module-scope clients.
 */
export function attachSandbox<I extends object, O extends object>(
  client: SandboxableClient<I, O>,
  runtime: SandboxRuntime,
  options: AttachOptions = {},
): void {
  const serviceId = client.config.serviceId;
  if (typeof serviceId !== 'string' || serviceId === '') {
    throw new SandboxUnsupportedError(
      'attachSandbox: the client has no config.serviceId; pass an AWS SDK v3 client',
    );
  }
  const stack = client.middlewareStack;
  if (stack.identify().some((line) => line.startsWith(GATE))) return;

  const tickets = new WeakMap<HandlerExecutionContext, CallTicket>();
  /** Calls whose ReturnConsumedCapacity the meter added (the caller did not ask for it). */
  const meteredOnly = new WeakSet<HandlerExecutionContext>();
  const operationOf = (context: HandlerExecutionContext): string =>
    (context.commandName ?? 'Unknown').replace(/Command$/, '');

  stack.add(
    (next: InitializeHandler<I, O>, context: HandlerExecutionContext) =>
      async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
        const ticket = runtime.scheduler.begin(serviceId, operationOf(context), options.caller);
        tickets.set(context, ticket);
        try {
          const meter = serviceId === 'DynamoDB' ? runtime.dynamoMeter : undefined;
          const input = args.input as Record<string, unknown>;
          if (meter?.meters(ticket.operation) === true && input.ReturnConsumedCapacity === undefined) {
            // Asked for the metering only (sandbox/core/metering.ts); removed from the answer below.
            meteredOnly.add(context);
            return await next({ ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } });
          }
          return await next(args);
        } finally {
          runtime.scheduler.end(ticket);
        }
      },
    { step: 'initialize', priority: 'high', name: ENTRY },
  );

  // Just outside the retry strategy: from here the call may wait on virtual time before its first
  // attempt (adaptive retries pace themselves), so the scheduler must let the clock move.
  stack.addRelativeTo(
    (next: FinalizeHandler<I, O>, context: HandlerExecutionContext) =>
      async (args: FinalizeHandlerArguments<I>): Promise<FinalizeHandlerOutput<O>> => {
        const ticket = tickets.get(context);
        if (ticket !== undefined) runtime.scheduler.pacing(ticket);
        return next(args);
      },
    { relation: 'before', toMiddleware: 'retryMiddleware', name: PACING },
  );

  stack.addRelativeTo(
    (next: FinalizeHandler<I, O>, context: HandlerExecutionContext) =>
      async (args: FinalizeHandlerArguments<I>): Promise<FinalizeHandlerOutput<O>> => {
        const ticket = tickets.get(context);
        if (ticket === undefined)
          throw new SchedulerError(`${serviceId}: call reached the gate without a ticket`);
        const release = await runtime.scheduler.admit(ticket);
        const operation = ticket.operation;
        countInvocationCall(serviceId);
        const record = (error?: unknown): void =>
          runtime.timeline.record({
            kind: 'api',
            service: serviceId,
            operation,
            caller: ticket.caller,
            ok: error === undefined,
            ...(error === undefined ? {} : { error: errorName(error) }),
          });
        try {
          const requestId = runtime.requestId();
          const failure = (cause: string): SimulatedFailure => ({ service: serviceId, operation, cause });
          const throttled = runtime.faults.strike('throttle', `${serviceId}:${operation}`);
          if (throttled !== undefined) {
            throw markSimulated(throttlingError(serviceId, requestId), failure(`injected ${throttled.rule}`));
          }
          const unavailable = runtime.faults.strike('api-5xx', `${serviceId}:${operation}`);
          if (unavailable !== undefined) {
            throw markSimulated(
              unavailableError(serviceId, requestId),
              failure(`injected ${unavailable.rule}`),
            );
          }
          if (!runtime.admitsRate(serviceId, operation, args.input)) {
            throw markSimulated(
              throttlingError(serviceId, requestId),
              failure('throttled by the simulated request rate limit'),
            );
          }
          const service = runtime.serviceFor(serviceId, regionOf(args.request));
          let result: FinalizeHandlerOutput<O>;
          if (service !== undefined) {
            const output = await service.handle(operation, args.input);
            const $metadata = { httpStatusCode: 200, requestId, attempts: 1 };
            // The SDK's types cannot know a service's output; the SimService contract promises its shape.
            result = { output: { ...output, $metadata } as unknown as O, response: {} };
          } else if (serviceId === 'DynamoDB') {
            if (runtime.dynamoEndpoint === undefined || !isLoopback(args.request)) {
              throw new SandboxUnsupportedError(
                `DynamoDB.${operation} by '${ticket.caller}' is not pointed at the sandbox's dynalite ` +
                  '(use engine.clientsFor(...) or give the client the engine endpoint)',
              );
            }
            result = await next(args);
            const meter = runtime.dynamoMeter;
            if (meter !== undefined) {
              const output: unknown = result.output;
              meter.record(runtime.now(), ticket.caller, operation, args.input, output);
              if (meteredOnly.has(context) && typeof output === 'object' && output !== null) {
                delete (output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
              }
            }
          } else {
            throw new SandboxUnsupportedError(
              `${serviceId}.${operation} by '${ticket.caller}': no simulated service is registered for ` +
                `'${serviceId}' (engine.register(service))`,
            );
          }
          record();
          return result;
        } catch (error) {
          if (serviceId === 'DynamoDB' && errorName(error) === 'ConditionalCheckFailedException') {
            runtime.dynamoMeter?.recordConditionFailed(runtime.now(), ticket.caller, operation, args.input);
          }
          record(error);
          throw error;
        } finally {
          release();
        }
      },
    // Just before the SigV4 signer: an answer from a simulated service needs no signature (nothing
    // here checks one), and signing every request was a twentieth of a story's CPU. DynamoDB's
    // requests pass on through the signer to dynalite as before.
    { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: GATE },
  );

  stack.add(
    (next: DeserializeHandler<I, O>) =>
      async (args: DeserializeHandlerArguments<I>): Promise<DeserializeHandlerOutput<O>> => {
        const result = await next(args);
        const response: unknown = result.response;
        if (typeof response === 'object' && response !== null && 'headers' in response) {
          const headers: unknown = response.headers;
          if (typeof headers === 'object' && headers !== null) {
            Object.assign(headers, { date: new Date(runtime.now()).toUTCString() });
          }
        }
        return result;
      },
    { step: 'deserialize', priority: 'low', name: DATE },
  );
}

export interface SandboxClients {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudWatch: CloudWatchClient;
  readonly ssm: SSMClient;
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly lambda: LambdaClient;
  readonly dynamodb: DynamoDBClient;
  /** Shares the `dynamodb` client's middleware stack. */
  readonly doc: DynamoDBDocumentClient;
  /** Closes the clients' HTTP agents. */
  destroy(): void;
}

/** Static dummy credentials: no provider chain, no IMDS lookups that would wait on the fake clock. */
const CREDENTIALS = { accessKeyId: 'SANDBOXACCESSKEY', secretAccessKey: 'sandbox-secret-key' };

/** SDK client settings a sandbox actor may change: how it retries. */
export interface SandboxClientConfig {
  readonly maxAttempts?: number;
  readonly retryMode?: 'standard' | 'adaptive';
  /** Clients for another Region (its simulated services must be registered there). */
  readonly region?: string;
}

/**
 * How an operator's own tooling talks to AWS (the platform team's scripts, `kiln services apply`
 * from a shell that sets `AWS_RETRY_MODE=adaptive` and `AWS_MAX_ATTEMPTS=10`): adaptive retries,
 * which add client-side rate limiting to standard mode and may delay a first attempt, and more
 * attempts than the default three.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 * Kiln's functions keep the SDK's defaults, as production builds them.
 */
export const OPERATOR_CLIENT_CONFIG: SandboxClientConfig = { retryMode: 'adaptive', maxAttempts: 10 };

/**
 * A full set of clients wired to the sandbox, tagged `caller` unless a `withCaller` says otherwise.
 * Each client is made when first read: building one resolves its whole runtime configuration
 * (endpoint rules, retry strategy, signer, protocol), and most actors use two or three of the nine
 * (the instance-refresh story: Auto Scaling, EC2 and ELB; a function: DynamoDB and one other).
 * Making a client sends nothing, so when it is made changes nothing on the timeline.
 */
export function createSandboxClients(
  runtime: SandboxRuntime,
  caller?: string,
  config: SandboxClientConfig = {},
): SandboxClients {
  const base = { region: runtime.region, credentials: CREDENTIALS, ...config };
  const options: AttachOptions = caller === undefined ? {} : { caller };
  const made: Array<{ destroy(): void }> = [];
  // `attach` is given per client so that attachSandbox infers each client's own input/output types.
  const lazy = <C extends { destroy(): void }>(make: () => C, attach: (client: C) => void): (() => C) => {
    let client: C | undefined;
    return () => {
      if (client === undefined) {
        client = make();
        attach(client);
        made.push(client);
      }
      return client;
    };
  };
  const ec2 = lazy(
    () => new EC2Client(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const autoScaling = lazy(
    () => new AutoScalingClient(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const elbv2 = lazy(
    () => new ElasticLoadBalancingV2Client(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const cloudWatch = lazy(
    () => new CloudWatchClient(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const ssm = lazy(
    () => new SSMClient(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const sfn = lazy(
    () => new SFNClient(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const sqs = lazy(
    () => new SQSClient(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const sns = lazy(
    () => new SNSClient(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const lambda = lazy(
    () => new LambdaClient(base),
    (c) => attachSandbox(c, runtime, options),
  );
  const dynamodb = lazy(
    () =>
      new DynamoDBClient(
        runtime.dynamoEndpoint === undefined
          ? base
          : {
              ...base,
              endpoint: runtime.dynamoEndpoint,
              ...(runtime.dynamoRequestHandler === undefined
                ? {}
                : { requestHandler: runtime.dynamoRequestHandler }),
            },
      ),
    (c) => attachSandbox(c, runtime, options),
  );
  let doc: DynamoDBDocumentClient | undefined;
  return {
    get ec2() {
      return ec2();
    },
    get autoScaling() {
      return autoScaling();
    },
    get elbv2() {
      return elbv2();
    },
    get cloudWatch() {
      return cloudWatch();
    },
    get ssm() {
      return ssm();
    },
    get sfn() {
      return sfn();
    },
    get sqs() {
      return sqs();
    },
    get sns() {
      return sns();
    },
    get lambda() {
      return lambda();
    },
    get dynamodb() {
      return dynamodb();
    },
    get doc() {
      // Built as production builds it (shared/runtime/clients.ts), so values translate the same way.
      return (doc ??= documentClientFor(dynamodb()));
    },
    destroy() {
      for (const client of made.splice(0)) client.destroy();
    },
  };
}
