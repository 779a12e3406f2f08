/**
 * The `kiln` command's start-up as ratios to `node -e 0`, measured side by side
 * (bench/paired.ts): `kiln --help` (loads the command list and nothing of any command),
 * `kiln validate` of an example manifest (loads that command alone), and `kiln NAME --help` of
 * the deployment commands (each loads its own bundle, SDK clients included, and registers itself:
 * what every run of it pays before its first AWS call). The CLI is bundled afresh into a
 * temporary folder first, exactly as `npm install` bundles it into dist/.
 *
 * Budgets (issue 8): `kiln --help` ≤ 1.3×, `kiln validate` ≤ 2×; the deployment commands are held
 * to validate's. Printed beside the figures.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { baseEnvironment, type ColdStartOptions } from './cold-start';
import { pairedRuns, renderTable, times, type RunOutcome } from './paired';
import type { Headline, SectionResult } from './results';

export const CLI_BUDGET = { help: 1.3, validate: 2, command: 2 } as const;

/** Commands whose own load is measured as `kiln NAME --help` (issue 10's deployment commands). */
export const LOADED_COMMANDS = ['status', 'deploy', 'rollback', 'approve', 'abort'] as const;

export interface CliStartData {
  rounds: number;
  baseline: { cpuMs: number; wallMs: number };
  commands: Array<{
    command: string;
    cpu: number;
    wall: number;
    budget: number | undefined;
    failures: string[];
  }>;
}

export async function cliStartTable(
  root: string,
  options: ColdStartOptions,
): Promise<SectionResult<CliStartData>> {
  const { rounds } = options;
  const home = mkdtempSync(join(tmpdir(), 'kiln-bench-cli-'));
  try {
    mkdirSync(join(home, 'bin'));
    for (const file of ['kiln.cjs', 'compile-cache.cjs'])
      copyFileSync(join(root, 'bin', file), join(home, 'bin', file));
    const built = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'build-cli.mjs'), '--outfile', join(home, 'dist', 'kiln.cjs')],
      { cwd: root, encoding: 'utf8' },
    );
    if (built.status !== 0) throw new Error(`building the CLI failed: ${built.stderr}`);
    const kiln = join(home, 'bin', 'kiln.cjs');
    const env: NodeJS.ProcessEnv = { ...baseEnvironment(options.environment), HOME: home };
    const expect =
      (text: string) =>
      (outcome: RunOutcome): string | undefined =>
        outcome.stdout.includes(text) ? undefined : `printed no "${text}"`;
    const paired = await pairedRuns(
      { argv: [process.execPath, '-e', '0'], env, cwd: root },
      [
        {
          name: 'kiln --help',
          command: () => ({ argv: [process.execPath, kiln, '--help'], env, cwd: root }),
          check: expect('validate'),
        },
        {
          name: 'kiln validate examples/checkout.yml',
          command: () => ({
            argv: [process.execPath, kiln, 'validate', 'examples/checkout.yml'],
            env,
            cwd: root,
          }),
          check: expect('examples/checkout.yml: ok'),
        },
        ...LOADED_COMMANDS.map((name) => ({
          name: `kiln ${name} --help`,
          command: () => ({ argv: [process.execPath, kiln, name, '--help'], env, cwd: root }),
          check: expect(`Usage: kiln ${name}`),
        })),
      ],
      rounds,
    );
    const budgets = [CLI_BUDGET.help, CLI_BUDGET.validate, ...LOADED_COMMANDS.map(() => CLI_BUDGET.command)];
    const table = renderTable(
      ['command', 'CPU', 'wall', 'budget', 'spread (CPU)'],
      paired.results.map((r, i) => [
        r.name,
        times(r.cpu.median),
        times(r.wall.median),
        times(budgets[i]),
        `${times(r.cpu.min)}–${times(r.cpu.max)}`,
      ]),
    );
    const failures = paired.results.flatMap((r) => r.failures.map((f) => `${r.name}: ${f}`));
    const commands = paired.results.map((r, i) => ({
      command: r.name,
      cpu: r.cpu.median,
      wall: r.wall.median,
      budget: budgets[i],
      failures: r.failures,
    }));
    const headline = (command: CliStartData['commands'][number] | undefined): Headline[] =>
      command === undefined
        ? []
        : [
            {
              figure: `${command.command} (CPU, × node -e 0)`,
              value: `${times(command.cpu)} (budget ${times(command.budget)})`,
            },
          ];
    const slowestCommand = commands.slice(2).sort((a, b) => b.cpu - a.cpu)[0];
    const text = [
      `kiln start-up: ratios to node -e 0, median of ${rounds} paired rounds; environment: ${options.environment}` +
        (env.NODE_EXTRA_CA_CERTS === undefined ? '' : ', NODE_EXTRA_CA_CERTS set'),
      table,
      `node -e 0 took ${paired.baseline.cpuMs.toFixed(0)} ms CPU, ${paired.baseline.wallMs.toFixed(0)} ms wall (medians)`,
      ...failures,
    ].join('\n');
    return {
      text,
      headlines: [...headline(commands[0]), ...headline(commands[1]), ...headline(slowestCommand)],
      data: { rounds, baseline: paired.baseline, commands },
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
