/**
 * Whole-process timings, paired against a baseline in the same run. The machine's speed drifts
 * (other work, frequency scaling, a loaded CI runner), so an absolute time says little; the ratio
 * of a command to a baseline run just before it says how much work the command adds. Each round
 * runs the baseline before every subject, alternating; a subject's figure is the median of its
 * per-round ratios (one slow or lucky round does not move it).
 *
 * Two clocks per run: wall time (spawn to exit) and CPU time (user + system of the whole process
 * and its threads, from bash's `times` builtin). On a busy machine the wall time also counts the
 * time a process waited for a core; CPU time does not, so it is the steadier figure, and it is
 * what a cold start on Lambda pays (at 512 MB a function gets a fraction of one vCPU:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
 */
import { spawn } from 'node:child_process';

export interface Command {
  /** Argument vector; argv[0] is the executable. */
  argv: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunOutcome {
  wallMs: number;
  /** User + system CPU time of the command's process (and its threads). */
  cpuMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

// Runs the command, then prints the CPU time of the shell's finished children on fd 3.
const TIMED = 'e=0; "$@" || e=$?; times >&3; exit $e';

/** `0m0.052s 0m0.008s` → 60 (the children's line of bash's `times`). */
export function parseTimes(text: string): number {
  const lines = text.trim().split('\n');
  const children = lines[lines.length - 1] ?? '';
  const parts = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map(([, m, s]) => Number(m) * 60 + Number(s));
  if (parts.length !== 2) throw new Error(`cannot read bash's times output: ${JSON.stringify(text)}`);
  return ((parts[0] ?? 0) + (parts[1] ?? 0)) * 1000;
}

/** Runs one command to its exit; the time is from spawn to exit, start-up included. */
export function runOnce(command: Command): Promise<RunOutcome> {
  if (command.argv.length === 0) return Promise.reject(new Error('runOnce: empty argv'));
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-c', TIMED, 'bash', ...command.argv], {
      env: command.env ?? process.env,
      cwd: command.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const cpu: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdio[3]?.on('data', (chunk: Buffer) => cpu.push(chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      // 'close' follows once the pipes drain; the time is taken at exit.
      child.once('close', () =>
        resolve({
          wallMs,
          cpuMs: parseTimes(Buffer.concat(cpu).toString('utf8')),
          code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
    });
  });
}

export interface Subject {
  name: string;
  /** Called once per round, so each run can get its own input (round 0 is the warm-up). */
  command: (round: number) => Command;
  /** Checks a run's outcome; a message means the run did not do what it should. */
  check?: (outcome: RunOutcome, round: number) => string | undefined;
}

export interface Ratio {
  /** Median of the per-round ratios subject / baseline. */
  median: number;
  /** Lowest and highest per-round ratio: a wide spread says the machine was noisy. */
  min: number;
  max: number;
}

export interface PairedResult {
  name: string;
  cpu: Ratio;
  wall: Ratio;
  failures: string[];
}

export interface PairedRun {
  /** The baseline's median CPU and wall time, for the record. */
  baseline: { cpuMs: number; wallMs: number };
  rounds: number;
  results: PairedResult[];
}

function ratioOf(values: readonly number[]): Ratio {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * `rounds` timed rounds after one warm-up round (page cache, first-run effects): in each, the
 * baseline runs before every subject, so each subject is paired with a baseline run just before it.
 */
export async function pairedRuns(
  baseline: Command,
  subjects: readonly Subject[],
  rounds: number,
): Promise<PairedRun> {
  const cpu = subjects.map(() => [] as number[]);
  const wall = subjects.map(() => [] as number[]);
  const failures = subjects.map(() => [] as string[]);
  const baselineCpu: number[] = [];
  const baselineWall: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    for (const [i, subject] of subjects.entries()) {
      const base = await runOnce(baseline);
      if (base.code !== 0) throw new Error(`baseline ${baseline.argv.join(' ')} exited ${base.code}`);
      const outcome = await runOnce(subject.command(round));
      const problem =
        outcome.code !== 0
          ? `exited ${outcome.code}: ${outcome.stderr.trim().split('\n').slice(-3).join(' / ')}`
          : subject.check?.(outcome, round);
      if (problem !== undefined) failures[i]?.push(`round ${round}: ${problem}`);
      if (round === 0) continue;
      baselineCpu.push(base.cpuMs);
      baselineWall.push(base.wallMs);
      cpu[i]?.push(outcome.cpuMs / base.cpuMs);
      wall[i]?.push(outcome.wallMs / base.wallMs);
    }
  }
  return {
    baseline: { cpuMs: median(baselineCpu), wallMs: median(baselineWall) },
    rounds,
    results: subjects.map((subject, i) => ({
      name: subject.name,
      cpu: ratioOf(cpu[i] ?? []),
      wall: ratioOf(wall[i] ?? []),
      failures: failures[i] ?? [],
    })),
  };
}

/** `1.43×`. */
export function times(ratio: number | undefined): string {
  return ratio !== undefined && Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '-';
}

/** A Markdown table with right-aligned columns (numbers line up). */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`;
  return [fmt(header), rule, ...rows.map(fmt)].join('\n');
}
