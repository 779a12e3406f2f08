/**
 * Kiln's measurements. Prints tables; never passes or fails (CI does not time anything). Ends with
 * one table of every section's headline figures and writes them, with each section's figures as
 * data, to bench/results.json (a run of some sections keeps the others' entries from earlier runs;
 * each entry names the run, commit and seed it came from).
 *
 *   npm run bench                                  # every section
 *   KILN_BENCH_SECTIONS=cold,cli npm run bench     # some of them (cold, cli, bake, rollout, alarms, drain, chatops, cost, fleet)
 *   KILN_BENCH_ROLLOUT_FLEETS=10,100 npm run bench # the rollout section's fleet sizes (default 10,100)
 *   KILN_BENCH_ROUNDS=21 npm run bench             # more paired rounds for cold and cli (default 11)
 *   KILN_BENCH_ENV=clean npm run bench             # measured processes start from PATH and HOME only
 *   KILN_BENCH_ROOT=/tmp/old npm run bench         # cold and cli of another checkout (e.g. an older commit)
 *   KILN_BENCH_COST_FLEET=6 npm run bench          # the cost section's fleet (default 6)
 *   KILN_BENCH_RESULTS=/tmp/r.json npm run bench   # where the figures go (default bench/results.json)
 *
 * cold: every deployed function's cold start as ratios to `node -e 0` (bench/cold-start.ts).
 * cli: `kiln --help` and `kiln validate` as ratios to `node -e 0` (bench/cli-start.ts).
 * bake: one bake's state transitions, Lambda invocations, API calls and virtual time, with events
 * and with every wait's event lost (bench/bake.ts).
 * rollout: one rolling rollout's state transitions, Lambda invocations and API calls per instance,
 * Kiln's callback wait vs a plain 15 s Wait-and-poll loop, at 10 and 100 instances (bench/rollout.ts);
 * blue/green's green healthy → traffic moved, and its rollback time vs a rolling rollback's
 * (bench/rollback.ts).
 * alarms: virtual seconds from an alarm's move into ALARM to the rollback's StartExecution and
 * first AWS call, with the alarm's event delivered and lost (bench/alarm-rollback.ts).
 * drain: lifecycle hooks completed before terminate, 6 and 1,000 at once (bench/drain.ts).
 * chatops: a signed `/kiln` slash command's acknowledgement with a cold handler, wall p50/p99 over
 * fresh processes (bench/chatops-ack.ts; KILN_BENCH_CHATOPS_ROUNDS, default 21).
 * cost: the estimated AWS cost of one deployment at list prices: Step Functions transitions, Lambda
 * requests and GB-seconds, DynamoDB request units (bench/deployment-cost.ts, bench/cost.ts).
 *
 * Fleet table: the instance-refresh story (checkpoints 25/50/100 %, MinHealthy 90 %, warmup 60 s)
 * at several fleet sizes, each a fresh region in this process, smallest first. Figures are the
 * virtual time the refresh took, the wall time the simulation took (the refresh, and the whole
 * run), their ratio, the scheduler steps (grants plus timer firings), the process's resident-set
 * high-water mark after the run (fleets run smallest first, so it is that run's peak), and the
 * growth exponent: the least-squares slope of log(wall) against log(fleet) from 100 instances up
 * (1 is linear).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runSandbox } from '../sandbox/run';
import { alarmRollbackTable } from './alarm-rollback';
import { bakeTable } from './bake';
import { chatopsAckTable } from './chatops-ack';
import { cliStartTable } from './cli-start';
import { coldStartTable } from './cold-start';
import { costSection } from './deployment-cost';
import { drainTable } from './drain';
import { blueGreenTable } from './rollback';
import { summaryTable, writeResults, type Headline, type SectionRecord, type SectionResult } from './results';
import { rolloutTable } from './rollout';

const sections = new Set(
  (process.env.KILN_BENCH_SECTIONS ?? 'cold,cli,bake,rollout,alarms,drain,chatops,cost,fleet').split(','),
);
const rounds = Number(process.env.KILN_BENCH_ROUNDS ?? 11);
const environment = process.env.KILN_BENCH_ENV === 'clean' ? 'clean' : 'inherit';
const root = process.env.KILN_BENCH_ROOT ?? join(__dirname, '..');

// ---------------------------------------------------------------- fleet table

const FLEETS = (process.env.KILN_BENCH_FLEETS ?? '10,100,300,1000,2000').split(',').map(Number);
const SEED = Number(process.env.KILN_BENCH_SEED ?? 7);
const ROLLOUT_FLEETS = (process.env.KILN_BENCH_ROLLOUT_FLEETS ?? '10,100').split(',').map(Number);
const ALARM_FLEETS = (process.env.KILN_BENCH_ALARM_FLEETS ?? '3,10').split(',').map(Number);
/** The cost section's fleet: staging N, production 2N rolling; N blue/green. */
const COST_FLEET = Number(process.env.KILN_BENCH_COST_FLEET ?? 6);
/** The exponent is fitted over fleets at least this large (small fleets are start-up bound). */
const EXPONENT_FROM = 100;

