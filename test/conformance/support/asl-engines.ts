/**
 * Runs one ASL file's control flow on two Step Functions engines and reports what each did, so a
 * test can assert they agree: the sandbox's engine (aws-local-stepfunctions inside StepFunctionsSim,
 * on a fake clock) and moto 5.2.1's engine (LocalStack's ASL interpreter, real threads and time).
 *
 * Task stubbing, the same way on both engines. Before the machine is created, every Task state is
 * rewritten into a callback task, `arn:aws:states:::lambda:invoke.waitForTaskToken`, whose payload
 * carries the task's effective input and its token; the harness answers each call from a script
 * (per state: the n-th call's result or named error) with SendTaskSuccess / SendTaskFailure. Both
 * engines then run the very same definition text. Why callbacks and not the other options:
 * - moto's Lambda needs Docker to run code; its Docker-less backend (`{"lambda": {"use_docker":
 *   false}}`) echoes the payload or pops one global queue of results
 *   (`/moto-api/static/lambda-simple/response`), cannot raise an error, and its one queue is shared
 *   by concurrent Parallel/Map branches. It is still used: the callback task's Lambda call lands there.
 * - Activity tasks would be ideal (input in, any output or named error back), but moto's engine
 *   runs executions with an empty activity store (moto/stepfunctions/parser/models.py,
 *   `activity_store={}`): every activity task fails with States.Runtime.
 * - moto's LocalStack mock-config (`StateMachineArn#TestCase`) is stubbed out in moto
 *   (`load_mock_test_case_for` always finds nothing).
 * A callback task keeps what the deploy machine's control flow depends on: the state's InputPath,
 * Parameters, ResultSelector, ResultPath, OutputPath, Retry (matched on the scripted error name),
 * Catch, TimeoutSeconds and HeartbeatSeconds all stay on the state.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 *
 * Time: moto's Wait states and Retry intervals sleep in real time and moto refuses IntervalSeconds
 * below 1, so on both engines Wait states become `Seconds: 0` and retriers `IntervalSeconds: 1,
 * BackoffRate: 1` (no MaxDelaySeconds / JitterStrategy). Attempt counts, and so the states taken,
 * are unchanged; only the pauses between them shrink.
 *
 * moto departures the harness works around (moto 5.2.1):
 * - StartExecution deep-copies the state machine, which holds the whole backend; once an execution
 *   that used a callback exists the copy fails on a thread lock ("cannot pickle '_thread.RLock'").
 *   So every moto run resets moto and creates its machine afresh: one execution per reset.
 * - SendTaskFailure drops `cause` (moto/stepfunctions/responses.py passes only `error`), so scripted
 *   errors carry no cause, and the Catch's `{Error, Cause}` is compared by Error only.
 * - SendTaskFailure refuses error names starting `States.` (the execution fails with States.Runtime
 *   "Custom Error Names MUST NOT begin with the prefix 'States.'"), so a task timeout cannot be
 *   scripted: a wait's TimeoutSeconds → poll path (deploy.asl.json's Catch on States.Timeout) is
 *   not run here. Letting the real TimeoutSeconds fire would cost its full length in real time.
 * - A retried callback task keeps its first attempt's task token, and the token keeps its first
 *   answer (execute_state.py evaluates Retry inside one `_eval_body`, where the token is made). AWS
 *   gives every attempt its own token. So after a stubbed task fails, the harness sends the next
 *   attempt's scripted answer ahead, during the retry interval (1 s), and counts it when the retry
 *   is scheduled. A deploy machine that retries its own callback waits cannot be judged on moto.
 * - StopExecution marks the program stopped but leaves a waiting callback task waiting (and the
 *   execution RUNNING) until the task is answered or times out; and it drops the `error` and
 *   `cause` it is given (moto/stepfunctions/models.py passes `error="", cause=""`). So a scripted
 *   stop answers the waiting task right after StopExecution (moto then records one TaskSucceeded
 *   that AWS would not: `awsEstimate` leaves it out), and an aborted run's error is not compared.
 * - A task with HeartbeatSeconds looks at its answer only when a heartbeat arrives or the heartbeat
 *   interval ends (state_task_service_callback.py, `_wait_for_task_token_heartbeat`), and the heartbeat
 *   endpoint is made after TaskScheduled: an answer sent in between waits out HeartbeatSeconds (600 s
 *   in the sample) under load. So an answered task still open after a second gets a SendTaskHeartbeat.
 *   It changes no history: moto records no event for a heartbeat.
 * - The engine calls Lambda at `http://localhost:$MOTO_PORT` (default 5000), so moto_server must be
 *   started with MOTO_PORT set to its own port (global-setup.cjs and .ci/run do).
 */
