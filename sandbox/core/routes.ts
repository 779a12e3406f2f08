/**
 * Reads Kiln's serverless.yml (Serverless Framework v3 syntax, as osls deploys it) and returns what
 * the sandbox needs to route like AWS would: each function's handler module and export, its
 * EventBridge patterns, its schedules and its HTTP API routes. The sandbox never keeps its own
 * copy of a pattern: serverless.yml is the one source of truth.
 *
 * Variables are resolved minimally and only where this module reads (service, provider, custom
 * through `${self:...}`, and functions): `${self:...}`, `${sls:stage}`, `${aws:region}`,
 * `${aws:accountId}`, `${opt:...}`, `${env:...}`, `${param:...}` (options, then the stage's
 * `params` entry, then `params.default`), each with `, default` fallbacks. In event patterns,
 * `!Split [delimiter, text]` is evaluated as CloudFormation would. Other CloudFormation
 * intrinsics (`!Ref`, `!GetAtt`, ...) and other sources (`${file(...)}`, `${ssm:...}`) may appear
 * elsewhere, e.g. in resources or IAM statements; they are parsed and left alone. Reaching one
 * from a value we need is an error that names the field.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { CollectionTag, ScalarTag, YAMLMap, YAMLSeq } from 'yaml';
import { AwsCron, CronExpressionError } from './cron';
import { validatePattern } from './event-pattern';
import type { EventPattern } from './event-pattern';
import { prebuiltServerlessYaml } from './serverless-prebuilt';

export interface RouteOptions {
  /** `--stage`; defaults to provider.stage, then 'dev'. */
  stage?: string;
  /** `--region`; defaults to provider.region, then 'us-east-1'. */
  region?: string;
  accountId?: string;
  /** Other `${opt:name}` values. */
  options?: Record<string, string>;
  /** `${env:NAME}` values; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** `--param name=value` values (win over serverless.yml's `params`). */
  params?: Record<string, string>;
}

export interface HandlerRef {
  /** Module path relative to the serverless.yml folder, without extension (e.g. functions/on-artifact). */
  modulePath: string;
  exportName: string;
}

export interface FunctionDefinition {
  /** The key under `functions:` (e.g. onArtifact). */
  functionName: string;
  /** The Lambda name: `name:` or `<service>-<stage>-<key>` (the framework's default). */
  deployedName: string;
  handler: HandlerRef;
  /** Asynchronous invocation settings (`maximumRetryAttempts`, `destinations.onFailure`). */
  async: {
    maximumRetryAttempts?: number;
    maximumEventAgeSeconds?: number;
    /** The logical id of the AWS::SQS::Queue that receives failed invocation records. */
    onFailureQueue?: string;
  };
  reservedConcurrency?: number;
}

/** A target's retry policy (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html). */
export interface RuleRetryPolicy {
  maximumEventAgeSeconds?: number;
  maximumRetryAttempts?: number;
}

export interface EventBridgeRoute {
  functionName: string;
  pattern: EventPattern;
  ruleName?: string;
  eventBus: string;
  enabled: boolean;
  retryPolicy?: RuleRetryPolicy;
  /** The logical id of the AWS::SQS::Queue named by `deadLetterQueueArn: !GetAtt <Queue>.Arn`. */
  deadLetterQueue?: string;
}

/** An AWS::SQS::Queue from `resources`. */
export interface QueueDefinition {
  logicalId: string;
  /** QueueName, or the logical id when none is given. */
  name: string;
  messageRetentionSeconds?: number;
  sqsManagedSse: boolean;
}

export interface ScheduleRoute {
  functionName: string;
  expression: string;
  /** Milliseconds between runs for rate expressions; null for cron expressions. */
  rateMs: number | null;
  /** The parsed expression for cron expressions (when it fires next); null for rate expressions. */
  cron: AwsCron | null;
  enabled: boolean;
}

