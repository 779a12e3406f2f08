/**
 * One rolling rollout, counted in the sandbox on its virtual clock (`KILN_BENCH_SECTIONS=rollout`):
 * the deploy state machine (statemachines/deploy.asl.json) with the real rollout-steps and
 * on-progress functions against the simulated Auto Scaling, EC2, ELB and CloudWatch, as
 * test/integration/rollout/ runs it. One environment, one group of N instances (10 and 100 by
 * default), a recorded release rolled by an instance refresh with three checkpoints (33/66/100 %),
 * started as `kiln deploy` starts it (no artifact: straight to RolloutBegin).
 *
 * Each fleet runs twice, in a fresh Region with the same seed:
 * - callback: Kiln's design. `WaitRefresh` is a `.waitForTaskToken` task that on-progress wakes on
 *   the instance refresh events (Checkpoint Reached, Succeeded, …), with a 300 s timeout that polls.
 * - poll: the same ASL with `WaitRefresh` rewritten here into a plain `Wait 15 s → CheckRefresh`
 *   (no task token), the loop a tool without events would run. Nothing else changes: the machine is
 *   redeployed under its own name (as a stack update would), so the same functions serve it.
 *
 * Figures (as bench/bake.ts counts them):
 * - state transitions billed: states entered (StateEntered) plus ASL Retry attempts; AWS "counts a
 *   state transition each time a step of your workflow is executed" and bills "each retry … as an
 *   additional state transition" (https://aws.amazon.com/step-functions/pricing/).
 * - AWS API calls by Kiln (callers `fn:*`, every SDK attempt, DynamoDB's too; the bench's own
 *   provisioning and status polls are left out), in total, by service and per instance.
 * - virtual time from StartExecution to the end of the execution.
 *
 * Claims checked (printed, never thrown): the callback design's transitions stay flat from the
 * smallest to the largest fleet (at most FLAT_TOLERANCE more), are at least 5× below the poll
 * loop's at every fleet, and far below the 25,000-event history limit
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html: "Maximum execution
 * history size: 25,000 events").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type ServiceManifest } from '../shared/domain/manifest/schema';
import type { KilnStore } from '../shared/store';
import type { SandboxClients } from '../sandbox/core/sdk';
import type { TimedEntry } from '../sandbox/core/timeline';
import { createRegion, type Region } from '../sandbox/region';
import { operatorStore, seedBaseImage } from '../sandbox/stories/bake-kit';
import { waitUntilHealthy } from '../sandbox/stories/fleet';
import {
  executionEnd,
  provisionRolloutEnvironment,
  recordRelease,
  rolloutManifest,
  seedReleaseImage,
  startRollout,
  type RolloutEnvironment,
} from '../sandbox/stories/rollout-kit';
import { storySettings, type StorySettings } from '../sandbox/stories/settings';
import { renderTable, times } from './paired';
import type { Headline, SectionResult } from './results';

export const SERVICE = 'web';
export const ENVIRONMENT = 'production';
const FROM = '1.0.0';
const TO = '2.0.0';
/** The deploy machine's logical id in serverless.yml. */
const DEPLOY_MACHINE = 'DeployStateMachine';
/** The poll loop's interval: the plain Wait-and-poll loop the callback design is compared with. */
export const POLL_SECONDS = 15;
/** Step Functions' execution history quota (Standard workflows). */
export const HISTORY_LIMIT = 25_000;
/** "Flat": the largest fleet's callback transitions at most this much above the smallest's. */
export const FLAT_TOLERANCE = 0.25;
/** "At least 5× below the poll loop" (issue 10, Done when). */
export const MIN_POLL_RATIO = 5;

/** The rollout's refresh preferences: three checkpoints, AWS's default MinHealthy, a short warmup. */
export const ROLLOUT_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 90,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
    checkpoints: [33, 66, 100],
    checkpointDelaySeconds: 300,
  },
});

export type Design = 'callback' | 'poll';

export interface RolloutFigures {
  design: Design;
  fleet: number;
  status: string;
  deploymentStatus: string;
  stateEntries: number;
  retries: number;
  /** Every state entered, in order (the path). */
  states: string[];
  /** Lambda invocations by function. */
  invocations: Map<string, number>;
  /** Kiln's AWS API calls by `service:operation`. */
  apiCalls: Map<string, number>;
  /** StartExecution to the execution's end, virtual seconds. */
  virtualSeconds: number;
}