import '../../../sandbox/core/polyfills';
import FakeTimers from '@sinonjs/fake-timers';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { createTestContext, SANDBOX_EPOCH } from '../../../sandbox/core/testing';
import { StepFunctionsSim } from '../../../sandbox/services/stepfunctions';
import { motoClientConfig, motoEndpoint, resetMoto } from '../moto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * What one call of a stubbed task does: return a result, or fail with a named error (no cause, and
 * no `States.*` name: see above).
 */
export type Outcome =
  | { return: Json }
  | { throw: string }
  /** Leaves the task unanswered and stops the execution (StopExecution), as `kiln abort` does. */
  | { stop: { error: string; cause: string } };

/** Per state name: the outcomes of its 1st, 2nd, … call, or a function of the call's input (for Map). */
export type TaskScript = Record<string, Outcome[] | ((input: Json, call: number) => Outcome)>;

export interface AslPath {
  /** Execution name (the same on both engines, so `$$.Execution.*` agree). */
  name: string;
  input: Json;
  script: TaskScript;
}

/** How a Task state's result is shaped when its stub answers. */
type TaskKind =
  /** `arn:aws:lambda:…:function:…`: the function's result as is. */
  | 'lambda'
  /** `arn:aws:states:::lambda:invoke`: wrapped as the optimized integration does (see StepFunctionsSim). */
  | 'lambda-invoke'
  /** An original `.waitForTaskToken` task: the script's result is what SendTaskSuccess sends. */
  | 'callback'
  /** Any other resource (aws-sdk:…): the script's result as is. */
  | 'other';

interface StubbedTask {
  state: string;
  kind: TaskKind;
  /** The Lambda function the rewritten task calls; it names the state on both engines. */
  functionName: string;
  /** Where the task token sits in the Lambda payload. */
  tokenPath: string[];
}

export interface PreparedMachine {
  name: string;
  /** The definition both engines run (after substitutions and rewrites). */
  definition: JsonObject;
  tasks: Map<string, StubbedTask>;
  /** Names of the top-level states (their order is compared exactly; nested ones as a multiset). */
  topLevel: Set<string>;
}

export interface EngineRun {
  engine: 'local' | 'moto';
  status: string;
  output?: Json;
  error?: string;
  /** The execution's `cause` when it failed (compared where no task error reaches it: moto drops those). */
  cause?: string;
  /** Every state entered, in order. */
  states: string[];
  /** Each stubbed task's effective inputs, call by call. */
  taskInputs: Record<string, Json[]>;
  /** moto only: GetExecutionHistory events, in total and by type. */
  historyEvents?: number;
  historyByType?: Record<string, number>;
  /**
   * moto only: `historyEvents` less the TaskSubmitted events the stubbing adds. A Lambda task on
   * AWS records LambdaFunctionScheduled, -Started, -Succeeded/-Failed (3 events); its stand-in here,
   * a `lambda:invoke.waitForTaskToken` task, records TaskScheduled, -Started, -Submitted,
   * -Succeeded/-Failed (4). Tasks that are callbacks in the original keep theirs.
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
   */
  awsEstimate?: number;
}

const STUB_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:kiln-conformance-stub-';
const CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every state (with its name), including those inside Parallel branches and Map processors. */
function* allStates(machine: JsonObject): Generator<[string, JsonObject]> {
  const states = machine.States;
  if (!isObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    yield [name, state];
    const nested = [
      state.ItemProcessor,
      state.Iterator,
      ...(Array.isArray(state.Branches) ? state.Branches : []),
    ];
    for (const child of nested) if (isObject(child)) yield* allStates(child);
  }
}