export interface HttpRoute {
  functionName: string;
  /** Upper case, or '*' for any method. */
  method: string;
  path: string;
}

/**
 * A native AWS::StepFunctions::StateMachine from `resources`, as serverless.yml deploys it:
 * `Definition: ${file(./statemachines/x.asl.json)}` plus DefinitionSubstitutions.
 */
export interface StateMachineDefinitionRoute {
  logicalId: string;
  /** StateMachineName, or the logical id when none is given. */
  name: string;
  /** The ASL file, relative to the serverless.yml folder. */
  definitionFile: string;
  /** Each substitution is a function's ARN (`!GetAtt <Fn>LambdaFunction.Arn`) or a plain value. */
  substitutions: Record<string, { functionName: string } | { value: string }>;
}

export interface Routes {
  service: string;
  stage: string;
  region: string;
  functions: FunctionDefinition[];
  eventBridge: EventBridgeRoute[];
  schedules: ScheduleRoute[];
  http: HttpRoute[];
  stateMachines: StateMachineDefinitionRoute[];
  queues: QueueDefinition[];
  /**
   * `custom.deployStateMachineName`: the deploy state machine's name, from which serverless.yml
   * builds the ARN on-artifact starts (KILN_DEPLOY_STATE_MACHINE_ARN, IAM); the sandbox builds it
   * the same way.
   */
  deployStateMachineName?: string;
}

/**
 * The logical id the framework gives a function's AWS::Lambda::Function: the key with its first
 * letter upper-cased, '-' as 'Dash' and '_' as 'Underscore', then 'LambdaFunction'
 * (https://www.serverless.com/framework/docs/providers/aws/guide/resources#aws-cloudformation-resource-reference).
 */
export function lambdaLogicalId(functionKey: string): string {
  const normalized = functionKey.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

/** serverless.yml says something this reader cannot use; `field` is the dotted path. */
export class RoutesError extends Error {
  override readonly name = 'RoutesError';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`serverless.yml ${field}: ${message}`, options);
  }
}

// CloudFormation's short-form intrinsics, kept as their long form so YAML parses without warnings
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
const INTRINSICS = [
  'Ref',
  'Condition',
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
];

const intrinsicTags: Array<ScalarTag | CollectionTag> = INTRINSICS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const scalar: ScalarTag = { tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) };
  const seq: CollectionTag = {
    tag: `!${name}`,
    collection: 'seq',
    resolve: (value: YAMLSeq.Parsed | YAMLMap.Parsed) => ({ [key]: value.toJSON() }),
  };
  const map: CollectionTag = { ...seq, collection: 'map' };
  return [scalar, seq, map];
});

type Doc = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MAX_DEPTH = 10;

/** A CloudFormation pseudo parameter as !Sub writes it: `${AWS::Region}`. */
const CFN_PSEUDO = /^AWS::[A-Za-z]+$/;

/** Resolves `${...}` variables inside values taken from the document. */
class Resolver {
  stage = 'dev';
  region = 'us-east-1';

  constructor(
    private readonly doc: Doc,
    private readonly options: RouteOptions,
  ) {}

  get accountId(): string {
    return this.options.accountId ?? '123456789012';
  }

