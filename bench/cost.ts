/**
 * What one deployment would cost on AWS, at list prices: pure arithmetic over what a sandbox run
 * metered (bench/deployment-cost.ts gathers it). Three lines, the ones Kiln's own design moves:
 *
 * - **Step Functions** (Standard workflows): state transitions, retries included.
 * - **Lambda**: requests (every attempt), and GB-seconds = memory (serverless.yml) × billed duration.
 * - **DynamoDB** (on-demand): read and write request units by item size, the table's and its
 *   global secondary index's.
 *
 * Calls to the other AWS APIs Kiln makes (EC2, Auto Scaling, Elastic Load Balancing, SSM Run
 * Command, CloudWatch alarms' reads) carry no per-request charge; the instances themselves, logs,
 * X-Ray traces, SNS notifications and the table's storage are left out (they are not the control
 * plane's per-deployment work, or are fractions of a cent a month).
 *
 * **Billed duration.** The sandbox runs on a virtual clock on which an API call takes no time, so a
 * function's duration cannot be read off it. Each invocation's duration is modelled: the virtual
 * time it spanned (waits on timers: SDK retry backoff, sleeps) + one round trip per AWS call it
 * made (DURATION_MODEL: DynamoDB's and every other API's, assumed) + the INIT phase on a cold
 * start, which Lambda bills since 1 August 2025
 * (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/). Lambda
 * rounds each invocation's duration up to the next millisecond (https://aws.amazon.com/lambda/pricing/:
 * "rounded up to the nearest 1 ms").
 *
 * Prices are us-east-1's, read on PRICES_READ from the pages cited beside each (through the
 * project's search tool, which holds copies of them); free tiers are not subtracted.
 */
import type { DynamoRequest } from '../sandbox/core/metering';

export const PRICES_READ = '2026-12-02';

export interface Price {
  /** US dollars per `per` units. */
  usd: number;
  per: number;
  unit: string;
  source: string;
  read: string;
}

export const PRICES = {
  // "$0.025 per 1,000 state transitions"; US East (N. Virginia) $0.0250 in the Region table.
  stepFunctionsTransition: {
    usd: 0.025,
    per: 1000,
    unit: 'state transitions (Standard workflows, us-east-1)',
    source: 'https://aws.amazon.com/step-functions/pricing/',
    read: PRICES_READ,
  },
  // Requests: $0.20 per 1M, both architectures.
  lambdaRequests: {
    usd: 0.2,
    per: 1_000_000,
    unit: 'requests (us-east-1)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    read: PRICES_READ,
  },
  // Duration, first pricing tier (the first 7.5 billion arm64 / 6 billion x86 GB-s a month). The
  // page renders its rate table from price tokens, so the stored copy's text lacks the figures;
  // they were read from copies of the table (e.g. cloudchipr.com/blog/aws-lambda-pricing).
  lambdaGbSecondArm64: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-second (arm64, us-east-1)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    read: PRICES_READ,
  },
  lambdaGbSecondX86: {
    usd: 0.0000166667,
    per: 1,
    unit: 'GB-second (x86_64, us-east-1)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    read: PRICES_READ,
  },
  // On-demand, Standard table class (the table's default; table.json names no class).
  dynamoWrite: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'write request units (on-demand, Standard table class, us-east-1)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: PRICES_READ,
  },
  dynamoRead: {
    usd: 0.125,
    per: 1_000_000,
    unit: 'read request units (on-demand, Standard table class, us-east-1)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: PRICES_READ,
  },
} as const satisfies Record<string, Price>;

export type Prices = { readonly [K in keyof typeof PRICES]: Price };

/** Assumed times the virtual clock does not give (see the module comment). */
export interface DurationModel {
  /** One DynamoDB request from Lambda in the same Region ("single-digit millisecond"). */
  dynamoDbCallMs: number;
  /** One call to any other AWS API (EC2, Auto Scaling, ELB, SSM, Step Functions, …). */
  otherCallMs: number;
  /** The INIT phase of a cold start: a bundled SDK v3 function inits in ~180–230 ms (TOOLCHAIN.md). */
  initMs: number;
}

export const DURATION_MODEL: DurationModel = { dynamoDbCallMs: 10, otherCallMs: 50, initMs: 200 };

/** One Lambda invocation attempt as the sandbox metered it. */
export interface MeteredInvocation {
  functionKey: string;
  memoryMb: number;
  architecture: 'arm64' | 'x86_64';
  /** Virtual ms from the attempt's start to its end. */
  virtualMs: number;
  /** SDK calls by service id ('DynamoDB', 'EC2', …). */
  calls: Readonly<Record<string, number>>;
  cold: boolean;
}

export interface DeploymentUsage {
  /** States entered plus retries, over every execution. */
  stateTransitions: number;
  invocations: readonly MeteredInvocation[];
  dynamo: readonly DynamoRequest[];
}

/** Lambda's billed duration of one invocation: rounded up to the next whole millisecond. */
export function billedDurationMs(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`billedDurationMs: not a duration: ${ms}`);
  // A float sum like 0.1 + 0.2 must not bill an extra millisecond.
  const rounded = Math.ceil(ms - 1e-9);
  return Math.max(1, rounded);
}

/** An invocation's modelled duration in ms (before rounding). */
export function modelledDurationMs(
  invocation: MeteredInvocation,
  model: DurationModel = DURATION_MODEL,
): number {
  let ms = invocation.virtualMs + (invocation.cold ? model.initMs : 0);
  for (const [service, count] of Object.entries(invocation.calls)) {
    ms += count * (service === 'DynamoDB' ? model.dynamoDbCallMs : model.otherCallMs);
  }
  return ms;
}

