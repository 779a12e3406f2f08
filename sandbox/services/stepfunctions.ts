/**
 * The simulated Step Functions service. Executions run Kiln's real ASL files with
 * aws-local-stepfunctions; Task states call the real handlers through the simulated Lambda;
 * Wait states, Retry intervals and task timeouts run on the virtual clock (the runner uses the
 * global timers, which the sandbox fakes).
 *
 * Where the local runner differs from AWS, this layer brings it back in line (each is tested):
 * - Task states without TimeoutSeconds get no timeout, as on AWS (whose default is 99999999 s),
 *   instead of the runner's 60 s. The runner arms one Node timer, which cannot exceed 2^31−1 ms
 *   (24.8 days; larger values fire after 1 ms), so that is the stand-in: far beyond any Kiln wait.
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
 * - `arn:aws:states:::lambda:invoke` results are wrapped in `{ Payload, StatusCode, ExecutedVersion }`
 *   as the optimized integration does. https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
 * - `.waitForTaskToken` tasks get a fresh task token each time (`$$.Task.Token`), wait for
 *   SendTaskSuccess/SendTaskFailure, and honour HeartbeatSeconds via SendTaskHeartbeat.
 *   https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 * - A Task's `TimeoutSecondsPath` is read from the state input, as on AWS ("provide a timeout
 *   value dynamically from the state input using a reference path",
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html); the runner reads it
 *   from the effective input (what Parameters made), so the sandbox passes the state input along
 *   in Parameters under a reserved key (never handed to Lambda) and points the path at it.
 * - StartExecution name rules: the same name and input while the execution runs returns that
 *   execution; otherwise (different input, or a closed execution) ExecutionAlreadyExists.
 *   https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
import '../core/polyfills';
import type * as LocalStepFunctions from 'aws-local-stepfunctions';
import type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  StateMachineDoesNotExist,
  TaskTimedOut,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
  type ListExecutionsCommandInput,
  type SendTaskFailureCommandInput,
  type SendTaskHeartbeatCommandInput,
  type SendTaskSuccessCommandInput,
  type StartExecutionCommandInput,
  type StopExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import type { SimContext, SimService, TimerHandle } from '../core/context';
import { dispatch, operation, type OperationTable } from './shared';

let localStepFunctionsModule: typeof LocalStepFunctions | undefined;

/**
 * Definitions (as JSON) the runner has already validated in this process. Validating is a pure
 * function of the definition, and it costs a few hundred ms of asl-validator's JSON schemas per
 * machine, every time a region is made: a test file making twenty regions with the same deploy
 * state machine paid it twenty times. An invalid definition is never added, so it fails every time.
 */
const validDefinitions = new Set<string>();

/**
 * aws-local-stepfunctions, loaded when a state machine first runs: with asl-validator, ajv and
 * jsonata it took a tenth of the CPU of a 300-instance refresh story, which runs no machine.
 */
function localStepFunctions(): typeof LocalStepFunctions {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
  localStepFunctionsModule ??= require('aws-local-stepfunctions') as typeof LocalStepFunctions;
  return localStepFunctionsModule;
}

/** Stand-in for AWS's default Task timeout: the longest a Node timer can wait (2^31−1 ms). */
export const AWS_DEFAULT_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const TASK_TOKEN_PLACEHOLDER = '__kiln_sandbox_task_token__';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface SfnSimOptions {
  /** Invokes a Lambda function synchronously (the simulated Lambda). */
  invokeFunction: (functionName: string, payload: unknown) => Promise<unknown>;
  /** Runs `fn` tagged as `caller` for the timeline. */
  runAs: <T>(caller: string, fn: () => Promise<T>) => Promise<T>;
}

export interface StateMachineSpec {
  name: string;
  /** The ASL text as committed, with `${Name}` placeholders. */
  definition: string;
  /** CloudFormation DefinitionSubstitutions. */
  substitutions: Record<string, string>;
}

interface MachineRecord {
  arn: string;
  name: string;
  /** Built on the first execution (see createStateMachine). */
  runner?: StateMachine;
  definition: JsonObject;
}