  resolve(value: unknown, field: string, depth = 0): unknown {
    if (typeof value === 'string') return this.resolveString(value, field, depth);
    if (Array.isArray(value)) return value.map((item, i) => this.resolve(item, `${field}[${i}]`, depth));
    if (isObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, this.resolve(v, `${field}.${k}`, depth)]),
      );
    }
    return value;
  }

  private resolveString(text: string, field: string, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new RoutesError(field, `variables nest too deep (a cycle?) in "${text}"`);
    // `${AWS::Region}` and its kind are CloudFormation's (inside !Sub), not the framework's: the
    // framework leaves them for CloudFormation, and so does the sandbox (evaluatePatternIntrinsics).
    const spans = findVariables(text, field).filter((span) => !CFN_PSEUDO.test(span.inner));
    if (spans.length === 0) return text;
    const only = spans[0];
    if (spans.length === 1 && only && only.start === 0 && only.end === text.length) {
      // A value that is exactly one variable keeps the referenced value's type (list, number...).
      return this.resolveVariable(only.inner, field, depth);
    }
    let out = '';
    let last = 0;
    for (const span of spans) {
      const value = this.resolveVariable(span.inner, field, depth);
      if (isObject(value) || Array.isArray(value)) {
        throw new RoutesError(field, `\${${span.inner}} is not a scalar, so it cannot be part of a string`);
      }
      out += text.slice(last, span.start) + String(value);
      last = span.end;
    }
    return out + text.slice(last);
  }

  private resolveVariable(inner: string, field: string, depth: number): unknown {
    const [reference, ...fallbacks] = splitTopLevel(inner);
    for (const candidate of [reference ?? '', ...fallbacks]) {
      const value = this.resolveCandidate(candidate.trim(), field, depth);
      if (value !== undefined) return value;
    }
    throw new RoutesError(field, `\${${inner}} has no value and no default`);
  }

  private resolveCandidate(candidate: string, field: string, depth: number): unknown {
    const quoted = /^(['"])(.*)\1$/s.exec(candidate);
    if (quoted) return quoted[2];
    if (/^-?\d+(\.\d+)?$/.test(candidate)) return Number(candidate);
    if (candidate.startsWith('${')) return this.resolveString(candidate, field, depth + 1);
    const colon = candidate.indexOf(':');
    const source = colon < 0 ? '' : candidate.slice(0, colon);
    const name = candidate.slice(colon + 1);
    switch (source) {
      case 'self': {
        let node: unknown = this.doc;
        for (const part of name.split('.')) node = isObject(node) ? node[part] : undefined;
        // `service` may also be written as `service: { name }` (framework v1 style).
        if (name === 'service' && isObject(node)) node = node.name;
        return node === undefined ? undefined : this.resolve(node, `${field} (via self:${name})`, depth + 1);
      }
      case 'sls':
        if (name === 'stage') return this.stage;
        if (name === 'instanceId') return 'sandbox';
        break;
      case 'aws':
        if (name === 'region') return this.region;
        if (name === 'accountId') return this.options.accountId ?? '123456789012';
        if (name === 'partition') return 'aws';
        break;
      case 'opt':
        if (name === 'stage') return this.options.stage;
        if (name === 'region') return this.options.region;
        return this.options.options?.[name];
      case 'env':
        return (this.options.env ?? process.env)[name];
      case 'param': {
        // https://www.serverless.com/framework/docs/guides/parameters: CLI, then stage, then default.
        const params = isObject(this.doc.params) ? this.doc.params : {};
        const forStage = params[this.stage];
        const stageParams = isObject(forStage) ? forStage : {};
        const defaults = isObject(params.default) ? params.default : {};
        const value = this.options.params?.[name] ?? stageParams[name] ?? defaults[name];
        return value === undefined || value === null
          ? undefined
          : this.resolve(value, `${field} (via param:${name})`, depth + 1);
      }
    }
    throw new RoutesError(field, `cannot resolve \${${candidate}} in the sandbox`);
  }
}

interface Span {
  start: number;
  end: number;
  inner: string;
}

/** Top-level `${...}` spans, with nested braces balanced. */
function findVariables(text: string, field: string): Span[] {
  const spans: Span[] = [];
  let i = text.indexOf('${');
  while (i >= 0) {
    let depth = 0;
    let j = i;
    for (; j < text.length; j++) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}' && --depth === 0) break;
    }
    if (j >= text.length) throw new RoutesError(field, `unclosed variable in "${text}"`);
    spans.push({ start: i, end: j + 1, inner: text.slice(i + 2, j) });
    i = text.indexOf('${', j + 1);
  }
  return spans;
}