type JsonObject = Record<string, unknown>;

/**
 * The deploy ASL with the refresh's callback wait rewritten into a plain poll loop:
 * `WaitRefresh` becomes `Wait POLL_SECONDS → CheckRefresh`, with no task token (so on-progress
 * finds none to wake). Every other state is left as it is.
 */
export function pollLoopDefinition(text: string, seconds = POLL_SECONDS): string {
  const machine = JSON.parse(text) as { States?: Record<string, JsonObject> };
  const wait = machine.States?.WaitRefresh;
  if (!wait || wait.Type !== 'Task') {
    throw new Error('bench: deploy.asl.json has no WaitRefresh task to rewrite into a poll loop');
  }
  const next = wait.Next;
  if (next !== 'CheckRefresh')
    throw new Error(`bench: WaitRefresh goes to ${String(next)}, not CheckRefresh`);
  machine.States = {
    ...machine.States,
    WaitRefresh: {
      Comment: `Bench only: the plain poll loop (Wait ${seconds} s, then CheckRefresh), no callback.`,
      Type: 'Wait',
      Seconds: seconds,
      Next: 'CheckRefresh',
    },
  };
  return JSON.stringify(machine, null, 2);
}

/** Redeploys the deploy machine under its own name with `definition` (as a stack update would). */
function redeployDeployMachine(region: Region, definition: string): void {
  const machine = region.routes.stateMachines.find((m) => m.logicalId === DEPLOY_MACHINE);
  if (!machine) throw new Error(`bench: serverless.yml has no ${DEPLOY_MACHINE}`);
  const regionName = region.engine.context.region;
  const substitutions = Object.fromEntries(
    Object.entries(machine.substitutions).map(([key, value]) => {
      if (!('functionName' in value)) return [key, value.value];
      const fn = region.routes.functions.find((f) => f.functionName === value.functionName);
      const name = fn?.deployedName ?? value.functionName;
      return [key, `arn:aws:lambda:${regionName}:${region.engine.accountId}:function:${name}`];
    }),
  );
  const arn = region.stepFunctions.createStateMachine({ name: machine.name, definition, substitutions });
  if (arn !== region.stateMachineArns.get(DEPLOY_MACHINE)) {
    throw new Error(`bench: the redeployed machine's ARN ${arn} is not the deploy machine's`);
  }
}

const increment = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

/** Reads a rollout's figures from the timeline entries after `from` (its execution's). */
function figuresOf(
  region: Region,
  executionArn: string,
  entries: readonly TimedEntry[],
  invocationsFrom: number,
): Pick<RolloutFigures, 'states' | 'apiCalls' | 'invocations' | 'virtualSeconds'> {
  const apiCalls = new Map<string, number>();
  const states: string[] = [];
  let started: number | undefined;
  let ended: number | undefined;
  for (const entry of entries) {
    if (entry.kind === 'api' && typeof entry.caller === 'string' && entry.caller.startsWith('fn:')) {
      increment(apiCalls, `${entry.service}:${entry.operation}`);
    } else if (entry.kind === 'state' && entry.resource === executionArn) {
      if (entry.to === 'RUNNING') started = entry.t;
      else ended = entry.t;
    } else if (entry.kind === 'state' && entry.resource === `${executionArn}#state`) {
      states.push(String(entry.to));
    }
  }
  const invocations = new Map<string, number>();
  for (const call of region.lambda.invocations.slice(invocationsFrom))
    increment(invocations, call.functionName);
  return {
    states,
    apiCalls,
    invocations,
    virtualSeconds: started !== undefined && ended !== undefined ? ended - started : Number.NaN,
  };
}

/** An environment's strategy in the manifest: the bench's rolling preferences, or blue/green. */
export type StrategySpec = StorySettings['strategy'] | BlueGreenStrategyInput;
export interface BlueGreenStrategyInput {
  type: 'blue-green';
  healthGate?: { healthyForSeconds?: number; timeoutSeconds?: number };
  bakeTimeSeconds?: number;
  keepOldGroups?: number;
}

export interface PreparedRollout {
  aws: SandboxClients;
  store: KilnStore<ServiceManifest>;
  manifestVersion: number;
  environment: RolloutEnvironment;
}

