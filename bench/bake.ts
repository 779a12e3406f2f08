/**
 * One bake, counted in the sandbox on its virtual clock (`KILN_BENCH_SECTIONS=bake`): the deploy
 * state machine (statemachines/deploy.asl.json) with the real bake-steps and on-progress functions
 * against the simulated EC2 (the bake Region and one copy Region) and SSM, as
 * test/integration/bake/deploy-bake.test.ts runs it. Two cases: a fresh bake (one builder, install
 * command, CreateImage, one copy) and a cache hit (a second deployment of the same artifact after
 * the fresh bake; only the second execution is counted). Each case runs twice, in a fresh Region
 * with the same seed: with events, and with every event the waits listen for lost (the sandbox's
 * `event-loss` fault scoped to EC2 AMI State Change and SSM's Command Status-change Notification,
 * probability 1), so every wait ends by its TimeoutSeconds poll.
 *
 * Figures:
 * - state transitions: states entered (StateEntered), Map iterations' states included, plus the
 *   ASL Retry attempts. AWS "counts a state transition each time a step of your workflow is
 *   executed" and bills "each retry … as an additional state transition"
 *   (https://aws.amazon.com/step-functions/pricing/), so the sum is what a Standard workflow bills.
 *   (An execution's history has several events per state — entered, exited, scheduled, started,
 *   succeeded — so history events are not the billed figure.)
 * - Lambda invocations by function (synchronous task invocations and EventBridge deliveries).
 * - AWS API calls by service:operation made by Kiln (callers `fn:*`: the functions; the driver's
 *   own StartExecution and status polls are left out). Every SDK attempt counts, DynamoDB's too.
 * - virtual time from StartExecution to the release (the state after RecordRelease entered).
 *
 * Ratios, not absolute times: events lost / with events. The "a lost event costs one poll
 * interval" claim (README, Bake, Waits) is checked: the extra virtual time of the events-lost run
 * must be at most about one poll interval (the wait states' TimeoutSeconds) per wait.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parse } from 'yaml';
import { executionName } from '../shared/domain/ids';
import { parseManifest, type ServiceManifest } from '../shared/domain/manifest/schema';
import { KilnStore } from '../shared/store';
import type { FaultPlan } from '../sandbox/core/faults';
import type { TimedEntry } from '../sandbox/core/timeline';
import { createRegion } from '../sandbox/region';
import { loadRoutes } from '../sandbox/core/routes';
import { renderTable, times } from './paired';
import type { Headline, SectionResult } from './results';

const ROOT = join(__dirname, '..');
const PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
const COPY_REGION = 'us-west-2';
const VERSION = '1.4.2';
const ARTIFACT = {
  kind: 's3',
  uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-1.4.2.tar.gz',
  digest: 'b1946ac92492d2347c6235b4d2611184',
};
/** The callback waits of the bake and the loop each one sits in (check → choice → wait). */
const WAIT_LOOPS: Record<string, ReadonlySet<string>> = {
  WaitCommand: new Set(['CheckCommand', 'CommandDone', 'WaitCommand']),
  WaitImage: new Set(['CheckImage', 'ImageDone', 'WaitImage']),
};

/**
 * Every event a bake's wait listens for, lost every time: one `event-loss` rule (probability 1)
 * per source and detail-type of on-progress's rules in serverless.yml, so a rule added there is
 * lost here too.
 */
export function everyWaitEventLost(serverlessFile = join(ROOT, 'serverless.yml')): FaultPlan {
  const plan: FaultPlan = [];
  for (const route of loadRoutes(serverlessFile, { stage: 'bench' }).eventBridge) {
    if (route.functionName !== 'onProgress') continue;
    const pattern = route.pattern as { source?: unknown; 'detail-type'?: unknown };
    const strings = (value: unknown) =>
      Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [];
    for (const source of strings(pattern.source))
      for (const detailType of strings(pattern['detail-type']))
        plan.push({ kind: 'event-loss', source, detailType, probability: 1 });
  }
  if (plan.length === 0) throw new Error('bench: serverless.yml routes no event to onProgress');
  return plan;
}

export interface BakeFigures {
  status: string;
  stateEntries: number;
  retries: number;
  invocations: Map<string, number>;
  apiCalls: Map<string, number>;
  releaseSeconds: number;
  /** Waits (a wait loop of WAIT_LOOPS entered at least once) and entries of their wait states. */
  waits: number;
  waitEntries: number;
  eventsLost: number;
}

function checkoutManifest(): ServiceManifest {
  const doc = parse(readFileSync(join(ROOT, 'examples/checkout.yml'), 'utf8')) as {
    bake: Record<string, unknown>;
  };
  doc.bake.subnetId = 'subnet-00000000000000001';
  return parseManifest(doc);
}