interface ExecutionRecord {
  arn: string;
  name: string;
  machine: MachineRecord;
  input: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  abort?: () => void;
  /** State transitions (StateEntered events), the figure AWS bills and Kiln keeps small. */
  transitions: number;
  /**
   * Retry attempts (StateRetried events). AWS bills "each retry … as an additional state
   * transition" (https://aws.amazon.com/step-functions/pricing/), so the bill is both together.
   */
  retries: number;
  /** Settles when the execution closes. */
  done: Promise<void>;
}

interface Waiter {
  executionArn: string;
  stateName: string;
  resolve: (output: Json) => void;
  reject: (error: Error) => void;
  heartbeatSeconds?: number;
  heartbeatTimer?: TimerHandle;
  timeoutTimer?: TimerHandle;
}

/** An error as Step Functions reports it (`Error` + `Cause`), matched by Retry/Catch on its name. */
class StatesTaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

function sfnError<E extends Error>(
  Ctor: new (opts: { message: string; $metadata: object }) => E,
  message: string,
): E {
  return new Ctor({ message, $metadata: { httpStatusCode: 400 } });
}

/** Execution names: 1–80 characters, none of the characters the API reference forbids. */
// eslint-disable-next-line no-control-regex -- AWS forbids control characters in names; matching them is the point.
const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

export class StepFunctionsSim implements SimService {
  readonly serviceId = 'SFN';
  private readonly machines = new Map<string, MachineRecord>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly closedTokens = new Set<string>();
  private tokenCounter = 0;

  constructor(
    private readonly ctx: SimContext,
    private readonly options: SfnSimOptions,
  ) {}

  /** Deploys a state machine, as CloudFormation would from serverless.yml. Returns its ARN. */
  createStateMachine(spec: StateMachineSpec): string {
    const text = spec.definition.replace(/\$\{(\w+)\}/g, (match, key: string) => {
      const value = spec.substitutions[key];
      if (value === undefined) throw new Error(`state machine ${spec.name}: no substitution for ${match}`);
      return value;
    });
    const definition = JSON.parse(text) as JsonObject;
    applyAwsTaskDefaults(definition);
    readTimeoutPathsFromStateInput(definition);
    const arn = `arn:aws:states:${this.ctx.region}:${this.ctx.accountId}:stateMachine:${spec.name}`;
    // The runner is built when the machine first runs, not here: building it validates the
    // definition, which compiles asl-validator's JSON schema afresh each time (0.3–1 s of CPU per
    // machine, a fifth of a 300-instance refresh story that starts no execution). The definitions
    // are Kiln's own; an invalid one is refused by the first StartExecution, naming the machine.
    this.machines.set(arn, { arn, name: spec.name, definition });
    return arn;
  }