interface FleetRow {
  fleet: number;
  ok: boolean;
  refreshVirtualS: number;
  refreshWallMs: number;
  runWallMs: number;
  steps: number;
  peakRssMb: number;
}

/** Least-squares slope of log(y) against log(x); undefined with fewer than two points. */
function growthExponent(points: ReadonlyArray<{ x: number; y: number }>): number | undefined {
  if (points.length < 2) return undefined;
  const xs = points.map((p) => Math.log(p.x));
  const ys = points.map((p) => Math.log(p.y));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * ((ys[i] ?? my) - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? undefined : num / den;
}

function printTable(out: string[], header: string[], lines: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  out.push(fmt(header));
  out.push(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) out.push(fmt(line));
}

async function fleetTable(): Promise<
  SectionResult<{ rows: FleetRow[]; exponent?: number; stepsExponent?: number }>
> {
  const rows: FleetRow[] = [];
  // A warm-up run so module loading and JIT do not land on the first row.
  await runSandbox({ seed: SEED, fleet: FLEETS[0] ?? 10, scenario: 'instance-refresh' });
  for (const fleet of FLEETS) {
    const result = await runSandbox({ seed: SEED, fleet, scenario: 'instance-refresh' });
    rows.push({
      fleet,
      ok: result.ok,
      refreshVirtualS: Number(result.figures['refresh (virtual s)']),
      refreshWallMs: Number(result.figures['refresh (wall ms)']),
      runWallMs: result.wallMs,
      steps: result.schedulerSteps,
      // maxRSS is in kilobytes (https://nodejs.org/api/process.html#processresourceusage).
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    });
  }
  const lines: string[] = [
    `sandbox instance refresh by fleet (seed ${SEED}; checkpoints 25/50/100 %, MinHealthy 90 %, warmup 60 s)`,
  ];
  printTable(
    lines,
    [
      'fleet',
      'checks',
      'refresh virtual (s)',
      'refresh wall (ms)',
      'run wall (ms)',
      'virtual:wall',
      'scheduler steps',
      'steps per instance',
      'peak RSS (MB)',
    ],
    rows.map((r) => [
      String(r.fleet),
      r.ok ? 'pass' : 'FAIL',
      String(Math.round(r.refreshVirtualS)),
      String(Math.round(r.refreshWallMs)),
      String(Math.round(r.runWallMs)),
      `${Math.round((r.refreshVirtualS * 1000) / r.refreshWallMs)}×`,
      String(r.steps),
      String(Math.round(r.steps / r.fleet)),
      String(Math.round(r.peakRssMb)),
    ]),
  );
  const fitted = rows.filter((r) => r.fleet >= EXPONENT_FROM);
  const exponent = growthExponent(fitted.map((r) => ({ x: r.fleet, y: r.runWallMs })));
  const stepsExponent = growthExponent(fitted.map((r) => ({ x: r.fleet, y: r.steps })));
  lines.push(
    exponent === undefined
      ? `growth exponent: needs two fleets of ${EXPONENT_FROM} or more`
      : `growth exponent (run wall vs fleet, ${fitted.map((r) => r.fleet).join(', ')}): ` +
          `${exponent.toFixed(2)}; scheduler steps: ${stepsExponent?.toFixed(2) ?? '-'} (1 is linear)`,
  );
  const largest = rows[rows.length - 1];
  const headlines: Headline[] = [
    ...(largest === undefined
      ? []
      : [
          {
            figure: `instance refresh of ${largest.fleet} instances: virtual s / wall ms (checks)`,
            value: `${Math.round(largest.refreshVirtualS)} s / ${Math.round(largest.runWallMs)} ms (${largest.ok ? 'pass' : 'FAIL'})`,
          },
        ]),
    {
      figure: `sandbox growth exponent, run wall vs fleet (${fitted.map((r) => r.fleet).join(', ')})`,
      value: exponent === undefined ? '-' : exponent.toFixed(2),
    },
  ];
  return {
    text: lines.join('\n'),
    headlines,
    data: {
      rows,
      ...(exponent === undefined ? {} : { exponent }),
      ...(stepsExponent === undefined ? {} : { stepsExponent }),
    },
  };
}

// ---------------------------------------------------------------- main

/** The sections in the order they run: process start-ups first, while this process is small and quiet. */
const SECTIONS: ReadonlyArray<readonly [string, () => Promise<SectionResult | SectionResult[]>]> = [
  ['cold', () => coldStartTable(root, { rounds, environment })],
  ['cli', () => cliStartTable(root, { rounds, environment })],
  ['bake', () => bakeTable(SEED)],
  [
    'rollout',
    async () => [await rolloutTable(SEED, ROLLOUT_FLEETS), await blueGreenTable(SEED, ROLLOUT_FLEETS)],
  ],
  ['alarms', () => alarmRollbackTable(SEED, ALARM_FLEETS)],
  ['drain', () => drainTable(SEED)],
  ['chatops', () => chatopsAckTable(root, Number(process.env.KILN_BENCH_CHATOPS_ROUNDS ?? 21))],
  ['cost', () => costSection(SEED, COST_FLEET)],
  ['fleet', () => fleetTable()],
];

async function main(): Promise<void> {
  const unknown = [...sections].filter((name) => !SECTIONS.some(([known]) => known === name));
  if (unknown.length > 0) {
    console.error(
      `KILN_BENCH_SECTIONS: unknown section ${unknown.join(', ')} (known: ${SECTIONS.map(([n]) => n).join(', ')})`,
    );
    process.exit(1);
  }
  const startedAt = new Date().toISOString();
  // Read now: the checkout may move on while a long run goes.
  const commit = commitOf(root);
  const records: SectionRecord[] = [];
  let failed = false;
  for (const [name, run] of SECTIONS) {
    if (!sections.has(name)) continue;
    const started = performance.now();
    try {
      const results = [await run()].flat();
      for (const result of results) console.log(`${result.text}\n`);
      records.push({
        name,
        headlines: results.flatMap((r) => r.headlines),
        data: results.length === 1 ? results[0]?.data : results.map((r) => r.data),
        wallMs: performance.now() - started,
      });
    } catch (error) {
      // One section's crash must not lose the others' figures: report it and go on.
      failed = true;
      const message = error instanceof Error ? error.message : String(error);
      console.error(`bench section ${name} failed:`, error);
      records.push({
        name,
        headlines: [{ figure: 'section failed', value: message.split('\n')[0] ?? '' }],
        data: { error: message },
        wallMs: performance.now() - started,
      });
    }
  }
  console.log(summaryTable(records));
  const file = process.env.KILN_BENCH_RESULTS ?? join(__dirname, 'results.json');
  writeResults(file, { startedAt, seed: SEED, node: process.version, ...commit }, records);
  console.log(`\nfigures written to ${file}`);
  if (failed) process.exit(1);
}

/** The checkout's commit, for the results file (absent outside a git checkout). */
function commitOf(dir: string): { commit?: string } {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' });
  return head.status === 0 && head.stdout.trim() !== '' ? { commit: head.stdout.trim() } : {};
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