/** Waits in a run of state entries: each maximal stay in one wait loop that entered its wait state. */
export function countWaits(states: readonly string[]): { waits: number; waitEntries: number } {
  let waits = 0;
  let waitEntries = 0;
  let current: string | undefined;
  for (const state of states) {
    if (current !== undefined && !WAIT_LOOPS[current]?.has(state)) current = undefined;
    if (state in WAIT_LOOPS) {
      waitEntries++;
      if (current !== state) waits++;
      current = state;
    }
  }
  return { waits, waitEntries };
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Runs one bake (or a fresh bake, then the counted cache hit) in a fresh Region. */
export async function measureBake(options: {
  seed: number;
  cacheHit: boolean;
  faults?: FaultPlan;
}): Promise<BakeFigures> {
  const region = await createRegion({
    seed: options.seed,
    otherRegions: [COPY_REGION],
    ...(options.faults ? { faults: options.faults } : {}),
  });
  try {
    region.ec2.images.seedImage({
      name: 'al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64',
      ownerAlias: 'amazon',
      publicParameter: PARAMETER,
    });
    const { sfn, doc } = region.clientsFor('bench', 'operator');
    const store = new KilnStore<ServiceManifest>({
      client: doc,
      tableName: region.tableName,
      ids: region.engine.kilnIds,
    });
    const manifestVersion = await region.engine.run(
      async () => (await store.putServiceManifest(checkoutManifest(), { actor: 'bench' })).version,
    );
    // What on-artifact does for an upload: a deployment record, then the execution named after it.
    const bake = (id: string) =>
      region.engine.run(async () => {
        await store.createDeployment({
          id,
          service: 'checkout',
          releaseVersion: VERSION,
          environments: ['staging', 'production'],
          trigger: 'artifact',
          actor: 'bench',
        });
        const { executionArn = '' } = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: region.stateMachineArns.get('DeployStateMachine'),
            name: id,
            input: JSON.stringify({
              deploymentId: id,
              service: 'checkout',
              version: VERSION,
              manifestVersion,
              artifact: ARTIFACT,
              // The bake alone: no environment to roll, so the rollout after RecordRelease ends
              // at once (bench/rollout.ts measures the rollout).
              environments: [],
            }),
          }),
        );
        for (;;) {
          const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
          if (execution.status !== 'RUNNING') return { executionArn, status: execution.status ?? '' };
          await new Promise((resolve) => setTimeout(resolve, 10_000));
        }
      });

    const first = executionName({ service: 'checkout', version: VERSION, digest: ARTIFACT.digest });
    if (options.cacheHit) await bake(first);
    const timelineFrom = region.engine.timeline.entries.length;
    const invocationsFrom = region.lambda.invocations.length;
    const { executionArn, status } = await bake(options.cacheHit ? 'checkout-redeploy-1' : first);

    const entries: readonly TimedEntry[] = region.engine.timeline.entries.slice(timelineFrom);
    const invocations = new Map<string, number>();
    for (const call of region.lambda.invocations.slice(invocationsFrom)) {
      increment(invocations, call.functionName);
    }
    const apiCalls = new Map<string, number>();
    let started: number | undefined;
    let released: number | undefined;
    let eventsLost = 0;
    const states: string[] = [];
    const releaseState = releasedState();
    for (const entry of entries) {
      if (entry.kind === 'api' && typeof entry.caller === 'string' && entry.caller.startsWith('fn:')) {
        increment(apiCalls, `${entry.service}:${entry.operation}`);
      } else if (entry.kind === 'state' && entry.resource === executionArn && entry.to === 'RUNNING') {
        started = entry.t;
      } else if (entry.kind === 'state' && entry.resource === `${executionArn}#state`) {
        states.push(String(entry.to));
        if (entry.to === releaseState) released ??= entry.t;
      } else if (entry.kind === 'log' && / lost \(fault\)$/.test(entry.message)) {
        eventsLost++;
      }
    }
    const record = region.stepFunctions.execution(executionArn);
    return {
      status,
      stateEntries: record?.transitions ?? Number.NaN,
      retries: record?.retries ?? Number.NaN,
      invocations,
      apiCalls,
      releaseSeconds: released !== undefined && started !== undefined ? released - started : Number.NaN,
      ...countWaits(states),
      eventsLost,
    };
  } finally {
    await region.dispose();
  }
}

/**
 * The state the deploy ASL enters right after RecordRelease (the rollout's first): the bake's end,
 * read from the ASL so a renamed state cannot leave the figure unset.
 */
export function releasedState(): string {
  const asl = JSON.parse(readFileSync(join(ROOT, 'statemachines/deploy.asl.json'), 'utf8')) as {
    States: Record<string, { Next?: string }>;
  };
  const next = asl.States.RecordRelease?.Next;
  if (next === undefined) throw new Error('bench: deploy.asl.json has no RecordRelease with a Next');
  return next;
}

/** The wait states' TimeoutSeconds in the deploy ASL: the poll interval when no event comes. */
function pollIntervalSeconds(): number {
  const asl = JSON.parse(readFileSync(join(ROOT, 'statemachines/deploy.asl.json'), 'utf8')) as {
    States: Record<string, { TimeoutSeconds?: number }>;
  };
  const intervals = Object.keys(WAIT_LOOPS).map((name) => asl.States[name]?.TimeoutSeconds);
  const [first] = intervals;
  if (first === undefined || intervals.some((s) => s !== first)) {
    throw new Error(`bench: the wait states' TimeoutSeconds differ or are missing: ${intervals.join(', ')}`);
  }
  return first;
}