/** The key path of the `"name.$": "$$.Task.Token"` entry in a payload template. */
function findTokenPath(template: Json, path: string[] = []): string[] | undefined {
  if (!isObject(template)) return undefined;
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && value === '$$.Task.Token') return [...path, key.slice(0, -2)];
    const found = findTokenPath(value, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

function at(value: Json | undefined, path: string[]): Json | undefined {
  let current = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return current;
}

function kindOf(resource: string): TaskKind {
  if (resource.endsWith('.waitForTaskToken')) {
    if (resource !== CALLBACK) {
      throw new Error(`only lambda:invoke.waitForTaskToken callbacks can be stubbed, not ${resource}`);
    }
    return 'callback';
  }
  if (resource === 'arn:aws:states:::lambda:invoke') return 'lambda-invoke';
  if (resource.startsWith('arn:aws:lambda:')) return 'lambda';
  return 'other';
}

/**
 * Applies DefinitionSubstitutions (`${Name}`, as CloudFormation does) and the rewrites described at
 * the top of this file. Refuses a definition whose state names repeat (scripts are keyed by name).
 */
export function prepareMachine(
  name: string,
  text: string,
  substitutions: Record<string, string>,
): PreparedMachine {
  const substituted = text.replace(/\$\{(\w+)\}/g, (match, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new Error(`${name}: no substitution for ${match}`);
    return value;
  });
  const definition = JSON.parse(substituted) as JsonObject;
  const tasks = new Map<string, StubbedTask>();
  const seen = new Set<string>();
  for (const [stateName, state] of allStates(definition)) {
    if (seen.has(stateName)) throw new Error(`${name}: state name ${stateName} is used twice`);
    seen.add(stateName);
    if (state.Type === 'Wait') {
      for (const key of ['SecondsPath', 'Timestamp', 'TimestampPath']) delete state[key];
      state.Seconds = 0;
    }
    for (const retrier of Array.isArray(state.Retry) ? state.Retry : []) {
      if (!isObject(retrier)) continue;
      retrier.IntervalSeconds = 1;
      retrier.BackoffRate = 1;
      delete retrier.MaxDelaySeconds;
      delete retrier.JitterStrategy;
    }
    if (state.Type !== 'Task') continue;
    const kind = kindOf(String(state.Resource ?? ''));
    const functionName = `${STUB_PREFIX}${tasks.size + 1}`;
    if (kind === 'callback') {
      const parameters = isObject(state.Parameters) ? state.Parameters : {};
      const tokenPath = findTokenPath(parameters.Payload ?? null);
      if (!tokenPath)
        throw new Error(`${name}: callback state ${stateName} passes no $$.Task.Token in its Payload`);
      state.Parameters = { ...parameters, FunctionName: functionName };
      tasks.set(stateName, { state: stateName, kind, functionName, tokenPath });
      continue;
    }
    const input: JsonObject =
      state.Parameters === undefined ? { 'input.$': '$' } : { input: state.Parameters };
    state.Resource = CALLBACK;
    state.Parameters = { FunctionName: functionName, Payload: { 'taskToken.$': '$$.Task.Token', ...input } };
    tasks.set(stateName, { state: stateName, kind, functionName, tokenPath: ['taskToken'] });
  }
  const topLevel = new Set(isObject(definition.States) ? Object.keys(definition.States) : []);
  return { name, definition, tasks, topLevel };
}

/** The stub's side of one task call: what to send back for it. */
interface Answer {
  token: string;
  outcome: Outcome;
}

/** Keeps per-state call counts and inputs; turns a call's Lambda payload into the scripted answer. */
class Stubs {
  readonly inputs: Record<string, Json[]> = {};
  private readonly byFunction = new Map<string, StubbedTask>();

  constructor(
    machine: PreparedMachine,
    private readonly script: TaskScript,
  ) {
    for (const task of machine.tasks.values()) this.byFunction.set(bareName(task.functionName), task);
  }

  /** `functionName` as an ARN (moto's history) or a bare name (the sandbox's Lambda call). */
  answer(functionName: string, payload: Json): Answer {
    const answer = this.peek(functionName, payload);
    (this.inputs[answer.state] ??= []).push(answer.input);
    return answer;
  }

  /** What the original task was, for the Lambda function standing in for it. */
  kindOf(functionName: string): TaskKind | undefined {
    return this.byFunction.get(bareName(functionName))?.kind;
  }

  /** The answer the next call with this payload would get, without counting the call. */
  peek(functionName: string, payload: Json): Answer & { state: string; input: Json } {
    const task = this.byFunction.get(bareName(functionName));
    if (!task) throw new Error(`a task called ${functionName}, which no state stands behind`);
    const token = at(payload, task.tokenPath);
    if (typeof token !== 'string') throw new Error(`state ${task.state}: no task token in its payload`);
    const input =
      task.kind === 'callback' ? withoutPath(payload, task.tokenPath) : (at(payload, ['input']) ?? null);
    const call = (this.inputs[task.state]?.length ?? 0) + 1;
    const entry = this.script[task.state];
    const outcome = typeof entry === 'function' ? entry(input, call) : entry?.[call - 1];
    if (!outcome) throw new Error(`the script has no outcome for call ${call} of state ${task.state}`);
    if ('throw' in outcome && outcome.throw.startsWith('States.')) {
      // moto's SendTaskFailure refuses them ("Custom Error Names MUST NOT begin with the prefix
      // 'States.'"), so a timeout or heartbeat loss cannot be scripted by name.
      throw new Error(`state ${task.state}: a script cannot throw ${outcome.throw} (a States.* name)`);
    }
    if ('return' in outcome && task.kind === 'lambda-invoke') {
      // The shape StepFunctionsSim gives lambda:invoke results (the optimized integration's).
      const wrapped = { ExecutedVersion: '$LATEST', Payload: outcome.return, StatusCode: 200 };
      return { state: task.state, input, token, outcome: { return: wrapped } };
    }
    return { state: task.state, input, token, outcome };
  }
}

function bareName(functionName: string): string {
  return /function:([^:]+)/.exec(functionName)?.[1] ?? functionName;
}

function withoutPath(value: Json, path: string[]): Json {
  if (!isObject(value) || path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: JsonObject = { ...value };
  if (rest.length === 0) delete copy[head];
  else if (copy[head] !== undefined) copy[head] = withoutPath(copy[head], rest);
  return copy;
}

function parse(text: string | undefined): Json | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as Json);
}