/** Splits `opt:stage, 'dev'` at commas outside quotes and nested variables. */
function splitTopLevel(inner: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const c of inner) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

const RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * `rate(value unit)`: a positive whole number, and a singular unit exactly when the value is 1
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-rate-expressions).
 */
export function parseRateExpression(expression: string, field = 'schedule'): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match)
    throw new RoutesError(field, `"${expression}" is not a rate expression such as rate(5 minutes)`);
  const value = Number(match[1]);
  const unit = match[2] as string;
  const singular = !unit.endsWith('s');
  if (value <= 0) throw new RoutesError(field, `"${expression}" needs a positive value`);
  if (singular !== (value === 1)) {
    throw new RoutesError(field, `"${expression}": use the singular unit for 1 and the plural otherwise`);
  }
  return value * (RATE_UNITS[singular ? unit : unit.slice(0, -1)] as number);
}

function scheduleRoute(
  functionName: string,
  expression: unknown,
  enabled: boolean,
  field: string,
): ScheduleRoute {
  if (typeof expression !== 'string')
    throw new RoutesError(field, 'must be a rate(...) or cron(...) expression');
  if (expression.trim().startsWith('cron(')) {
    // Parsed here, so an expression AWS would refuse stops the region at start, naming the function.
    try {
      return { functionName, expression, rateMs: null, cron: AwsCron.parse(expression), enabled };
    } catch (error) {
      if (error instanceof CronExpressionError) throw new RoutesError(field, error.message, { cause: error });
      throw error;
    }
  }
  return { functionName, expression, rateMs: parseRateExpression(expression, field), cron: null, enabled };
}

function parseHandler(handler: unknown, field: string): HandlerRef {
  // `functions/on-artifact.handler`: module path, then the export after the last dot
  // (https://www.serverless.com/framework/docs/providers/aws/guide/functions).
  if (typeof handler !== 'string')
    throw new RoutesError(field, 'is required (e.g. functions/on-artifact.handler)');
  const dot = handler.lastIndexOf('.');
  const slash = handler.lastIndexOf('/');
  if (dot <= slash + 1 || dot === handler.length - 1) {
    throw new RoutesError(field, `"${handler}" is not <module path>.<export name>`);
  }
  return { modulePath: handler.slice(0, dot), exportName: handler.slice(dot + 1) };
}

function httpRoute(functionName: string, spec: unknown, field: string): HttpRoute {
  // `httpApi: 'POST /slack'`, `httpApi: '*'` or `{ method, path }`
  // (https://www.serverless.com/framework/docs/providers/aws/events/http-api).
  if (spec === '*') return { functionName, method: '*', path: '*' };
  if (typeof spec === 'string') {
    const match = /^(\S+)\s+(\/\S*)$/.exec(spec.trim());
    if (!match) throw new RoutesError(field, `"${spec}" is not "<METHOD> <path>"`);
    return { functionName, method: (match[1] as string).toUpperCase(), path: match[2] as string };
  }
  if (isObject(spec) && typeof spec.method === 'string' && typeof spec.path === 'string') {
    return { functionName, method: spec.method.toUpperCase(), path: spec.path };
  }
  throw new RoutesError(field, 'needs a method and a path');
}

/**
 * serverless.yml text as a plain document: intrinsic tags (`!Ref x`) become their JSON form
 * (`{ Ref: x }`). The CLI's build stores this for the project's own file (serverless-prebuilt.ts).
 */
export function parseServerlessDocument(text: string): unknown {
  return parse(text, { customTags: intrinsicTags });
}

/**
 * The last text parsed here, with its document as JSON, so that a process making many regions
 * from the same serverless.yml (a test file, a bench) parses it once: the parse was about a tenth
 * of a one-instance run's CPU each time. Like `prebuilt`, used only for exactly that text, and
 * only when the document survives JSON unchanged.
 */
