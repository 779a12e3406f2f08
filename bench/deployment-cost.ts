/**
 * The estimated AWS cost of one deployment (`KILN_BENCH_SECTIONS=cost`): sandbox stories run with
 * their usage metered (sandbox/core/metering.ts), priced by bench/cost.ts.
 *
 * "One deployment" is an artifact taken to production: the `bake` story (an S3 artifact baked
 * into an AMI, copied to a second Region, the release recorded) followed by the `rolling` story
 * (staging of N instances, then production of 2N after a 15-minute bake time and an approval,
 * each by an instance refresh). Beside it, the same bake followed by the `blue-green` story
 * (production of N instances rolled blue/green: health gate, traffic moved, blue retired).
 *
 * What counts: from the deployment's start (the first on-artifact invocation or deploy execution,
 * whichever comes first: the stories' provisioning of their fleets before it is not the
 * deployment's), every Step Functions execution's transitions, every invocation attempt of Kiln's
 * functions, and the DynamoDB requests those invocations made. Left out and shown apart: the
 * scheduled functions (the reconciler every minute, image retention daily), a standing cost that
 * does not grow with deployments; and the operator's CLI's requests (`kiln deploy`, `kiln approve`
 * and the stories' setup through it).
 */
import { join } from 'node:path';
import type { DynamoRequest } from '../sandbox/core/metering';
import type { Region } from '../sandbox/region';
import { runSandbox } from '../sandbox/run';
import {
  DURATION_MODEL,
  estimateCost,
  formatUsd,
  PRICES,
  type CostEstimate,
  type DeploymentUsage,
  type MeteredInvocation,
  type Price,
} from './cost';
import { readDeployedSettings, type DeployedFunction } from './deployed-functions';
import { renderTable } from './paired';
import type { SectionResult } from './results';

const ROOT = join(__dirname, '..');
const DEPLOY_MACHINE = 'DeployStateMachine';
/** A month of a rate(1 minute) schedule: 30 days. */
const MINUTES_PER_MONTH = 30 * 24 * 60;

