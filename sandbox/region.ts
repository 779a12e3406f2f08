/**
 * A whole simulated AWS region with Kiln deployed in it: the engine (clock, scheduler, dynalite),
 * every simulated service wired to the others as AWS's are, Kiln's functions loaded from
 * serverless.yml with their EventBridge rules and schedules, and Kiln's DynamoDB table.
 *
 *   const region = await createRegion({ seed: 7 });
 *   await region.engine.run(async () => { ... use region.clientsFor('story') ... });
 *   await region.dispose();
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createTableInput } from '../shared/store/table';
import { withCaller } from './core/caller';
import { createEngine, type EngineOptions, type SandboxEngine } from './core/engine';
import type { FaultPlan } from './core/faults';
import { loadRoutes, type Routes } from './core/routes';
import { OPERATOR_CLIENT_CONFIG, type SandboxClients } from './core/sdk';
import type { BadVersion } from './fault-options';
import { sandboxFunctions, type SandboxFunctionFactory } from './functions';
import { ArtifactStores } from './services/artifact-stores';
import { AutoScalingSim } from './services/autoscaling';
import { CloudWatchSim } from './services/cloudwatch';
import { DEFAULT_APP_BEHAVIOUR, Ec2Regions, Ec2Sim } from './services/ec2';
import { Elbv2Sim } from './services/elbv2';
import { EventBridgeSim } from './services/eventbridge';
import { LambdaSim } from './services/lambda';
import { SlackWebhooks } from './services/slack-webhooks';
import { SnsSim } from './services/sns';
import { SlackResponses } from './services/slack';
import { SqsSim } from './services/sqs';
import { SsmSim } from './services/ssm';
import { startHttpApi, type RunningHttpApi } from './http-api';
import { StepFunctionsSim } from './services/stepfunctions';

export interface RegionOptions {
  seed: number;
  region?: string;
  faults?: FaultPlan;
  /** Enforce AWS's documented EC2/ELBv2 request rates. */
  rateLimits?: boolean;
  /** The serverless.yml to deploy (default: the project's own). */
  serverlessFile?: string;
  /**
   * Factories per function key, in place of Kiln's real ones (sandbox/functions.ts) for the keys
   * given; every other function is Kiln's own, so a test that stubs one function keeps working
   * when the stack gains another.
   */
  functions?: Record<string, SandboxFunctionFactory>;
  stage?: string;
  limits?: EngineOptions['limits'];
  /**
   * Application versions that misbehave once deployed (the "bad release" fault): instances booted
   * from an image tagged `kiln:version` = VERSION serve 5xx ('errors') or fail health checks.
   */
  badVersions?: BadVersion[];
  /**
   * Other Regions with a simulated EC2 (the bake copies its AMI there with CopyImage): reached by
   * clients made for them. Defaults to us-east-1, us-west-2 and eu-west-1, without this Region.
   */
  otherRegions?: string[];
  /** Where the virtual clock starts (EngineOptions.epochMs; `kiln sandbox --serve` only). */
  epochMs?: number;
  /** Meter DynamoDB request units (EngineOptions.meterDynamo; the bench's cost estimate). */
  meterDynamo?: boolean;
}

const DEFAULT_OTHER_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

export type ClientProfile = 'sdk-defaults' | 'operator';

export interface Region {
  readonly engine: SandboxEngine;
  readonly routes: Routes;
  readonly tableName: string;
  readonly ec2: Ec2Sim;
  /** EC2 in the other Regions (RegionOptions.otherRegions), by Region. */
  readonly ec2In: ReadonlyMap<string, Ec2Sim>;
  readonly ssm: SsmSim;
  readonly autoScaling: AutoScalingSim;
  readonly elbv2: Elbv2Sim;
  readonly cloudWatch: CloudWatchSim;
  readonly events: EventBridgeSim;
  /** Where CI publishes: S3 uploads and ECR pushes, announced on EventBridge. */
  readonly artifacts: ArtifactStores;
  readonly lambda: LambdaSim;
  readonly sqs: SqsSim;
  /** Topics Kiln's notifications are published to (services/sns.ts). */
  readonly sns: SnsSim;
  /** Slack's incoming webhooks, recorded (services/slack-webhooks.ts): no request leaves the machine. */
  readonly slack: SlackWebhooks;
  /** URLs of the SQS queues deployed from serverless.yml, by logical id (e.g. KilnDeadLetterQueue). */
  readonly queueUrls: ReadonlyMap<string, string>;
  readonly stepFunctions: StepFunctionsSim;
  /** ARNs of the state machines deployed from serverless.yml, by logical id. */
  readonly stateMachineArns: ReadonlyMap<string, string>;
  /** What Kiln posted back to Slack (chat's response_url answers), recorded instead of sent. */
  readonly slackResponses: SlackResponses;
  /**
   * SDK clients for one actor (the timeline names it as the caller). Kiln's own code keeps the
   * SDK's default retries ('sdk-defaults'); a story's infrastructure and polling calls are an
   * operator's tooling ('operator': adaptive retries, 10 attempts), so an injected fault shows in
   * what Kiln does rather than in the story's own scaffolding giving up.
   */
  clientsFor(caller: string, profile?: ClientProfile): SandboxClients;
  /**
   * Starts the local HTTP API (the routes of serverless.yml's httpApi events) on a loopback port.
   * Requests are real HTTP; while one is in flight the virtual clock holds still, so the timeline
   * does not depend on how fast the socket is.
   */
  startHttpApi(port?: number): Promise<SandboxHttpApi>;
  dispose(): Promise<void>;
}