/** Runs one path on the sandbox's engine, on a fake clock installed for the run's duration. */
export async function runLocal(machine: PreparedMachine, path: AslPath): Promise<EngineRun> {
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: SANDBOX_EPOCH,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
  try {
    const ctx = createTestContext(1, 'us-east-1', clock);
    const stubs = new Stubs(machine, path.script);
    const calls: Array<{ functionName: string; payload: Json }> = [];
    const sfn = new StepFunctionsSim(ctx, {
      runAs: (_caller, fn) => fn(),
      invokeFunction: async (functionName, payload) => {
        calls.push({ functionName, payload: payload as Json });
        return null;
      },
    });
    const arn = sfn.createStateMachine({
      name: machine.name,
      definition: JSON.stringify(machine.definition),
      substitutions: {},
    });
    const { executionArn } = (await sfn.handle('StartExecution', {
      stateMachineArn: arn,
      name: path.name,
      input: JSON.stringify(path.input),
    })) as { executionArn: string };
    for (let step = 0; ; step++) {
      if (step > 10_000) throw new Error(`local engine: ${path.name} did not finish in 10,000 steps`);
      for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      const call = calls.shift();
      if (call) {
        const { token, outcome } = stubs.answer(call.functionName, call.payload);
        if ('stop' in outcome) {
          await sfn.handle('StopExecution', { executionArn, ...outcome.stop });
        } else {
          await sfn.handle(
            'return' in outcome ? 'SendTaskSuccess' : 'SendTaskFailure',
            'return' in outcome
              ? { taskToken: token, output: JSON.stringify(outcome.return) }
              : { taskToken: token, error: outcome.throw },
          );
        }
        continue;
      }
      if (sfn.execution(executionArn)?.status !== 'RUNNING') break;
      if (clock.countTimers() === 0)
        throw new Error(`local engine: ${path.name} is stuck (no call, no timer)`);
      clock.next();
    }
    const record = sfn.execution(executionArn);
    const states = ctx.entries.flatMap((entry) =>
      entry.kind === 'state' && entry.resource === `${executionArn}#state` ? [String(entry.to)] : [],
    );
    return {
      engine: 'local',
      status: record?.status ?? 'UNKNOWN',
      ...(record?.output !== undefined ? { output: parse(record.output) as Json } : {}),
      ...(record?.error !== undefined ? { error: record.error } : {}),
      ...(record?.cause !== undefined ? { cause: record.cause } : {}),
      states,
      taskInputs: stubs.inputs,
    };
  } finally {
    clock.uninstall();
  }
}