/**
 * One environment of `fleet` instances on release FROM (tagged for Kiln, with its 5xx alarm), the
 * manifest rolling it with `strategy`, and release TO recorded: what `kiln deploy` then rolls out.
 */
export async function prepareRollout(
  region: Region,
  options: { fleet: number; strategy?: StrategySpec },
): Promise<PreparedRollout> {
  const aws = region.clientsFor('bench', 'operator');
  const store: KilnStore<ServiceManifest> = operatorStore(region);
  return region.engine.run(async () => {
    const base = seedBaseImage(region);
    const from = seedReleaseImage(region, SERVICE, FROM, base);
    const to = seedReleaseImage(region, SERVICE, TO, base);
    const environment = await provisionRolloutEnvironment(region, aws, {
      service: SERVICE,
      name: ENVIRONMENT,
      size: options.fleet,
      imageId: from,
      settings: ROLLOUT_SETTINGS,
    });
    await waitUntilHealthy(aws, [environment], 3600);
    const rolling = rolloutManifest(region, SERVICE, [environment], ROLLOUT_SETTINGS);
    const strategy = options.strategy ?? ROLLOUT_SETTINGS.strategy;
    const manifest =
      strategy === ROLLOUT_SETTINGS.strategy
        ? rolling
        : parseManifest({
            ...rolling,
            environments: rolling.environments.map((env) => ({ ...env, strategy })),
          });
    const { version } = await store.putServiceManifest(manifest, { actor: 'bench' });
    await recordRelease(store, region, { service: SERVICE, version: TO, imageId: to });
    return { aws, store, manifestVersion: version, environment };
  });
}

/** Starts the rollout of TO to the environment, as `kiln deploy` does. */
export function startBenchRollout(region: Region, prepared: PreparedRollout, deploymentId: string) {
  return startRollout(region, prepared.store, prepared.aws, {
    deploymentId,
    service: SERVICE,
    version: TO,
    manifestVersion: prepared.manifestVersion,
    environments: [ENVIRONMENT],
  });
}

/** Runs one rolling rollout of one environment of `fleet` instances in a fresh Region. */
export async function measureRollout(options: {
  seed: number;
  fleet: number;
  design: Design;
  /** The deploy ASL's text (default: statemachines/deploy.asl.json as serverless.yml deploys it). */
  definition?: string;
}): Promise<RolloutFigures> {
  const region = await createRegion({ seed: options.seed });
  try {
    if (options.design === 'poll') {
      redeployDeployMachine(region, pollLoopDefinition(options.definition ?? deployDefinition(region)));
    }
    const prepared = await prepareRollout(region, { fleet: options.fleet });
    const { aws, store } = prepared;
    const timelineFrom = region.engine.timeline.entries.length;
    const invocationsFrom = region.lambda.invocations.length;
    const deploymentId = `bench-${options.design}-${options.fleet}`;
    const { executionArn, status, deploymentStatus } = await region.engine.run(async () => {
      const arn = await startBenchRollout(region, prepared, deploymentId);
      const execution = await executionEnd(aws, arn);
      const deployment = await store.getDeployment(deploymentId);
      return {
        executionArn: arn,
        status: execution.status ?? '',
        deploymentStatus: deployment?.status ?? 'missing',
      };
    });
    const record = region.stepFunctions.execution(executionArn);
    return {
      design: options.design,
      fleet: options.fleet,
      status,
      deploymentStatus,
      stateEntries: record?.transitions ?? Number.NaN,
      retries: record?.retries ?? Number.NaN,
      ...figuresOf(region, executionArn, region.engine.timeline.entries.slice(timelineFrom), invocationsFrom),
    };
  } finally {
    await region.dispose();
  }
}

/** The deploy machine's ASL as the Region deployed it from serverless.yml. */
function deployDefinition(region: Region): string {
  const machine = region.routes.stateMachines.find((m) => m.logicalId === DEPLOY_MACHINE);
  if (!machine) throw new Error(`bench: serverless.yml has no ${DEPLOY_MACHINE}`);
  // Relative to serverless.yml (the project root), as the Region read it.
  return readFileSync(join(__dirname, '..', machine.definitionFile), 'utf8');
}

export const billed = (f: RolloutFigures): number => f.stateEntries + f.retries;
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** The AWS service of a `service:operation` key, as the table groups Kiln's calls. */
function byService(calls: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, count] of calls) increment(out, key.split(':')[0] ?? key, count);
  return out;
}