/** The project root: where serverless.yml lives (works from sources and from dist/kiln.cjs). */
export function projectRoot(): string {
  const candidates = [join(__dirname, '..'), process.cwd()];
  for (const dir of candidates) {
    try {
      readFileSync(join(dir, 'serverless.yml'));
      return dir;
    } catch {
      // try the next
    }
  }
  throw new Error('cannot find serverless.yml next to the sandbox or in the working directory');
}

export interface SandboxHttpApi extends RunningHttpApi {
  /** Sends a request to the API from inside a story (holding the virtual clock while it is in flight). */
  request(
    method: string,
    path: string,
    init?: { headers?: Record<string, string>; body?: string },
  ): Promise<Response>;
}

export async function createRegion(options: RegionOptions): Promise<Region> {
  const regionName = options.region ?? 'us-east-1';
  const stage = options.stage ?? 'sandbox';
  const engine = await createEngine({
    seed: options.seed,
    region: regionName,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.rateLimits !== undefined ? { rateLimits: options.rateLimits } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.epochMs === undefined ? {} : { epochMs: options.epochMs }),
    ...(options.meterDynamo === undefined ? {} : { meterDynamo: options.meterDynamo }),
  });
  try {
    const ctx = engine.context;
    const runAs = <T>(caller: string, fn: () => Promise<T>): Promise<T> => withCaller(caller, fn);

    const ec2Regions = new Ec2Regions();
    const ec2 = new Ec2Sim(ctx, { regions: ec2Regions });
    const ec2In = new Map<string, Ec2Sim>();
    for (const other of options.otherRegions ?? DEFAULT_OTHER_REGIONS.filter((r) => r !== regionName)) {
      // Another Region's events reach that Region's EventBridge, which no Kiln rule listens on:
      // they are dropped (the timeline still shows the state changes).
      const sim = new Ec2Sim({ ...ctx, region: other, emit: () => undefined }, { regions: ec2Regions });
      ec2In.set(other, sim);
      engine.register(sim, other);
    }
    const badVersions = options.badVersions ?? [];
    if (badVersions.length > 0) {
      ec2.setBehaviourResolver((image) => {
        const bad = badVersions.find((b) => b.version === image.tags['kiln:version']);
        if (!bad) return { ...DEFAULT_APP_BEHAVIOUR };
        return { ...DEFAULT_APP_BEHAVIOUR, mode: bad.mode, errorRate: bad.mode === 'errors' ? 0.25 : 0 };
      });
    }
    const ssm = new SsmSim(ctx, ec2);
    const cloudWatch = new CloudWatchSim(ctx);
    const elbv2 = new Elbv2Sim(ctx, { ec2, metrics: cloudWatch });
    // An alarm the refresh names but CloudWatch does not have never fires (AutoScalingSim's rule).
    const autoScaling = new AutoScalingSim(ctx, ec2, elbv2, {
      alarmState: (name) => cloudWatch.alarmState(name) ?? 'INSUFFICIENT_DATA',
    });
    // An alarm's Auto Scaling actions run the group's scaling policy, as AWS wires the two.
    cloudWatch.onAutoScalingAction((policyArn, alarm) => autoScaling.runPolicy(policyArn, alarm));
    const deployedName = new Map<string, string>();
    const functionArn = (key: string): string =>
      `arn:aws:lambda:${regionName}:${engine.accountId}:function:${deployedName.get(key) ?? key}`;
    // Failed deliveries and failed async invocations land on SQS queues, as AWS's do.
    const sqs = new SqsSim(ctx);
    const sns = new SnsSim(ctx);
    const slack = new SlackWebhooks(ctx);
    const events = new EventBridgeSim(ctx, {
      sendToQueue: (queueArn, body, attributes) => sqs.sendFromService(queueArn, body, attributes),
      targetArn: functionArn,
    });
    const lambda = new LambdaSim(ctx, {
      runAs,
      holdClock: () => engine.scheduler.holdClock(),
      sendToDestination: (arn, record) => sqs.sendFromService(arn, JSON.stringify(record)),
    });
    const stepFunctions = new StepFunctionsSim(ctx, {
      runAs,
      invokeFunction: (name, payload) => lambda.invoke(name, payload),
    });
    for (const service of [ec2, ssm, cloudWatch, elbv2, autoScaling, events, stepFunctions, sqs, sns, lambda])
      engine.register(service);
    engine.onEmit((event) => {
      events.putEvent(event);
    });

    // Kiln, deployed: the table, the functions, their rules and schedules.
    const serverlessFile = options.serverlessFile ?? join(projectRoot(), 'serverless.yml');
    const routes = loadRoutes(serverlessFile, {
      stage,
      region: regionName,
      accountId: engine.accountId,
    });
    const tableName = `kiln-${stage}`;
    await engine.createTable(createTableInput(tableName));

    const queueUrls = new Map<string, string>();
    const queueArns = new Map<string, string>();
    for (const queue of routes.queues) {
      const url = sqs.createQueue(queue.name, {
        sqsManagedSse: queue.sqsManagedSse,
        ...(queue.messageRetentionSeconds === undefined
          ? {}
          : { messageRetentionSeconds: queue.messageRetentionSeconds }),
      });
      queueUrls.set(queue.logicalId, url);
      queueArns.set(queue.logicalId, `arn:aws:sqs:${regionName}:${engine.accountId}:${queue.name}`);
    }
    const queueArn = (logicalId: string | undefined): string | undefined =>
      logicalId === undefined ? undefined : queueArns.get(logicalId);

    // Filled below, once the machines exist; functions read it when they are first invoked.
    const stateMachineArns = new Map<string, string>();
    // The ARN serverless.yml gives on-artifact (custom.deployStateMachineArn): the machine of that
    // name in this region, whether or not serverless.yml deploys one (StartExecution then says so).
    const deployStateMachineArn =
      routes.deployStateMachineName === undefined
        ? undefined
        : `arn:aws:states:${regionName}:${engine.accountId}:stateMachine:${routes.deployStateMachineName}`;
    const slackResponses = new SlackResponses(ctx.timeline, () => ctx.clock.now());
    const factories = { ...sandboxFunctions, ...options.functions };
    for (const fn of routes.functions) {
      const factory = factories[fn.functionName];
      if (!factory) {
        throw new Error(
          `serverless.yml function ${fn.functionName} has no sandbox factory in sandbox/functions.ts`,
        );
      }
      deployedName.set(fn.functionName, fn.deployedName);
      lambda.register({
        name: fn.deployedName,
        key: fn.functionName,
        timeoutSeconds: 30,
        memorySizeMb: 512,
        ...(fn.async.maximumRetryAttempts === undefined
          ? {}
          : { maximumRetryAttempts: fn.async.maximumRetryAttempts }),
        ...(queueArn(fn.async.onFailureQueue) === undefined
          ? {}
          : { onFailure: queueArn(fn.async.onFailureQueue) as string }),
        load: () =>
          factory({
            clients: engine.clientsFor(`fn:${fn.functionName}`),
            ids: engine.kilnIds,
            tableName,
            region: regionName,
            stage,
            stateMachineArns,
            slack: slackResponses,
            clientsIn: (other) =>
              other === regionName
                ? engine.clientsFor(`fn:${fn.functionName}`)
                : engine.clientsFor(`fn:${fn.functionName}`, { region: other }),
            ...(deployStateMachineArn === undefined ? {} : { deployStateMachineArn }),
            postWebhook: async (url, request) => slack.receive(url, request.body, `fn:${fn.functionName}`),
          }),
      });
    }
    for (const machine of routes.stateMachines) {
      const substitutions = Object.fromEntries(
        Object.entries(machine.substitutions).map(([key, value]) => [
          key,
          'functionName' in value ? functionArn(value.functionName) : value.value,
        ]),
      );
      const definition = readFileSync(join(dirname(serverlessFile), machine.definitionFile), 'utf8');
      stateMachineArns.set(
        machine.logicalId,
        stepFunctions.createStateMachine({ name: machine.name, definition, substitutions }),
      );
    }
    events.addRoutes(routes.eventBridge, queueArn);
    events.addTarget(async (functionKey, envelope) => {
      const name = deployedName.get(functionKey);
      if (name) lambda.invokeAsync(name, envelope);
    });
    for (const schedule of routes.schedules) {
      const name = deployedName.get(schedule.functionName);
      if (!name || !schedule.enabled) continue;
      // rate(...) every rateMs from the start; cron(...) at each time it names, in UTC (routes.ts
      // has refused any expression AWS would refuse). A cron whose last time has passed (a past
      // Year) arms nothing, as a rule that never matches again.
      const { rateMs, cron } = schedule;
      const nextIn = (now: number): number | undefined => {
        if (rateMs !== null) return rateMs;
        const at = cron?.nextAfter(now);
        return at === undefined ? undefined : at - now;
      };
      const arm = (): void => {
        const delay = nextIn(ctx.clock.now());
        if (delay !== undefined) ctx.clock.setTimeout(fire, delay);
      };
      const fire = (): void => {
        lambda.invokeAsync(
          name,
          scheduledEvent(ctx.ids.uuid(), ctx.clock.now(), regionName, engine.accountId),
        );
        arm();
      };
      arm();
    }

    const httpApis: RunningHttpApi[] = [];
    // A story's requests to the HTTP API, by id: the hold on the clock while each is on the wire.
    const storyRequests = new Map<string, () => void>();
    let storyRequestCount = 0;
    return {
      engine,
      routes,
      tableName,
      ec2,
      ec2In,
      ssm,
      autoScaling,
      elbv2,
      cloudWatch,
      events,
      artifacts: new ArtifactStores(ctx),
      lambda,
      sqs,
      sns,
      slack,
      queueUrls,
      stepFunctions,
      stateMachineArns,
      slackResponses,
      clientsFor: (caller, profile = 'sdk-defaults') =>
        engine.clientsFor(caller, profile === 'operator' ? OPERATOR_CLIENT_CONFIG : {}),
      async startHttpApi(port = 0) {
        const api = await startHttpApi(
          {
            routes: routes.http.map((r) => ({
              method: r.method,
              path: r.path,
              functionName: deployedName.get(r.functionName) ?? r.functionName,
            })),
            now: () => ctx.clock.now(),
            accountId: engine.accountId,
            region: regionName,
            invoke: async (functionName, event) => {
              // The request came over real I/O the scheduler cannot see: virtual time stands still
              // until its invocation is a task the scheduler tracks (the story's own request held
              // the clock until then: `request` below). From then on the function is like any other
              // actor, its SDK calls granted and its timers virtual: held any longer, a function
              // waiting on a timer (the SDK's retry backoff) would wait for a clock that cannot move.
              // Its answer goes back over real I/O again, held until the story has it.
              const requestId = event.headers[SANDBOX_REQUEST_HEADER];
              const release = engine.scheduler.holdClock();
              try {
                return await engine.spawn(`http:${functionName}`, () => {
                  release();
                  if (requestId !== undefined) storyRequests.get(requestId)?.();
                  return lambda.invoke(functionName, event);
                });
              } finally {
                release();
                if (requestId !== undefined && storyRequests.has(requestId)) {
                  storyRequests.set(requestId, engine.scheduler.holdClock());
                }
              }
            },
          },
          port,
        );
        httpApis.push(api);
        return {
          ...api,
          async request(method, path, init = {}) {
            const requestId = String(++storyRequestCount);
            storyRequests.set(requestId, engine.scheduler.holdClock());
            try {
              return await fetch(`${api.url}${path}`, {
                method,
                headers: { ...init.headers, [SANDBOX_REQUEST_HEADER]: requestId },
                ...(init.body !== undefined ? { body: init.body } : {}),
              });
            } finally {
              storyRequests.get(requestId)?.();
              storyRequests.delete(requestId);
            }
          },
        };
      },
      dispose: async () => {
        await Promise.all(httpApis.splice(0).map((api) => api.close()));
        await engine.dispose();
      },
    };
  } catch (error) {
    await engine.dispose();
    throw error;
  }
}

/** Tells the HTTP API which of a story's requests an invocation answers (see `request`). */
const SANDBOX_REQUEST_HEADER = 'x-kiln-sandbox-request';

/** The event a scheduled rule delivers, for `rate(...)` and `cron(...)` alike. */
function scheduledEvent(id: string, now: number, region: string, account: string) {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${account}:rule/kiln-schedule`],
    detail: {},
  };
}
