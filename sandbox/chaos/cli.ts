/**
 * `npm run chaos -- --seeds N`: runs seeds 1..N (or `--seed S`, one seed: the replay of a failure)
 * through sandbox/chaos/run.ts on worker processes, prints one line per seed, and for every failing
 * seed its invariants and the exact command that replays it. Exit 0 when every seed kept every
 * invariant, 1 when one did not or the arguments are wrong.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { stories } from '../stories';
import { runChaosSeed, SABOTAGES, type ChaosOutcome, type ChaosRunOptions, type Sabotage } from './run';

export interface ChaosCliOptions {
  seeds: number[];
  scenario: string;
  fleet: number;
  workers: number;
  sabotage?: Sabotage;
  json?: string;
  /** With --seed: the run's timeline as JSON Lines. */
  timeline?: string;
  /** Wall seconds one seed may take before its worker is stopped and the seed counted failed. */
  seedTimeoutSeconds: number;
}

function positiveInt(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`${what} must be a whole number ≥ 1, got ${value}`);
    return n;
  };
}

/** Parses the arguments after `npm run chaos --`; throws TypeError naming the option on bad input. */
export function parseChaosArgs(argv: readonly string[]): ChaosCliOptions {
  const program = new Command('chaos')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .option('--seeds <n>', 'run seeds --from … --from+n-1', positiveInt('--seeds'))
    .option('--from <n>', 'first seed of --seeds', positiveInt('--from'), 1)
    .option(
      '--seed <n>',
      'run this one seed (what a failing seed prints to replay it)',
      positiveInt('--seed'),
    )
    .option('--scenario <name>', 'story to run', 'default')
    .option('--fleet <n>', 'instances in the first environment', positiveInt('--fleet'), 2)
    .option('--workers <n>', 'worker processes', positiveInt('--workers'), 2)
    .addOption(
      new Option('--sabotage <name>', 'break Kiln on purpose (proves the invariants)').choices(SABOTAGES),
    )
    .option('--json <file>', 'write every outcome as JSON')
    .option('--timeline <file>', "with --seed: write the run's timeline as JSON Lines")
    .option('--seed-timeout <s>', 'wall seconds one seed may take', positiveInt('--seed-timeout'), 600);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError)
      throw new TypeError(`chaos: ${error.message.replace(/^error: /, '')}`);
    throw error;
  }
  const o = program.opts<{
    seeds?: number;
    from: number;
    seed?: number;
    scenario: string;
    fleet: number;
    workers: number;
    sabotage?: Sabotage;
    json?: string;
    timeline?: string;
    seedTimeout: number;
  }>();
  if ((o.seeds === undefined) === (o.seed === undefined)) {
    throw new TypeError('chaos: give either --seeds N (a batch) or --seed S (one seed)');
  }
  if (o.timeline !== undefined && o.seed === undefined)
    throw new TypeError('chaos: --timeline needs --seed (one run)');
  if (!Object.hasOwn(stories, o.scenario)) {
    throw new TypeError(
      `chaos: --scenario: unknown story ${o.scenario} (known: ${Object.keys(stories).join(', ')})`,
    );
  }
  const seeds = o.seed !== undefined ? [o.seed] : Array.from({ length: o.seeds ?? 0 }, (_, i) => o.from + i);
  return {
    seeds,
    scenario: o.scenario,
    fleet: o.fleet,
    workers: o.workers,
    seedTimeoutSeconds: o.seedTimeout,
    ...(o.sabotage === undefined ? {} : { sabotage: o.sabotage }),
    ...(o.json === undefined ? {} : { json: o.json }),
    ...(o.timeline === undefined ? {} : { timeline: o.timeline }),
  };
}

/** The command that replays one seed exactly (same story, fleet and sabotage). */
export function replayCommand(run: ChaosRunOptions): string {
  return (
    `npm run chaos -- --seed ${run.seed} --scenario ${run.scenario} --fleet ${run.fleet}` +
    (run.sabotage === undefined ? '' : ` --sabotage ${run.sabotage}`)
  );
}

/** One line per seed while the batch runs. */
export function formatOutcome(o: ChaosOutcome): string {
  const wall = `${(o.wallMs / 1000).toFixed(1)} s`;
  const story =
    o.storyChecksFailed.length === 0 ? 'story ok' : `story: ${o.storyChecksFailed.length} check(s) failed`;
  const head = `seed ${o.seed} ${o.ok ? 'ok    ' : 'FAILED'} ${wall}, ${story}, settled in ${o.settleSeconds} s, ${o.faultsStruck.length} fault rule(s) struck`;
  return o.ok ? head : [head, ...o.violations.map((v) => `    ${v.invariant}: ${v.detail}`)].join('\n');
}