export interface MeteredRun {
  scenario: string;
  fleet: number;
  ok: boolean;
  /** Virtual seconds of the whole run. */
  virtualSeconds: number;
  deployment: DeploymentUsage;
  /** The scheduled functions' invocations over the whole run. */
  scheduled: DeploymentUsage;
  /** DynamoDB requests by the operator's CLI and the story (not by an invocation). */
  operator: DynamoRequest[];
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** What `region` metered, split into the deployment's, the schedules' and the operator's. */
export function usageOf(
  region: Region,
  deployed: ReadonlyMap<string, DeployedFunction>,
): Omit<MeteredRun, 'scenario' | 'fleet' | 'ok' | 'virtualSeconds'> {
  const epochMs = region.engine.timeline.epochMs;
  const keyOf = new Map(region.routes.functions.map((fn) => [fn.deployedName, fn.functionName]));
  const scheduled = new Set(region.routes.schedules.map((s) => s.functionName));
  const deployMachine = region.stateMachineArns.get(DEPLOY_MACHINE) ?? '';
  const deployExecutions = deployMachine.replace(':stateMachine:', ':execution:');

  // Every execution's start, from the timeline (`state` entries of the execution ARN itself).
  const executions: Array<{ arn: string; atMs: number }> = [];
  for (const entry of region.engine.timeline.entries) {
    if (entry.kind === 'state' && entry.to === 'RUNNING' && /:execution:[^#]+$/.test(entry.resource)) {
      executions.push({ arn: entry.resource, atMs: epochMs + entry.t * 1000 });
    }
  }
  const firstDeploy = executions.find((e) => e.arn.startsWith(`${deployExecutions}:`))?.atMs;
  const firstArtifact = region.lambda.invocations.find(
    (i) => keyOf.get(i.functionName) === 'onArtifact',
  )?.startedMs;
  const starts = [firstDeploy, firstArtifact].filter((t): t is number => t !== undefined);
  const from = starts.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...starts);

  const deploymentInvocations: MeteredInvocation[] = [];
  const scheduledInvocations: MeteredInvocation[] = [];
  for (const invocation of region.lambda.invocations) {
    const key = keyOf.get(invocation.functionName) ?? invocation.functionName;
    const fn = deployed.get(key);
    if (fn === undefined) throw new Error(`bench: ${key} is not a function serverless.yml deploys`);
    const metered: MeteredInvocation = {
      functionKey: key,
      memoryMb: fn.memorySizeMb,
      architecture: fn.architecture,
      virtualMs: (invocation.endedMs ?? region.engine.clock.now()) - invocation.startedMs,
      calls: { ...invocation.calls },
      cold: invocation.cold,
    };
    if (scheduled.has(key)) scheduledInvocations.push(metered);
    else if (invocation.startedMs >= from) deploymentInvocations.push(metered);
  }
  const transitions = (list: ReadonlyArray<{ arn: string }>) =>
    sum(
      list.map((e) => {
        const record = region.stepFunctions.execution(e.arn);
        return record === undefined ? 0 : record.transitions + record.retries;
      }),
    );
  const meter = region.engine.dynamoMeter;
  if (meter === undefined) throw new Error('bench: the region was not created with meterDynamo');
  const requests = meter.requests;
  const scheduledCaller = (r: DynamoRequest) => scheduled.has(r.caller.replace(/^fn:/, ''));
  return {
    deployment: {
      stateTransitions: transitions(executions.filter((e) => e.atMs >= from)),
      invocations: deploymentInvocations,
      dynamo: requests.filter((r) => r.invoked && !scheduledCaller(r) && r.atMs >= from),
    },
    scheduled: {
      stateTransitions: 0,
      invocations: scheduledInvocations,
      dynamo: requests.filter((r) => r.invoked && scheduledCaller(r)),
    },
    operator: requests.filter((r) => !r.invoked),
  };
}

export async function meterRun(seed: number, scenario: string, fleet: number): Promise<MeteredRun> {
  const deployed = new Map(readDeployedSettings(ROOT).functions.map((fn) => [fn.key, fn]));
  let usage: Omit<MeteredRun, 'scenario' | 'fleet' | 'ok' | 'virtualSeconds'> | undefined;
  const result = await runSandbox({
    seed,
    fleet,
    scenario,
    region: { meterDynamo: true },
    inspect: (region) => {
      usage = usageOf(region, deployed);
      return Promise.resolve(undefined);
    },
  });
  if (usage === undefined) throw new Error(`bench: the ${scenario} run ended before it could be metered`);
  return { scenario, fleet, ok: result.ok, virtualSeconds: result.virtualSeconds, ...usage };
}

/** Two runs' usage as one deployment's. */
export function combine(...parts: readonly DeploymentUsage[]): DeploymentUsage {
  return {
    stateTransitions: sum(parts.map((p) => p.stateTransitions)),
    invocations: parts.flatMap((p) => p.invocations),
    dynamo: parts.flatMap((p) => p.dynamo),
  };
}

export interface CostFigures {
  fleet: number;
  cases: Array<{
    name: string;
    scenarios: string[];
    ok: boolean;
    estimate: CostEstimate;
    stateTransitions: number;
  }>;
  /** The scheduled functions' standing cost, per month, at the runs' mean per invocation. */
  standingPerMonthUsd: number;
  model: typeof DURATION_MODEL;
  prices: typeof PRICES;
}

/** A price as the pricing page writes it: `$0.025 / 1,000`, `$0.0000133334 each`. */
export function listPrice(price: Price): string {
  return price.per === 1 ? `$${price.usd} each` : `$${price.usd} / ${price.per.toLocaleString('en-US')}`;
}

const fixed = (value: number, digits: number) =>
  Number.isInteger(value) ? String(value) : value.toFixed(digits);

export async function costSection(seed: number, fleet: number): Promise<SectionResult<CostFigures>> {
  const bake = await meterRun(seed, 'bake', fleet);
  const rolling = await meterRun(seed, 'rolling', fleet);
  const blueGreen = await meterRun(seed, 'blue-green', fleet);
  const cases: CostFigures['cases'] = [
    { name: 'bake + rolling (staging, production)', runs: [bake, rolling] },
    { name: 'bake + blue/green (production)', runs: [bake, blueGreen] },
    { name: 'bake alone', runs: [bake] },
  ].map(({ name, runs }) => {
    const usage = combine(...runs.map((r) => r.deployment));
    return {
      name,
      scenarios: runs.map((r) => r.scenario),
      ok: runs.every((r) => r.ok),
      estimate: estimateCost(usage),
      stateTransitions: usage.stateTransitions,
    };
  });

  // The schedules' runs over the three runs, extrapolated to a month of the reconciler's rate.
  const scheduled = combine(bake.scheduled, rolling.scheduled, blueGreen.scheduled);
  const standingRun = estimateCost(scheduled);
  const perInvocation =
    scheduled.invocations.length === 0 ? 0 : standingRun.totalUsd / scheduled.invocations.length;
  const standingPerMonthUsd = perInvocation * MINUTES_PER_MONTH;
  const operatorUnits = sum([bake, rolling, blueGreen].flatMap((r) => r.operator.map((q) => q.units)));

  const [main] = cases;
  const rows: string[][] = [];
  for (const c of cases) {
    for (const line of c.estimate.lines) {
      rows.push([
        c.name,
        `${line.service}: ${line.what}`,
        fixed(line.quantity, line.what.startsWith('GB') ? 3 : 1),
        listPrice(line.price),
        formatUsd(line.usd),
      ]);
    }
    rows.push([
      c.name,
      `total${c.ok ? '' : ' (a run FAILED its checks)'}`,
      '',
      '',
      formatUsd(c.estimate.totalUsd),
    ]);
  }
  const priceNotes = Object.values(PRICES).map(
    (p) =>
      `  $${p.usd} per ${p.per === 1 ? '' : `${p.per.toLocaleString('en-US')} `}${p.unit}: ${p.source} (read ${p.read})`,
  );
  const lambda = main?.estimate.lambda;
  const text = [
    `estimated AWS cost of one deployment (seed ${seed}; staging ${fleet}, production ${2 * fleet} instances rolling, ` +
      `${fleet} blue/green; list prices, us-east-1, free tiers not subtracted)`,
    renderTable(['deployment', 'item', 'quantity', 'list price', 'cost'], rows),
    `Lambda billed duration is modelled, not measured (the sandbox's clock does not move during an API call): ` +
      `per invocation, the virtual time it spanned + ${DURATION_MODEL.dynamoDbCallMs} ms per DynamoDB call + ` +
      `${DURATION_MODEL.otherCallMs} ms per other AWS call + ${DURATION_MODEL.initMs} ms INIT on a cold start, ` +
      `rounded up to the ms; memory and architecture from serverless.yml` +
      (lambda === undefined
        ? ''
        : ` (${main?.name}: ${lambda.invocations} invocations, ${lambda.coldStarts} cold, ` +
          `${(lambda.billedMs / 1000).toFixed(1)} s billed, ${lambda.gbSeconds.toFixed(2)} GB-s)`),
    `DynamoDB request units from dynalite's per-request figures (item size; reads per 4 KB, halved when eventually ` +
      `consistent; writes per 1 KB); the GSI1 index's writes added per AWS's rules (bench/cost.ts dynamoUnits)`,
    `not counted: EC2, Auto Scaling, ELB, SSM and CloudWatch API calls (no per-request charge), the instances, ` +
      `logs, traces, SNS; the operator's CLI used ${fixed(operatorUnits, 1)} request units over the three runs`,
    `standing cost, not per deployment: the scheduled functions (reconcile every minute, retain-images daily) ` +
      `ran ${scheduled.invocations.length} times in these runs, ${formatUsd(perInvocation)} each: ` +
      `${formatUsd(standingPerMonthUsd)} a month at one run a minute`,
    'prices:',
    ...priceNotes,
  ].join('\n');
  const headlines = cases.slice(0, 2).map((c) => ({
    figure: `one deployment, ${c.name}`,
    value: formatUsd(c.estimate.totalUsd),
  }));
  return {
    text,
    headlines: [
      ...headlines,
      { figure: 'reconciler standing cost per month', value: formatUsd(standingPerMonthUsd) },
    ],
    data: { fleet, cases, standingPerMonthUsd, model: DURATION_MODEL, prices: PRICES },
  };
}