  private runnerOf(machine: MachineRecord): StateMachine {
    if (machine.runner === undefined) {
      const text = JSON.stringify(machine.definition);
      try {
        machine.runner = new (localStepFunctions().StateMachine)(
          machine.definition as unknown as StateMachineDefinition,
          {
            validationOptions: validDefinitions.has(text) ? { noValidate: true } : { checkArn: false },
          },
        );
        validDefinitions.add(text);
      } catch (error) {
        throw new Error(
          `state machine ${machine.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    return machine.runner;
  }

  /** Executions still running (the sandbox waits for them before it ends a story). */
  running(): ExecutionRecord[] {
    return [...this.executions.values()].filter((e) => e.status === 'RUNNING');
  }

  execution(arn: string): ExecutionRecord | undefined {
    return this.executions.get(arn);
  }

  handle(operation: string, input: unknown): Promise<object> {
    return dispatch(
      this.operations,
      operation,
      input,
      (name) => new Error(`the sandbox's Step Functions does not implement ${name}`),
    );
  }

  /** Every operation the sandbox's Step Functions answers. */
  private readonly operations: OperationTable = {
    StartExecution: operation((input: StartExecutionCommandInput) => this.startExecution(input)),
    DescribeExecution: operation((input: { executionArn?: string }) =>
      this.describeExecution(input.executionArn),
    ),
    StopExecution: operation((input: StopExecutionCommandInput) => this.stopExecution(input)),
    ListExecutions: operation((input: ListExecutionsCommandInput) => this.listExecutions(input)),
    SendTaskSuccess: operation((input: SendTaskSuccessCommandInput) => this.sendTaskSuccess(input)),
    SendTaskFailure: operation((input: SendTaskFailureCommandInput) => this.sendTaskFailure(input)),
    SendTaskHeartbeat: operation((input: SendTaskHeartbeatCommandInput) => this.sendTaskHeartbeat(input)),
  };

  private startExecution(input: StartExecutionCommandInput): object {
    const machine = this.machines.get(input.stateMachineArn ?? '');
    if (!input.stateMachineArn?.startsWith('arn:aws:states:')) {
      throw sfnError(InvalidArn, `Invalid Arn: '${input.stateMachineArn ?? ''}'`);
    }
    if (!machine)
      throw sfnError(StateMachineDoesNotExist, `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    const runner = this.runnerOf(machine);
    const name = input.name ?? this.ctx.ids.uuid();
    if (name.length < 1 || name.length > 80 || INVALID_NAME.test(name)) {
      throw sfnError(InvalidName, `Invalid Name: '${name}'`);
    }
    const rawInput = input.input ?? '{}';
    let parsed: Json;
    try {
      parsed = JSON.parse(rawInput) as Json;
    } catch {
      throw sfnError(InvalidExecutionInput, `Invalid State Machine Execution Input: '${rawInput}'`);
    }
    const arn = `arn:aws:states:${this.ctx.region}:${this.ctx.accountId}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === rawInput) {
        return { executionArn: arn, startDate: new Date(existing.startDate) };
      }
      throw sfnError(ExecutionAlreadyExists, `Execution Already Exists: '${arn}'`);
    }
    const record: ExecutionRecord = {
      arn,
      name,
      machine,
      input: rawInput,
      status: 'RUNNING',
      startDate: this.ctx.clock.now(),
      transitions: 0,
      retries: 0,
      done: Promise.resolve(),
    };
    this.executions.set(arn, record);
    this.ctx.timeline.record({ kind: 'state', resource: arn, from: null, to: 'RUNNING' });
    this.emitStatus(record);
    record.done = this.options.runAs(`sfn:${machine.name}/${name}`, () => this.run(record, runner, parsed));
    return { executionArn: arn, startDate: new Date(record.startDate) };
  }

  private async run(record: ExecutionRecord, runner: StateMachine, input: Json): Promise<void> {
    const execution = runner.run(input, {
      overrides: { taskResourceLocalHandlers: this.taskHandlers(record) },
      context: {
        Execution: {
          Id: record.arn,
          Name: record.name,
          Input: input,
          StartTime: new Date(record.startDate).toISOString(),
          RoleArn: `arn:aws:iam::${this.ctx.accountId}:role/kiln-sandbox-states`,
        },
        StateMachine: { Id: record.machine.arn, Name: record.machine.name },
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    });
    record.abort = execution.abort;
    const counting = (async () => {
      let previous: string | null = null;
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') {
          record.transitions++;
          this.ctx.timeline.record({
            kind: 'state',
            resource: `${record.arn}#state`,
            from: previous,
            to: event.state.name,
          });
          previous = event.state.name;
        } else if (event.type === 'StateRetried') {
          record.retries++;
        }
      }
    })();
    try {
      const output = await execution.result;
      this.close(record, 'SUCCEEDED', { output: JSON.stringify(output ?? null) });
    } catch (error) {
      if (record.status !== 'RUNNING') {
        // Already closed by StopExecution.
      } else if (error instanceof localStepFunctions().ExecutionTimeoutError) {
        this.close(record, 'TIMED_OUT', { error: 'States.Timeout', cause: 'The execution timed out' });
      } else if (error instanceof localStepFunctions().ExecutionAbortedError) {
        this.close(record, 'ABORTED', {});
      } else if (error instanceof localStepFunctions().ExecutionError) {
        const cause = error.cause as { name?: string; message?: string } | undefined;
        this.close(record, 'FAILED', {
          error: cause?.name ?? 'States.Runtime',
          cause: cause?.message ?? error.message,
        });
      } else {
        const err = error as Error;
        this.close(record, 'FAILED', { error: err.name, cause: err.message });
      }
    }
    await counting.catch(() => undefined);
  }