export interface ClaimChecks {
  /** Callback transitions at the largest fleet over those at the smallest. */
  growth: number;
  flat: boolean;
  /** Poll transitions over callback transitions, per fleet. */
  pollRatios: Map<number, number>;
  fiveTimesBelow: boolean;
  /** The most transitions any callback run billed (each is at least one history event). */
  largest: number;
  belowHistoryLimit: boolean;
}

/** The claims of README "Measurements", Rollout, checked on the runs (never thrown: printed). */
export function checkClaims(runs: readonly RolloutFigures[]): ClaimChecks {
  const callback = runs.filter((r) => r.design === 'callback').sort((a, b) => a.fleet - b.fleet);
  const smallest = callback[0];
  const largest = callback[callback.length - 1];
  const growth = smallest && largest ? billed(largest) / billed(smallest) : Number.NaN;
  const pollRatios = new Map<number, number>();
  for (const run of callback) {
    const poll = runs.find((r) => r.design === 'poll' && r.fleet === run.fleet);
    if (poll) pollRatios.set(run.fleet, billed(poll) / billed(run));
  }
  const most = Math.max(...callback.map(billed));
  return {
    growth,
    flat: growth <= 1 + FLAT_TOLERANCE,
    pollRatios,
    fiveTimesBelow: pollRatios.size > 0 && [...pollRatios.values()].every((r) => r >= MIN_POLL_RATIO),
    largest: most,
    // Every state entered records at least one history event (StateEntered), so a run's history
    // holds more events than its transitions; the conformance test counts them on moto's engine.
    belowHistoryLimit: most * 10 < HISTORY_LIMIT,
  };
}

/**
 * The rollout states of a path, run-length compressed where the refresh loop repeats:
 * `CheckRefresh → RefreshDone → WaitRefresh` ×N.
 */
export function describePath(states: readonly string[]): string {
  const loop = ['CheckRefresh', 'RefreshDone', 'WaitRefresh'];
  const out: string[] = [];
  for (let i = 0; i < states.length;) {
    let repeats = 0;
    while (loop.every((s, k) => states[i + repeats * loop.length + k] === s)) repeats++;
    if (repeats > 0) {
      out.push(`(${loop.join(' → ')}) ×${repeats}`);
      i += repeats * loop.length;
    } else {
      out.push(states[i] ?? '?');
      i++;
    }
  }
  return out.join(' → ');
}

export interface RolloutData {
  runs: RolloutFigures[];
  claims: ClaimChecks;
}

export async function rolloutTable(
  seed: number,
  fleets: readonly number[],
): Promise<SectionResult<RolloutData>> {
  // The functions' INFO lines would bury the table (as in `kiln sandbox`, warnings still show).
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  try {
    const runs: RolloutFigures[] = [];
    for (const fleet of fleets) {
      runs.push(await measureRollout({ seed, fleet, design: 'callback' }));
      runs.push(await measureRollout({ seed, fleet, design: 'poll' }));
    }
    return {
      text: renderRollout(seed, runs),
      headlines: rolloutHeadlines(runs),
      data: { runs, claims: checkClaims(runs) },
    };
  } finally {
    if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  }
}