let lastParsed: { readonly text: string; readonly json: string } | undefined;

function rememberParsed(text: string, doc: unknown): unknown {
  const json = JSON.stringify(doc);
  if (json !== undefined && isDeepStrictEqual(JSON.parse(json), doc)) lastParsed = { text, json };
  return doc;
}

/**
 * Parses serverless.yml text. `prebuilt` is a text with its document as JSON, computed earlier by
 * parseServerlessDocument; it stands in for the parse only when `text` is that very text.
 */
export function parseServerlessYaml(
  text: string,
  options: RouteOptions = {},
  prebuilt: { readonly text: string; readonly json: string } | undefined = prebuiltServerlessYaml,
): Routes {
  let doc: unknown;
  try {
    const known = prebuilt !== undefined && prebuilt.text === text ? prebuilt : lastParsed;
    doc = known?.text === text ? JSON.parse(known.json) : rememberParsed(text, parseServerlessDocument(text));
  } catch (error) {
    throw new RoutesError('', `is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!isObject(doc)) throw new RoutesError('', 'must be a YAML mapping');
  const resolver = new Resolver(doc, options);
  const provider = isObject(doc.provider) ? doc.provider : {};
  resolver.stage = String(options.stage ?? resolver.resolve(provider.stage ?? 'dev', 'provider.stage'));
  resolver.region = String(
    options.region ?? resolver.resolve(provider.region ?? 'us-east-1', 'provider.region'),
  );
  const service = resolver.resolve(isObject(doc.service) ? doc.service.name : doc.service, 'service');
  if (typeof service !== 'string' || service === '')
    throw new RoutesError('service', 'must name the service');

  const routes: Routes = {
    service,
    stage: resolver.stage,
    region: resolver.region,
    functions: [],
    eventBridge: [],
    schedules: [],
    http: [],
    stateMachines: [],
    queues: [],
  };
  const functions = doc.functions ?? {};
  if (!isObject(functions)) throw new RoutesError('functions', 'must be a mapping of function names');

  for (const [functionName, raw] of Object.entries(functions)) {
    const base = `functions.${functionName}`;
    if (!isObject(raw)) throw new RoutesError(base, 'must be a mapping');
    const name = raw.name === undefined ? undefined : resolver.resolve(raw.name, `${base}.name`);
    const definition: FunctionDefinition = {
      functionName,
      deployedName: typeof name === 'string' ? name : `${service}-${resolver.stage}-${functionName}`,
      handler: parseHandler(resolver.resolve(raw.handler, `${base}.handler`), `${base}.handler`),
      async: {},
    };
    readAsyncSettings(definition, raw, resolver, base);
    routes.functions.push(definition);
    const events = raw.events ?? [];
    if (!Array.isArray(events)) throw new RoutesError(`${base}.events`, 'must be a list');
    events.forEach((entry: unknown, i) => {
      const at = `${base}.events[${i}]`;
      if (!isObject(entry)) throw new RoutesError(at, 'must be a mapping such as { eventBridge: {...} }');
      const [type] = Object.keys(entry);
      const spec = entry[type as string];
      if (type === 'eventBridge') {
        addEventBridge(
          routes,
          functionName,
          resolver.resolve(spec, `${at}.eventBridge`),
          `${at}.eventBridge`,
          {
            region: resolver.region,
            accountId: resolver.accountId,
          },
        );
      } else if (type === 'schedule') {
        const resolved = resolver.resolve(spec, `${at}.schedule`);
        // `schedule: rate(1 minute)` or `{ rate: <expression or list>, enabled }`.
        const rate = isObject(resolved) ? resolved.rate : resolved;
        const enabled = !(isObject(resolved) && resolved.enabled === false);
        for (const expression of Array.isArray(rate) ? rate : [rate]) {
          routes.schedules.push(scheduleRoute(functionName, expression, enabled, `${at}.schedule`));
        }
      } else if (type === 'httpApi') {
        routes.http.push(httpRoute(functionName, resolver.resolve(spec, `${at}.httpApi`), `${at}.httpApi`));
      }
      // Other event types (sqs, s3, ...) are not routed by the sandbox yet.
    });
  }
  addStateMachines(routes, doc, resolver);
  addQueues(routes, doc, resolver);
  if (isObject(doc.custom) && doc.custom.deployStateMachineName !== undefined) {
    const name = resolver.resolve(doc.custom.deployStateMachineName, 'custom.deployStateMachineName');
    if (typeof name !== 'string' || name === '')
      throw new RoutesError('custom.deployStateMachineName', 'must be a state machine name');
    routes.deployStateMachineName = name;
  }
  return routes;
}

function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RoutesError(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** The logical id behind `!GetAtt <Id>.Arn`, or a RoutesError naming the field. */
function getAttArnTarget(value: unknown, field: string): string {
  const getAtt = isObject(value) ? value['Fn::GetAtt'] : undefined;
  const [target, attribute] = Array.isArray(getAtt) ? getAtt : String(getAtt ?? '').split('.');
  if (typeof target !== 'string' || target === '' || attribute !== 'Arn') {
    throw new RoutesError(field, 'must be !GetAtt <Queue>.Arn of a queue in this file');
  }
  return target;
}

/**
 * Lambda's asynchronous invocation settings as osls reads them: `maximumRetryAttempts` (0-2),
 * `maximumEventAge` (60-21600 s), `destinations.onFailure` (an ARN or `{ type, arn }`), and
 * `reservedConcurrency` (https://www.serverless.com/framework/docs/providers/aws/guide/functions).
 */
function readAsyncSettings(
  definition: FunctionDefinition,
  raw: Record<string, unknown>,
  resolver: Resolver,
  base: string,
): void {
  const retries = optionalInteger(
    resolver.resolve(raw.maximumRetryAttempts, `${base}.maximumRetryAttempts`),
    `${base}.maximumRetryAttempts`,
    0,
    2,
  );
  if (retries !== undefined) definition.async.maximumRetryAttempts = retries;
  const age = optionalInteger(
    resolver.resolve(raw.maximumEventAge, `${base}.maximumEventAge`),
    `${base}.maximumEventAge`,
    60,
    21_600,
  );
  if (age !== undefined) definition.async.maximumEventAgeSeconds = age;
  const concurrency = optionalInteger(
    resolver.resolve(raw.reservedConcurrency, `${base}.reservedConcurrency`),
    `${base}.reservedConcurrency`,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  if (concurrency !== undefined) definition.reservedConcurrency = concurrency;
  const destinations = resolver.resolve(raw.destinations, `${base}.destinations`);
  if (destinations === undefined) return;
  const field = `${base}.destinations.onFailure`;
  const onFailure = isObject(destinations) ? destinations.onFailure : undefined;
  if (onFailure === undefined) return;
  const arn = isObject(onFailure) && 'arn' in onFailure ? onFailure.arn : onFailure;
  definition.async.onFailureQueue = getAttArnTarget(arn, field);
}

function addQueues(routes: Routes, doc: Doc, resolver: Resolver): void {
  const resources =
    isObject(doc.resources) && isObject(doc.resources.Resources) ? doc.resources.Resources : {};
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource) || resource.Type !== 'AWS::SQS::Queue') continue;
    const base = `resources.Resources.${logicalId}.Properties`;
    const properties = isObject(resource.Properties) ? resource.Properties : {};
    const name =
      properties.QueueName === undefined
        ? logicalId
        : String(resolver.resolve(properties.QueueName, `${base}.QueueName`));
    const queue: QueueDefinition = {
      logicalId,
      name,
      sqsManagedSse: properties.SqsManagedSseEnabled === true,
    };
    const retention = optionalInteger(
      properties.MessageRetentionPeriod,
      `${base}.MessageRetentionPeriod`,
      60,
      1_209_600,
    );
    if (retention !== undefined) queue.messageRetentionSeconds = retention;
    routes.queues.push(queue);
  }
}

/**
 * Evaluates the one intrinsic event patterns use here, `Fn::Split` (a delimiter and a string,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-split.html),
 * so a pattern can list stage parameters such as `name: !Split [',', '${param:artifactBuckets}']`.
 */
function evaluatePatternIntrinsics(value: unknown, field: string, stack: StackPseudo): unknown {
  if (Array.isArray(value))
    return value.map((item, i) => evaluatePatternIntrinsics(item, `${field}[${i}]`, stack));
  if (!isObject(value)) return value;
  const sub = value['Fn::Sub'];
  if (sub !== undefined && Object.keys(value).length === 1) {
    // Only the pseudo parameters (a pattern names no resource of the stack by its logical id here).
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html
    if (typeof sub !== 'string') throw new RoutesError(field, 'Fn::Sub in a pattern must be a string');
    return sub.replace(/\$\{([^}]+)\}/g, (match, name: string) => {
      const known: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': stack.region,
        'AWS::AccountId': stack.accountId,
      };
      const resolved = known[name];
      if (resolved === undefined) throw new RoutesError(field, `cannot resolve ${match} in the sandbox`);
      return resolved;
    });
  }
  const split = value['Fn::Split'];
  if (split !== undefined && Object.keys(value).length === 1) {
    if (
      !Array.isArray(split) ||
      split.length !== 2 ||
      typeof split[0] !== 'string' ||
      typeof split[1] !== 'string'
    ) {
      throw new RoutesError(field, 'Fn::Split needs [delimiter, string]');
    }
    return split[1].split(split[0]);
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      evaluatePatternIntrinsics(item, `${field}.${key}`, stack),
    ]),
  );
}

function addStateMachines(routes: Routes, doc: Doc, resolver: Resolver): void {
  const resources =
    isObject(doc.resources) && isObject(doc.resources.Resources) ? doc.resources.Resources : {};
  const byLogicalId = new Map(routes.functions.map((f) => [lambdaLogicalId(f.functionName), f.functionName]));
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource) || resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const base = `resources.Resources.${logicalId}.Properties`;
    const properties = isObject(resource.Properties) ? resource.Properties : {};
    const file =
      typeof properties.Definition === 'string'
        ? /^\$\{file\((.+)\)\}$/.exec(properties.Definition.trim())
        : null;
    if (!file?.[1]) {
      throw new RoutesError(`${base}.Definition`, 'must be ${file(./statemachines/<name>.asl.json)}');
    }
    const substitutions: StateMachineDefinitionRoute['substitutions'] = {};
    const raw = isObject(properties.DefinitionSubstitutions) ? properties.DefinitionSubstitutions : {};
    for (const [key, value] of Object.entries(raw)) {
      const at = `${base}.DefinitionSubstitutions.${key}`;
      const getAtt = isObject(value) ? value['Fn::GetAtt'] : undefined;
      if (getAtt !== undefined) {
        const [target, attribute] = Array.isArray(getAtt) ? getAtt : String(getAtt).split('.');
        const functionName = byLogicalId.get(String(target));
        if (!functionName || attribute !== 'Arn') {
          throw new RoutesError(
            at,
            `must be !GetAtt <Function>LambdaFunction.Arn of a function in this file`,
          );
        }
        substitutions[key] = { functionName };
      } else {
        substitutions[key] = { value: String(resolver.resolve(value, at)) };
      }
    }
    const name =
      properties.StateMachineName === undefined
        ? logicalId
        : resolver.resolve(properties.StateMachineName, `${base}.StateMachineName`);
    routes.stateMachines.push({
      logicalId,
      name: String(name),
      definitionFile: file[1].trim(),
      substitutions,
    });
  }
}

/** The stack's Region and account, for the pseudo parameters of a pattern's !Sub. */
interface StackPseudo {
  region: string;
  accountId: string;
}

function addEventBridge(
  routes: Routes,
  functionName: string,
  spec: unknown,
  field: string,
  stack: StackPseudo,
): void {
  // https://www.serverless.com/framework/docs/providers/aws/events/event-bridge
  if (!isObject(spec)) throw new RoutesError(field, 'must be a mapping with a pattern or a schedule');
  const enabled = spec.enabled !== false;
  if (spec.schedule !== undefined) {
    routes.schedules.push(scheduleRoute(functionName, spec.schedule, enabled, `${field}.schedule`));
  }
  if (spec.pattern === undefined) {
    if (spec.schedule === undefined) throw new RoutesError(field, 'needs a pattern or a schedule');
    return;
  }
  const pattern = evaluatePatternIntrinsics(spec.pattern, `${field}.pattern`, stack);
  try {
    validatePattern(pattern);
  } catch (error) {
    throw new RoutesError(`${field}.pattern`, (error as Error).message, { cause: error });
  }
  const eventBus = typeof spec.eventBus === 'string' ? spec.eventBus : 'default';
  const route: EventBridgeRoute = {
    functionName,
    pattern: pattern as EventPattern,
    eventBus,
    enabled,
  };
  if (typeof spec.name === 'string') route.ruleName = spec.name;
  if (spec.retryPolicy !== undefined) {
    // osls: retryPolicy { maximumEventAge 60-86400, maximumRetryAttempts 0-185 }.
    const policy = isObject(spec.retryPolicy) ? spec.retryPolicy : {};
    const age = optionalInteger(policy.maximumEventAge, `${field}.retryPolicy.maximumEventAge`, 60, 86_400);
    const attempts = optionalInteger(
      policy.maximumRetryAttempts,
      `${field}.retryPolicy.maximumRetryAttempts`,
      0,
      185,
    );
    route.retryPolicy = {
      ...(age === undefined ? {} : { maximumEventAgeSeconds: age }),
      ...(attempts === undefined ? {} : { maximumRetryAttempts: attempts }),
    };
  }
  if (spec.deadLetterQueueArn !== undefined) {
    route.deadLetterQueue = getAttArnTarget(spec.deadLetterQueueArn, `${field}.deadLetterQueueArn`);
  }
  routes.eventBridge.push(route);
}

/** Reads and parses a serverless.yml file. */
export function loadRoutes(file: string, options: RouteOptions = {}): Routes {
  return parseServerlessYaml(readFileSync(file, 'utf8'), options);
}

/**
 * The HTTP API route for a request: exact paths, `{param}` segments and a trailing `{proxy+}`,
 * with method `*` (ANY) and the `*` catch-all route last
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html).
 */
export function matchHttpRoute(
  routes: readonly HttpRoute[],
  method: string,
  path: string,
): HttpRoute | undefined {
  const segments = path.split('/').filter(Boolean);
  const pathMatches = (routePath: string): boolean => {
    const parts = routePath.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (/^\{[^}]+\+\}$/.test(part) && i === parts.length - 1) return segments.length > i;
      const segment = segments[i];
      if (segment === undefined) return false;
      if (!/^\{[^}]+\}$/.test(part) && part !== segment) return false;
    }
    return parts.length === segments.length;
  };
  const upper = method.toUpperCase();
  const candidates = routes.filter(
    (r) => r.path !== '*' && (r.method === upper || r.method === '*') && pathMatches(r.path),
  );
  // API Gateway prefers the most specific route: exact method over ANY, literal over parameter.
  candidates.sort(
    (a, b) => Number(a.method === '*') - Number(b.method === '*') || b.path.length - a.path.length,
  );
  return candidates[0] ?? routes.find((r) => r.path === '*');
}