  private close(
    record: ExecutionRecord,
    status: ExecutionStatus,
    result: { output?: string; error?: string; cause?: string },
  ): void {
    if (record.status !== 'RUNNING') return;
    const from = record.status;
    record.status = status;
    record.stopDate = this.ctx.clock.now();
    if (result.output !== undefined) record.output = result.output;
    if (result.error !== undefined) record.error = result.error;
    if (result.cause !== undefined) record.cause = result.cause;
    for (const [token, waiter] of this.waiters) {
      if (waiter.executionArn === record.arn) this.retireToken(token, waiter);
    }
    this.ctx.timeline.record({ kind: 'state', resource: record.arn, from, to: status });
    this.emitStatus(record);
  }

  /** "Step Functions Execution Status Change" events, as EventBridge receives them. */
  private emitStatus(record: ExecutionRecord): void {
    this.ctx.emit({
      source: 'aws.states',
      detailType: 'Step Functions Execution Status Change',
      resources: [record.arn],
      detail: {
        executionArn: record.arn,
        stateMachineArn: record.machine.arn,
        name: record.name,
        status: record.status,
        startDate: record.startDate,
        stopDate: record.stopDate ?? null,
        input: record.input,
        output: record.output ?? null,
        error: record.error ?? null,
        cause: record.cause ?? null,
      },
    });
  }