export function renderRollout(seed: number, runs: readonly RolloutFigures[]): string {
  const fleets = [...new Set(runs.map((r) => r.fleet))].sort((a, b) => a - b);
  const pick = (fleet: number, design: Design) => runs.find((r) => r.fleet === fleet && r.design === design);
  const lines: string[][] = [];
  const notes: string[] = [];
  for (const fleet of fleets) {
    const cb = pick(fleet, 'callback');
    const poll = pick(fleet, 'poll');
    if (!cb || !poll) continue;
    for (const run of [cb, poll]) {
      if (run.status !== 'SUCCEEDED' || run.deploymentStatus !== 'succeeded') {
        notes.push(
          `${fleet} instances, ${run.design}: the execution ended ${run.status}, the deployment ${run.deploymentStatus}`,
        );
      }
    }
    const line = (metric: string, a: number, b: number, digits = 0) => [
      `${fleet} inst: ${metric}`,
      a.toFixed(digits),
      b.toFixed(digits),
      a === 0 ? '-' : times(b / a),
    ];
    lines.push(line('state transitions billed (entered + retries)', billed(cb), billed(poll)));
    lines.push(line('  states entered', cb.stateEntries, poll.stateEntries));
    lines.push(line('  ASL retries', cb.retries, poll.retries));
    lines.push(
      line(
        '  refresh checks (CheckRefresh)',
        cb.states.filter((s) => s === 'CheckRefresh').length,
        poll.states.filter((s) => s === 'CheckRefresh').length,
      ),
    );
    lines.push(
      line(
        '  refresh waits ended by an event',
        cb.apiCalls.get('SFN:SendTaskSuccess') ?? 0,
        poll.apiCalls.get('SFN:SendTaskSuccess') ?? 0,
      ),
    );
    lines.push(line('Lambda invocations', sum(cb.invocations), sum(poll.invocations)));
    lines.push(line('AWS API calls by Kiln', sum(cb.apiCalls), sum(poll.apiCalls)));
    const services = [
      ...new Set([...byService(cb.apiCalls).keys(), ...byService(poll.apiCalls).keys()]),
    ].sort();
    for (const service of services) {
      lines.push(
        line(
          `  ${service}`,
          byService(cb.apiCalls).get(service) ?? 0,
          byService(poll.apiCalls).get(service) ?? 0,
        ),
      );
    }
    lines.push(
      line('AWS API calls by Kiln per instance', sum(cb.apiCalls) / fleet, sum(poll.apiCalls) / fleet, 2),
    );
    // Virtual seconds are the simulation's, the same on any machine (not a wall-time measurement).
    lines.push(line('virtual time, start to end (s)', cb.virtualSeconds, poll.virtualSeconds));
  }
  const claims = checkClaims(runs);
  const [smallest, largest] = [fleets[0], fleets[fleets.length - 1]];
  notes.push(
    `callback transitions from ${smallest} to ${largest} instances: ${times(claims.growth)} ` +
      `(flat within +${FLAT_TOLERANCE * 100} %): ${claims.flat ? 'holds' : 'FAILS'}`,
    `poll loop / callback transitions: ${[...claims.pollRatios].map(([f, r]) => `${times(r)} at ${f}`).join(', ')} ` +
      `(at least ${MIN_POLL_RATIO}×): ${claims.fiveTimesBelow ? 'holds' : 'FAILS'}`,
    `most transitions in one callback rollout: ${claims.largest}, against the ${HISTORY_LIMIT}-event history limit ` +
      `(under a tenth of it): ${claims.belowHistoryLimit ? 'holds' : 'FAILS'}`,
  );
  const largestCallback = pick(largest ?? 0, 'callback');
  if (largestCallback)
    notes.push(`callback path at ${largest} instances: ${describePath(largestCallback.states)}`);
  return [
    `one rolling rollout in the sandbox (seed ${seed}; one environment, checkpoints 33/66/100 %, ` +
      `MinHealthy 90 %, warmup 60 s, checkpoint delay 300 s; virtual clock): Kiln's callback wait vs ` +
      `a plain ${POLL_SECONDS} s Wait-and-poll loop; ratio = poll / callback`,
    renderTable(['metric', 'callback', `poll ${POLL_SECONDS} s`, 'ratio'], lines),
    ...notes,
  ].join('\n');
}

/** Transitions and API calls per instance at the largest fleet, and the poll loop's ratio. */
export function rolloutHeadlines(runs: readonly RolloutFigures[]): Headline[] {
  const fleets = [...new Set(runs.map((r) => r.fleet))].sort((a, b) => a - b);
  const largest = fleets[fleets.length - 1];
  const callback = runs.find((r) => r.fleet === largest && r.design === 'callback');
  const poll = runs.find((r) => r.fleet === largest && r.design === 'poll');
  if (largest === undefined || callback === undefined) return [];
  const claims = checkClaims(runs);
  return [
    {
      figure: `rolling rollout, ${largest} instances: state transitions billed (callback / poll ${POLL_SECONDS} s)`,
      value: `${billed(callback)} / ${poll === undefined ? '-' : billed(poll)}`,
    },
    {
      figure: `rolling rollout: callback transitions from ${fleets[0]} to ${largest} instances`,
      value: times(claims.growth),
    },
    {
      figure: `rolling rollout, ${largest} instances: AWS API calls by Kiln per instance`,
      value: (sum(callback.apiCalls) / largest).toFixed(2),
    },
  ];
}