const ratio = (lost: number, events: number) =>
  events === 0 ? (lost === 0 ? '-' : '∞') : times(lost / events);

function rows(label: string, events: BakeFigures, lost: BakeFigures): string[][] {
  const line = (metric: string, a: number, b: number) => [
    `${label}: ${metric}`,
    String(a),
    String(b),
    ratio(b, a),
  ];
  const out = [
    line(
      'state transitions billed (entered + retries)',
      events.stateEntries + events.retries,
      lost.stateEntries + lost.retries,
    ),
    line('  states entered', events.stateEntries, lost.stateEntries),
    line('  ASL retries', events.retries, lost.retries),
    line('  wait-state entries (waits)', events.waitEntries, lost.waitEntries),
  ];
  const functions = [...new Set([...events.invocations.keys(), ...lost.invocations.keys()])].sort();
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  out.push(line('Lambda invocations', sum(events.invocations), sum(lost.invocations)));
  for (const fn of functions)
    out.push(line(`  ${fn}`, events.invocations.get(fn) ?? 0, lost.invocations.get(fn) ?? 0));
  const operations = [...new Set([...events.apiCalls.keys(), ...lost.apiCalls.keys()])].sort();
  out.push(line('AWS API calls by Kiln', sum(events.apiCalls), sum(lost.apiCalls)));
  for (const op of operations)
    out.push(line(`  ${op}`, events.apiCalls.get(op) ?? 0, lost.apiCalls.get(op) ?? 0));
  // Virtual seconds are the simulation's, the same on any machine (not a wall-time measurement).
  out.push([
    `${label}: virtual time to release (s)`,
    String(events.releaseSeconds),
    String(lost.releaseSeconds),
    times(lost.releaseSeconds / events.releaseSeconds),
  ]);
  return out;
}

export interface BakeData {
  pollSeconds: number;
  cases: Array<{
    case: string;
    events: BakeFigures;
    lost: BakeFigures;
    lostExtraSeconds: number;
    boundSeconds: number;
  }>;
}

export async function bakeTable(seed: number): Promise<SectionResult<BakeData>> {
  const poll = pollIntervalSeconds();
  // The functions' INFO lines would bury the table (as in `kiln sandbox`, warnings still show).
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  try {
    return await table(seed, poll);
  } finally {
    if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  }
}

async function table(seed: number, poll: number): Promise<SectionResult<BakeData>> {
  const notes: string[] = [];
  const lines: string[][] = [];
  const cases: BakeData['cases'] = [];
  for (const [label, cacheHit] of [
    ['fresh bake', false],
    ['cache hit', true],
  ] as const) {
    const events = await measureBake({ seed, cacheHit });
    const lost = await measureBake({ seed, cacheHit, faults: everyWaitEventLost() });
    if (events.status !== 'SUCCEEDED' || lost.status !== 'SUCCEEDED') {
      notes.push(
        `${label}: the execution ended ${events.status} with events, ${lost.status} with events lost`,
      );
    }
    lines.push(...rows(label, events, lost));
    const extra = lost.releaseSeconds - events.releaseSeconds;
    const bound = lost.waits * poll;
    cases.push({ case: label, events, lost, lostExtraSeconds: extra, boundSeconds: bound });
    notes.push(
      `${label}: events lost ${lost.eventsLost} deliveries; the lost run took ${extra.toFixed(1)} virtual s ` +
        `more over ${lost.waits} wait${lost.waits === 1 ? '' : 's'}` +
        (lost.waits > 0 ? ` (${(extra / lost.waits).toFixed(1)} s per wait)` : '') +
        `; one poll interval (${poll} s) per wait allows ${bound} s: ` +
        (extra <= bound ? 'holds' : `EXCEEDED by ${(extra - bound).toFixed(1)} s`),
    );
  }
  const text = [
    `one bake in the sandbox (seed ${seed}; checkout, one copy Region; virtual clock): ` +
      'with events vs every AMI and Run Command status event lost (polls only); ratio = lost / with events',
    renderTable(['metric', 'with events', 'events lost', 'ratio'], lines),
    ...notes,
  ].join('\n');
  const headlines: Headline[] = cases.flatMap((c) => [
    {
      figure: `${c.case}: state transitions billed (with events / events lost)`,
      value: `${c.events.stateEntries + c.events.retries} / ${c.lost.stateEntries + c.lost.retries}`,
    },
    {
      figure: `${c.case}: virtual time to release (with events / events lost)`,
      value: `${c.events.releaseSeconds.toFixed(0)} s / ${c.lost.releaseSeconds.toFixed(0)} s`,
    },
  ]);
  return { text, headlines, data: { pollSeconds: poll, cases } };
}