  private taskHandlers(record: ExecutionRecord): Record<string, (input: Json) => Promise<Json>> {
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, state] of allStates(record.machine.definition)) {
      if (state.Type !== 'Task') continue;
      handlers[stateName] = (input) => this.runTask(record, stateName, state, input);
    }
    return handlers;
  }

  /**
   * Invokes a Task's function. A runtime that crashed or ran out of time (Lambda's own
   * `Runtime.*`/`Sandbox.Timedout` error types) reaches the state machine as `Lambda.Unknown`:
   * "Unhandled errors in Lambda are reported as Lambda.Unknown in the error output. These include
   * out-of-memory errors and function timeouts."
   * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
   */
  private async invokeForTask(functionName: string, payload: unknown): Promise<unknown> {
    try {
      return await this.options.invokeFunction(functionName, payload);
    } catch (error) {
      if (error instanceof Error && /^(Runtime\.|Sandbox\.Timedout$)/.test(error.name)) {
        throw new StatesTaskError('Lambda.Unknown', `${error.name}: ${error.message}`);
      }
      throw error;
    }
  }

  private async runTask(
    record: ExecutionRecord,
    stateName: string,
    state: JsonObject,
    input: Json,
  ): Promise<Json> {
    const resource = String(state.Resource ?? '');
    if (resource.startsWith('arn:aws:lambda:')) {
      return (await this.invokeForTask(functionNameOf(resource), input)) as Json;
    }
    if (resource === 'arn:aws:states:::lambda:invoke') {
      const { FunctionName, Payload } = lambdaParameters(stateName, input);
      const result = (await this.invokeForTask(FunctionName, Payload)) as Json;
      return { ExecutedVersion: '$LATEST', Payload: result ?? null, StatusCode: 200 };
    }
    if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      const token = this.newToken(record);
      const withToken = replaceDeep(input, TASK_TOKEN_PLACEHOLDER, token);
      const { FunctionName, Payload } = lambdaParameters(stateName, withToken);
      const waiting = this.waitForToken(token, record, stateName, state);
      try {
        await this.invokeForTask(FunctionName, Payload);
      } catch (error) {
        this.retireToken(token, this.waiters.get(token));
        throw error;
      }
      return waiting;
    }
    throw new StatesTaskError(
      'States.Runtime',
      `the sandbox does not run Task resource ${resource} (state ${stateName})`,
    );
  }

  private newToken(record: ExecutionRecord): string {
    // Opaque like AWS's; unique per task attempt; derived from the seed-driven counter.
    return Buffer.from(`${record.arn}#${++this.tokenCounter}#${this.ctx.ids.uuid()}`).toString('base64url');
  }

  private waitForToken(
    token: string,
    record: ExecutionRecord,
    stateName: string,
    state: JsonObject,
  ): Promise<Json> {
    return new Promise<Json>((resolve, reject) => {
      const waiter: Waiter = { executionArn: record.arn, stateName, resolve, reject };
      if (typeof state.HeartbeatSeconds === 'number') waiter.heartbeatSeconds = state.HeartbeatSeconds;
      this.waiters.set(token, waiter);
      this.armHeartbeat(token, waiter);
      // The runner enforces TimeoutSeconds itself; this timer retires the token at the same moment
      // so a late SendTaskSuccess gets TaskTimedOut, as on AWS.
      const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
      if (timeoutSeconds !== undefined && timeoutSeconds < AWS_DEFAULT_TASK_TIMEOUT_SECONDS) {
        waiter.timeoutTimer = this.ctx.clock.setTimeout(() => {
          this.retireToken(token, waiter);
          reject(new StatesTaskError('States.Timeout', `Task ${stateName} timed out`));
        }, timeoutSeconds * 1000);
      }
    });
  }

  private armHeartbeat(token: string, waiter: Waiter): void {
    if (waiter.heartbeatTimer) this.ctx.clock.clearTimeout(waiter.heartbeatTimer);
    if (waiter.heartbeatSeconds === undefined) return;
    waiter.heartbeatTimer = this.ctx.clock.setTimeout(() => {
      this.retireToken(token, waiter);
      waiter.reject(
        new StatesTaskError('States.HeartbeatTimeout', `Task ${waiter.stateName} missed its heartbeat`),
      );
    }, waiter.heartbeatSeconds * 1000);
  }

  private retireToken(token: string, waiter: Waiter | undefined): void {
    if (waiter?.heartbeatTimer) this.ctx.clock.clearTimeout(waiter.heartbeatTimer);
    if (waiter?.timeoutTimer) this.ctx.clock.clearTimeout(waiter.timeoutTimer);
    this.waiters.delete(token);
    this.closedTokens.add(token);
  }

  private takeWaiter(taskToken: string | undefined): { token: string; waiter: Waiter } {
    const token = taskToken ?? '';
    const waiter = this.waiters.get(token);
    if (waiter) return { token, waiter };
    if (this.closedTokens.has(token)) {
      throw sfnError(
        TaskTimedOut,
        'Task Timed Out: the task token has expired or its task is already closed',
      );
    }
    throw sfnError(InvalidToken, `Invalid Token: '${token.slice(0, 40)}'`);
  }

  private sendTaskSuccess(input: SendTaskSuccessCommandInput): object {
    const { token, waiter } = this.takeWaiter(input.taskToken);
    let output: Json;
    try {
      output = JSON.parse(input.output ?? '') as Json;
    } catch {
      throw new StatesTaskError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
    }
    this.retireToken(token, waiter);
    waiter.resolve(output);
    return {};
  }

  private sendTaskFailure(input: SendTaskFailureCommandInput): object {
    const { token, waiter } = this.takeWaiter(input.taskToken);
    this.retireToken(token, waiter);
    waiter.reject(new StatesTaskError(input.error ?? 'States.TaskFailed', input.cause ?? ''));
    return {};
  }

  private sendTaskHeartbeat(input: SendTaskHeartbeatCommandInput): object {
    const { token, waiter } = this.takeWaiter(input.taskToken);
    this.armHeartbeat(token, waiter);
    return {};
  }

  private describeExecution(
    executionArn: string | undefined,
  ): Omit<DescribeExecutionCommandOutput, '$metadata'> {
    const record = this.executions.get(executionArn ?? '');
    if (!record) throw sfnError(ExecutionDoesNotExist, `Execution Does Not Exist: '${executionArn ?? ''}'`);
    return {
      executionArn: record.arn,
      stateMachineArn: record.machine.arn,
      name: record.name,
      status: record.status,
      startDate: new Date(record.startDate),
      ...(record.stopDate !== undefined ? { stopDate: new Date(record.stopDate) } : {}),
      input: record.input,
      inputDetails: { included: true },
      ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
      ...(record.cause !== undefined ? { cause: record.cause } : {}),
    };
  }

  private stopExecution(input: StopExecutionCommandInput): object {
    const record = this.executions.get(input.executionArn ?? '');
    if (!record)
      throw sfnError(ExecutionDoesNotExist, `Execution Does Not Exist: '${input.executionArn ?? ''}'`);
    if (record.status === 'RUNNING') {
      this.close(record, 'ABORTED', {
        ...(input.error !== undefined ? { error: input.error } : {}),
        ...(input.cause !== undefined ? { cause: input.cause } : {}),
      });
      record.abort?.();
    }
    return { stopDate: new Date(record.stopDate ?? this.ctx.clock.now()) };
  }

  private listExecutions(input: ListExecutionsCommandInput): object {
    const all = [...this.executions.values()]
      .filter((e) => !input.stateMachineArn || e.machine.arn === input.stateMachineArn)
      .filter((e) => !input.statusFilter || e.status === input.statusFilter)
      .sort((a, b) => b.startDate - a.startDate);
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const size = input.maxResults && input.maxResults > 0 ? input.maxResults : 100;
    const page = all.slice(start, start + size);
    return {
      executions: page.map((e) => ({
        executionArn: e.arn,
        stateMachineArn: e.machine.arn,
        name: e.name,
        status: e.status,
        startDate: new Date(e.startDate),
        ...(e.stopDate !== undefined ? { stopDate: new Date(e.stopDate) } : {}),
      })),
      ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
    };
  }
}