async function history(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * Tells moto to execute state machines and to answer Lambda calls without Docker. The settings are
 * process-wide in moto_server and survive /moto-api/reset.
 */
export async function configureMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint()}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true }, lambda: { use_docker: false } }),
  });
  if (!response.ok) throw new Error(`moto config failed: HTTP ${response.status}`);
}

/** Puts moto's settings back to its defaults, so other conformance files see the moto they expect. */
export async function restoreMotoDefaults(): Promise<void> {
  await fetch(`${motoEndpoint()}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ stepfunctions: { execute_state_machine: false }, lambda: { use_docker: true } }),
  });
}

const MOTO_DEADLINE_MS = 60_000;

async function send(sfn: SFNClient, executionArn: string, token: string, outcome: Outcome): Promise<void> {
  if ('stop' in outcome) {
    await sfn.send(new StopExecutionCommand({ executionArn, ...outcome.stop }));
    // moto's StopExecution only marks the program stopped; a callback task keeps waiting (and the
    // execution RUNNING) until it is answered or times out. The answer lets moto see the stop.
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: 'null' }));
  } else if ('return' in outcome) {
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(outcome.return) }));
  } else {
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: outcome.throw }));
  }
}

/** The TaskScheduled event a task's later event (TaskFailed) belongs to, through previousEventId. */
function scheduledBefore(byId: Map<number, HistoryEvent>, event: HistoryEvent): HistoryEvent | undefined {
  let current: HistoryEvent | undefined = event;
  for (let hops = 0; current && hops < 10; hops++) {
    if (current.type === 'TaskScheduled') return current;
    current = byId.get(current.previousEventId ?? -1);
  }
  return undefined;
}

/** Runs one path on moto's engine (after a reset: see the top of this file) and counts its history. */
export async function runMoto(machine: PreparedMachine, path: AslPath): Promise<EngineRun> {
  await resetMoto();
  const sfn = new SFNClient(motoClientConfig());
  try {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: machine.name,
        definition: JSON.stringify(machine.definition),
        roleArn: 'arn:aws:iam::123456789012:role/kiln-conformance-states',
      }),
    );
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: path.name, input: JSON.stringify(path.input) }),
    );
    const stubs = new Stubs(machine, path.script);
    const seen = new Set<number>();
    // Tokens whose next attempt's answer was sent ahead (see retries on moto, at the top of this file).
    const sentAhead = new Set<string>();
    // Tasks answered after StopExecution only so that moto notices the stop (see the top of this file).
    let answeredAfterStop = 0;
    // Answered tasks not closed yet (scheduled event id → token, last answer or nudge), for the
    // heartbeat race at the top of this file.
    const open = new Map<number, { token: string; at: number }>();
    const started = Date.now();
    for (;;) {
      const events = await history(sfn, executionArn);
      const byId = new Map(events.map((event) => [event.id ?? -1, event]));
      for (const event of events) {
        if (seen.has(event.id ?? -1)) continue;
        if (event.type === 'TaskScheduled') {
          seen.add(event.id ?? -1);
          const parameters = parse(event.taskScheduledEventDetails?.parameters) ?? null;
          const functionName = String(at(parameters, ['FunctionName']) ?? '');
          const { token, outcome } = stubs.answer(functionName, at(parameters, ['Payload']) ?? null);
          if ('stop' in outcome) answeredAfterStop++;
          else open.set(event.id ?? -1, { token, at: Date.now() });
          if (sentAhead.delete(token)) continue;
          await send(sfn, executionArn, token, outcome);
        } else if (event.type === 'TaskSucceeded' || event.type === 'TaskTimedOut') {
          seen.add(event.id ?? -1);
          open.delete(scheduledBefore(byId, event)?.id ?? -1);
        } else if (event.type === 'TaskFailed') {
          seen.add(event.id ?? -1);
          const scheduled = scheduledBefore(byId, event);
          open.delete(scheduled?.id ?? -1);
          const parameters = parse(scheduled?.taskScheduledEventDetails?.parameters) ?? null;
          let next: Answer;
          try {
            next = stubs.peek(
              String(at(parameters, ['FunctionName']) ?? ''),
              at(parameters, ['Payload']) ?? null,
            );
          } catch {
            continue; // no further call scripted: if the engine retries, answer() reports it
          }
          sentAhead.add(next.token);
          await send(sfn, executionArn, next.token, next.outcome);
        }
      }
      for (const task of open.values()) {
        if (Date.now() - task.at < 1000) continue;
        task.at = Date.now();
        // A heartbeat makes a HeartbeatSeconds task look at the answer it already holds; a task that
        // closed meanwhile answers TaskTimedOut / InvalidToken, which changes nothing.
        await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.token })).catch(() => undefined);
      }
      const lambdaUnreachable = events.find(
        (event) => event.type === 'TaskFailed' && /connect/i.test(event.taskFailedEventDetails?.cause ?? ''),
      );
      if (lambdaUnreachable) {
        throw new Error(
          `moto's engine could not reach moto's Lambda: start moto_server with MOTO_PORT set to its own port ` +
            `(${lambdaUnreachable.taskFailedEventDetails?.cause ?? ''})`,
        );
      }
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== 'RUNNING') {
        const final = await history(sfn, executionArn);
        const byType: Record<string, number> = {};
        for (const event of final) byType[event.type ?? '?'] = (byType[event.type ?? '?'] ?? 0) + 1;
        const finalById = new Map(final.map((event) => [event.id ?? -1, event]));
        const added = final.filter((event) => {
          if (event.type !== 'TaskSubmitted') return false;
          const parameters = parse(scheduledBefore(finalById, event)?.taskScheduledEventDetails?.parameters);
          return stubs.kindOf(String(at(parameters ?? null, ['FunctionName']) ?? '')) !== 'callback';
        }).length;
        return {
          engine: 'moto',
          status: execution.status ?? 'UNKNOWN',
          ...(execution.output !== undefined ? { output: parse(execution.output) as Json } : {}),
          ...(execution.error !== undefined ? { error: execution.error } : {}),
          ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
          states: final
            .filter((event) => event.type?.endsWith('StateEntered'))
            .map((event) => event.stateEnteredEventDetails?.name ?? '?'),
          taskInputs: stubs.inputs,
          historyEvents: final.length,
          historyByType: byType,
          awsEstimate: final.length - added - answeredAfterStop,
        };
      }
      if (Date.now() - started > MOTO_DEADLINE_MS) {
        throw new Error(`moto engine: ${path.name} still RUNNING after ${MOTO_DEADLINE_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    sfn.destroy();
  }
}

/**
 * What two runs are compared on: the final status, output and error name; the order of top-level
 * states; every state entered, as a multiset (Parallel branches and Map iterations interleave
 * differently on each engine); each task's inputs, call by call (sorted for states inside a Map or
 * Parallel, whose calls race). `Cause` is dropped from outputs (moto loses it; see above).
 */
export function comparable(machine: PreparedMachine, run: EngineRun) {
  const nested = (state: string) => !machine.topLevel.has(state);
  const taskInputs: Record<string, string[]> = {};
  for (const [state, inputs] of Object.entries(run.taskInputs)) {
    const texts = inputs.map((input) => JSON.stringify(dropCause(input)));
    taskInputs[state] = nested(state) ? texts.sort() : texts;
  }
  return {
    status: run.status,
    output: run.output === undefined ? null : dropCause(run.output),
    // moto's StopExecution drops the error and cause it is given (see the top of this file).
    error: run.status === 'ABORTED' ? null : (run.error ?? null),
    path: run.states.filter((state) => !nested(state)),
    statesEntered: [...run.states].sort(),
    taskInputs,
  };
}

function dropCause(value: Json): Json {
  if (Array.isArray(value)) return value.map(dropCause);
  if (!isObject(value)) return value;
  const copy: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === 'Cause' && typeof value.Error === 'string') continue;
    copy[key] = dropCause(item);
  }
  return copy;
}

/** Runs `path` on both engines, the sandbox's first. */
export async function runOnBothEngines(
  machine: PreparedMachine,
  path: AslPath,
): Promise<{ local: EngineRun; moto: EngineRun }> {
  const local = await runLocal(machine, path);
  const moto = await runMoto(machine, path);
  return { local, moto };
}