/** Memory × time: MB are binary (1,024 MB = 1 GB, as AWS's 128 MB = 0.125 GB), ms are 1/1,000 s. */
export function gbSeconds(memoryMb: number, billedMs: number): number {
  return (memoryMb / 1024) * (billedMs / 1000);
}

export interface DynamoUnits {
  read: number;
  /** The table's write units (dynalite's figures, failed conditions at their minimum of 1). */
  tableWrite: number;
  /** The global secondary index's write units (see indexWriteUnits). */
  indexWrite: number;
}

/**
 * Request units over a run's requests, in order. The index's writes follow "Provisioned
 * throughput considerations for global secondary indexes"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes):
 * writing an item that is (or becomes) in the index writes the index too — one more write of the
 * item's size (the index projects ALL attributes: table.json) — and an update that sets an index
 * key of an item already in it counts two (the old entry deleted, the new one put), as if the key
 * changed (the meter cannot tell an unchanged value apart: an upper bound). A failed condition
 * writes no index.
 */
export function dynamoUnits(requests: readonly DynamoRequest[]): DynamoUnits {
  const indexed = new Set<string>();
  const units: DynamoUnits = { read: 0, tableWrite: 0, indexWrite: 0 };
  for (const request of requests) {
    if (request.kind === 'read') {
      units.read += request.units;
      continue;
    }
    units.tableWrite += request.units;
    if (request.conditionFailed === true || request.item === undefined) continue;
    const was = indexed.has(request.item);
    const sets = request.setsIndexKey === true;
    if (request.operation === 'DeleteItem') {
      if (was) units.indexWrite += request.units;
      indexed.delete(request.item);
    } else if (request.operation === 'PutItem') {
      // A whole-item put of an indexed item replaces its entry in place: one write.
      if (was || sets) units.indexWrite += request.units;
      if (sets) indexed.add(request.item);
      else indexed.delete(request.item);
    } else {
      // UpdateItem: an item keeps its index keys unless the update names them.
      if (was || sets) units.indexWrite += request.units;
      if (was && sets) units.indexWrite += request.units;
      if (sets) indexed.add(request.item);
    }
  }
  return units;
}

export interface CostLine {
  service: 'Step Functions' | 'Lambda' | 'DynamoDB';
  what: string;
  quantity: number;
  price: Price;
  usd: number;
}

export interface CostEstimate {
  lines: CostLine[];
  totalUsd: number;
  /** Lambda: invocations, summed billed ms and GB-seconds (for the printed breakdown). */
  lambda: { invocations: number; billedMs: number; gbSeconds: number; coldStarts: number };
  dynamo: DynamoUnits;
}

const charge = (quantity: number, price: Price): number => (quantity / price.per) * price.usd;

export function estimateCost(
  usage: DeploymentUsage,
  prices: Prices = PRICES,
  model: DurationModel = DURATION_MODEL,
): CostEstimate {
  let billedMs = 0;
  let gbSecondsArm = 0;
  let gbSecondsX86 = 0;
  let coldStarts = 0;
  for (const invocation of usage.invocations) {
    const billed = billedDurationMs(modelledDurationMs(invocation, model));
    billedMs += billed;
    if (invocation.cold) coldStarts++;
    if (invocation.architecture === 'arm64') gbSecondsArm += gbSeconds(invocation.memoryMb, billed);
    else gbSecondsX86 += gbSeconds(invocation.memoryMb, billed);
  }
  const dynamo = dynamoUnits(usage.dynamo);
  const line = (service: CostLine['service'], what: string, quantity: number, price: Price): CostLine => ({
    service,
    what,
    quantity,
    price,
    usd: charge(quantity, price),
  });
  const lines = [
    line('Step Functions', 'state transitions', usage.stateTransitions, prices.stepFunctionsTransition),
    line('Lambda', 'requests', usage.invocations.length, prices.lambdaRequests),
    line('Lambda', 'GB-seconds (arm64)', gbSecondsArm, prices.lambdaGbSecondArm64),
    line('Lambda', 'GB-seconds (x86_64)', gbSecondsX86, prices.lambdaGbSecondX86),
    line('DynamoDB', 'read request units', dynamo.read, prices.dynamoRead),
    line('DynamoDB', 'write request units (table)', dynamo.tableWrite, prices.dynamoWrite),
    line('DynamoDB', 'write request units (index GSI1)', dynamo.indexWrite, prices.dynamoWrite),
  ].filter((l) => l.price !== prices.lambdaGbSecondX86 || l.quantity > 0); // x86 only when used
  return {
    lines,
    totalUsd: lines.reduce((sum, l) => sum + l.usd, 0),
    lambda: {
      invocations: usage.invocations.length,
      billedMs,
      gbSeconds: gbSecondsArm + gbSecondsX86,
      coldStarts,
    },
    dynamo,
  };
}

/** Dollars with enough digits to see a fraction of a cent: `$0.00412`, `$1.25`. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '-';
  if (usd === 0) return '$0';
  if (Math.abs(usd) >= 1) return `$${usd.toFixed(2)}`;
  // Three significant digits below a dollar.
  const digits = Math.min(10, Math.max(2, 2 - Math.floor(Math.log10(Math.abs(usd)))));
  return `$${usd.toFixed(digits)}`;
}