/** Every state in the machine, including those inside Parallel branches and Map processors. */
function* allStates(definition: JsonObject): Generator<[string, JsonObject]> {
  const states = definition.States;
  if (!states || typeof states !== 'object' || Array.isArray(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!state || typeof state !== 'object' || Array.isArray(state)) continue;
    yield [name, state];
    const nested = [
      state.ItemProcessor,
      state.Iterator,
      ...(Array.isArray(state.Branches) ? state.Branches : []),
    ];
    for (const child of nested) {
      if (child && typeof child === 'object' && !Array.isArray(child)) yield* allStates(child);
    }
  }
}

function applyAwsTaskDefaults(definition: JsonObject): void {
  for (const [, state] of allStates(definition)) {
    if (
      state.Type === 'Task' &&
      state.TimeoutSeconds === undefined &&
      state.TimeoutSecondsPath === undefined
    ) {
      state.TimeoutSeconds = AWS_DEFAULT_TASK_TIMEOUT_SECONDS;
    }
  }
}

/** The reserved Parameters key carrying the state input to the runner (see the file comment). */
const STATE_INPUT_KEY = 'sandboxStateInput';

function readTimeoutPathsFromStateInput(definition: JsonObject): void {
  for (const [, state] of allStates(definition)) {
    const path = state.TimeoutSecondsPath;
    const parameters = state.Parameters;
    if (state.Type !== 'Task' || typeof path !== 'string' || !path.startsWith('$')) continue;
    // Only where the sandbox builds the Lambda request itself (lambdaParameters drops the key).
    if (typeof state.Resource !== 'string' || !state.Resource.startsWith('arn:aws:states:::lambda:invoke'))
      continue;
    if (!parameters || typeof parameters !== 'object' || Array.isArray(parameters)) continue;
    parameters[`${STATE_INPUT_KEY}.$`] = '$';
    state.TimeoutSecondsPath = `$.${STATE_INPUT_KEY}${path.slice(1)}`;
  }
}

function functionNameOf(arnOrName: string): string {
  const match = /function:([^:]+)/.exec(arnOrName);
  return match?.[1] ?? arnOrName;
}

function lambdaParameters(stateName: string, input: Json): { FunctionName: string; Payload: Json } {
  if (!input || typeof input !== 'object' || Array.isArray(input) || typeof input.FunctionName !== 'string') {
    throw new StatesTaskError(
      'States.Runtime',
      `state ${stateName}: lambda:invoke needs Parameters.FunctionName`,
    );
  }
  return { FunctionName: functionNameOf(input.FunctionName), Payload: input.Payload ?? null };
}

function replaceDeep(value: Json, needle: string, replacement: string): Json {
  if (value === needle) return replacement;
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, needle, replacement));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, replaceDeep(v, needle, replacement)]),
    );
  }
  return value;
}