/** The end of a batch: counts, time, and for each failing seed why and how to replay it. */
export function formatSummary(outcomes: readonly ChaosOutcome[], wallMs: number): string {
  const failed = outcomes.filter((o) => !o.ok);
  const lines = [
    '',
    `chaos: ${outcomes.length} seed(s), ${outcomes.length - failed.length} kept every invariant, ${failed.length} failed, in ${(wallMs / 1000).toFixed(1)} s`,
  ];
  const byInvariant = new Map<string, number>();
  for (const o of failed)
    for (const v of new Set(o.violations.map((x) => x.invariant)))
      byInvariant.set(v, (byInvariant.get(v) ?? 0) + 1);
  if (byInvariant.size > 0)
    lines.push(`broken: ${[...byInvariant].map(([k, n]) => `${k} (${n} seed(s))`).join(', ')}`);
  for (const o of failed) {
    lines.push('', `seed ${o.seed}: ${o.violations.length} violation(s); schedule: ${o.schedule.join('; ')}`);
    for (const v of o.violations) lines.push(`  ${v.invariant}: ${v.detail}`);
    lines.push(`  replay: ${replayCommand(o)}`);
  }
  return lines.join('\n');
}

type WorkerMessage = { outcome: ChaosOutcome };

/** Runs the seeds on `workers` processes (in this one when there is a single seed or worker). */
export async function runSeeds(
  options: ChaosCliOptions,
  onOutcome: (outcome: ChaosOutcome) => void,
): Promise<ChaosOutcome[]> {
  const runOptions = (seed: number): ChaosRunOptions => ({
    seed,
    scenario: options.scenario,
    fleet: options.fleet,
    ...(options.sabotage === undefined ? {} : { sabotage: options.sabotage }),
  });
  const outcomes: ChaosOutcome[] = [];
  if (options.workers === 1 || options.seeds.length === 1) {
    for (const seed of options.seeds) {
      const outcome = await runChaosSeed({
        ...runOptions(seed),
        ...(options.timeline === undefined ? {} : { timelineFile: options.timeline }),
      });
      outcomes.push(outcome);
      onOutcome(outcome);
    }
    return outcomes;
  }
  const queue = [...options.seeds];
  const worker = async (): Promise<void> => {
    let child: ChildProcess | undefined;
    const start = (): ChildProcess =>
      fork(join(__dirname, 'worker.ts'), [], {
        execArgv: process.execArgv,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      child ??= start();
      const running = child;
      const options_ = runOptions(seed);
      const outcome = await new Promise<ChaosOutcome>((resolve) => {
        const fail = (why: string): void => {
          running.removeAllListeners();
          child = undefined; // the next seed gets a fresh process
          resolve({
            ...options_,
            ok: false,
            violations: [{ invariant: 'run', detail: why }],
            schedule: [],
            storyChecksFailed: [],
            faultsStruck: [],
            virtualSeconds: 0,
            settleSeconds: 0,
            wallMs: 0,
          });
        };
        const timer = setTimeout(() => {
          running.kill('SIGKILL');
          fail(`the seed took longer than ${options.seedTimeoutSeconds} s of wall time (a hang?)`);
        }, options.seedTimeoutSeconds * 1000);
        running.once('message', (message: WorkerMessage) => {
          clearTimeout(timer);
          running.removeAllListeners();
          resolve(message.outcome);
        });
        running.once('exit', (code) => {
          clearTimeout(timer);
          fail(`the worker process exited (code ${code ?? 'signal'}) during the seed`);
        });
        running.send(options_);
      });
      outcomes.push(outcome);
      onOutcome(outcome);
    }
    child?.disconnect();
  };
  await Promise.all(Array.from({ length: Math.min(options.workers, options.seeds.length) }, () => worker()));
  return outcomes.sort((a, b) => a.seed - b.seed);
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: ChaosCliOptions;
  try {
    options = parseChaosArgs(argv);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
  const started = performance.now();
  console.log(
    `chaos: ${options.seeds.length} seed(s) of scenario ${options.scenario} at fleet ${options.fleet} on ` +
      `${Math.min(options.workers, options.seeds.length)} worker(s)` +
      (options.sabotage === undefined ? '' : `, sabotaged: ${options.sabotage}`),
  );
  const outcomes = await runSeeds(options, (o) => console.log(formatOutcome(o)));
  const wallMs = performance.now() - started;
  console.log(formatSummary(outcomes, wallMs));
  if (options.json !== undefined)
    writeFileSync(options.json, `${JSON.stringify({ wallMs: Math.round(wallMs), outcomes }, null, 2)}\n`);
  return outcomes.every((o) => o.ok) ? 0 : 1;
}
