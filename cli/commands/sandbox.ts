import { InvalidArgumentError, type Command } from 'commander';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FaultRule } from '../../sandbox/core/faults';
import {
  parseBadVersion,
  parseFaultPlanText,
  parseFaultSpec,
  type BadVersion,
} from '../../sandbox/fault-options';
import { isStoryName, storyCatalog } from '../../sandbox/stories/catalog';
// Imported statically: this command is a bundle of its own (scripts/build-cli.mjs), loaded only
// when `kiln sandbox` runs, and an import() here made esbuild wrap the whole simulator and every
// SDK client it reaches in lazy module initialisers, which run each client package's every module
// (its 600-odd commands included) instead of the few the sandbox uses.
import { runSandbox } from '../../sandbox/run';
import { serveSandbox } from '../../sandbox/serve';
import { parseStorySettingsText, type StorySettingsOverrides } from '../../sandbox/stories/settings';

export interface SandboxCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: SandboxCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function integerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

function readFaultsFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `--faults ${file}: cannot read the file (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** `--settings FILE`: read and validated before anything runs; errors name the file and the field. */
function readSettingsFile(file: string): StorySettingsOverrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `--settings ${file}: cannot read the file (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return parseStorySettingsText(text, `--settings ${file}`);
}

/**
 * `--report FILE`: the page is written after the run, so a path it cannot be written to is bad
 * input found before the run starts, not an error after minutes of it.
 */
function checkReportPath(file: string): void {
  const path = resolve(file);
  const where = dirname(path);
  try {
    if (!statSync(where).isDirectory()) throw new Error(`${where} is not a directory`);
    accessSync(where, constants.W_OK);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${path} is a directory`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`--report ${file}: cannot write there (${reason})`);
  }
}

/** Commander option parser for a repeatable option; bad values become commander's usage errors. */
function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[]): T[] => {
    try {
      return [...previous, parse(value)];
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}

function scenarioOption(value: string): string {
  if (!isStoryName(value)) {
    throw new InvalidArgumentError(`--scenario must be one of: ${Object.keys(storyCatalog).join(', ')}.`);
  }
  return value;
}

/**
 * `kiln sandbox --serve PORT`: needs the signing secret (bad input otherwise: exit 1, nothing
 * started); serves until SIGINT or SIGTERM, then exits 0.
 */
async function serve(
  port: number,
  options: { seed: number; fleet: number; verbose?: boolean },
  io: SandboxCommandIo,
): Promise<void> {
  const secret = process.env.KILN_SANDBOX_SLACK_SECRET;
  if (secret === undefined || secret.trim() === '') {
    io.stderr(
      'error: --serve needs the Slack signing secret in KILN_SANDBOX_SLACK_SECRET (any string; sign requests with it)\n',
    );
    process.exitCode = 1;
    return;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    io.stdout(
      `kiln sandbox --serve ${port}: starting checkout in staging and production (seed ${options.seed}, fleet ${options.fleet})…\n`,
    );
    await serveSandbox({
      port,
      secret,
      seed: options.seed,
      fleet: options.fleet,
      print: (line) => io.stdout(`${line}\n`),
      signal: stop.signal,
      functionLogLevel: options.verbose ? 'INFO' : 'WARN',
    });
    io.stdout('kiln sandbox: stopped\n');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `kiln sandbox`: runs Kiln end to end against a simulated AWS region on a virtual clock and
 * exits 0 when the story's checks all pass, 1 when one fails (injected faults included: a step
 * they make impossible is a failed check naming the fault) or an option is bad. Anything else that
 * escapes is a bug in Kiln or the sandbox, which bin/kiln.cjs reports in one line with exit 2;
 * the timeline is written in every case.
 */
export function registerSandbox(program: Command, io: SandboxCommandIo = processIo): void {
  program
    .command('sandbox')
    .description('Run Kiln end to end against a simulated AWS region (no AWS account needed)')
    .option(
      '--seed <n>',
      'seed of the run: the same seed gives the same timeline',
      integerOption('--seed', 0, 2 ** 31 - 1),
      7,
    )
    .option(
      '--fleet <n>',
      'instances in the first environment (the second gets twice as many)',
      integerOption('--fleet', 1, 2000),
      6,
    )
    .option(
      '--scenario <name>',
      `story to run (${Object.keys(storyCatalog).join(', ')})`,
      scenarioOption,
      'default',
    )
    .option('--timeline <file>', 'write everything that happened as JSON Lines')
    .option(
      '--report <file>',
      'write a self-contained HTML page of the run: fleets by release, health, alarms, and what Kiln did (whatever the outcome)',
    )
    .option('--quiet', 'print only the summary')
    .option('--verbose', "also print the functions' own log lines (Powertools JSON)")
    .option(
      '--fault <spec>',
      'inject a fault: kind[:key][@probability], e.g. event-duplicate@0.5, throttle:EC2:RunInstances (repeatable)',
      collect(parseFaultSpec),
      [],
    )
    .option('--faults <file>', 'inject the faults of a JSON or YAML fault plan file')
    .option(
      '--bad-version <spec>',
      'a release that misbehaves once deployed: VERSION[:errors|failing-health] (repeatable)',
      collect(parseBadVersion),
      [],
    )
    .option('--rate-limits', "throttle EC2 and ELBv2 calls at AWS's published request rates")
    .option(
      '--settings <file>',
      "the story's rollout strategy and target group settings, manifest-shaped YAML or JSON (see the README)",
    )
    .option(
      '--serve <port>',
      "keep the default story's service running with the HTTP API (POST /slack) on 127.0.0.1:PORT until interrupted; signing secret from KILN_SANDBOX_SLACK_SECRET",
      integerOption('--serve', 0, 65535),
    )
    .action(
      async (options: {
        seed: number;
        fleet: number;
        scenario: string;
        timeline?: string;
        report?: string;
        quiet?: boolean;
        verbose?: boolean;
        fault: FaultRule[];
        faults?: string;
        badVersion: BadVersion[];
        rateLimits?: boolean;
        settings?: string;
        serve?: number;
      }) => {
        if (options.serve !== undefined) {
          await serve(options.serve, options, io);
          return;
        }
        let faults: FaultRule[];
        let settings: StorySettingsOverrides | undefined;
        try {
          faults = [
            ...options.fault,
            ...(options.faults ? parseFaultPlanText(readFaultsFile(options.faults), options.faults) : []),
          ];
          if (options.settings !== undefined) settings = readSettingsFile(options.settings);
          if (options.report !== undefined) checkReportPath(options.report);
        } catch (error) {
          // Bad input changes nothing: no region is started.
          io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exitCode = 1;
          return;
        }
        const description = isStoryName(options.scenario) ? storyCatalog[options.scenario] : '';
        io.stdout(
          `kiln sandbox: scenario ${options.scenario} (${description}), seed ${options.seed}, fleet ${options.fleet}${options.settings !== undefined ? `, settings ${options.settings}` : ''}\n`,
        );
        const result = await runSandbox({
          seed: options.seed,
          fleet: options.fleet,
          scenario: options.scenario,
          ...(settings !== undefined ? { settings } : {}),
          ...(options.timeline !== undefined ? { timelineFile: options.timeline } : {}),
          ...(options.report !== undefined ? { reportFile: options.report } : {}),
          ...(options.quiet ? {} : { print: (line: string) => io.stdout(`${line}\n`) }),
          functionLogLevel: options.verbose ? 'INFO' : 'WARN',
          region: {
            faults,
            badVersions: options.badVersion,
            ...(options.rateLimits ? { rateLimits: true } : {}),
          },
        });
        io.stdout('\nchecks:\n');
        for (const check of result.checks)
          io.stdout(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
        const figures = Object.entries(result.figures).map(([k, v]) => `${k} ${v}`);
        io.stdout(
          `\n${[
            ...figures,
            `virtual ${Math.round(result.virtualSeconds)} s in ${(result.wallMs / 1000).toFixed(1)} s wall`,
            `${result.apiCalls} API calls`,
            `${result.eventsDelivered} event deliveries`,
            `${result.timelineEntries} timeline entries`,
          ].join(', ')}\n`,
        );
        const struck = result.faultsStruck.map((f) => `${f.rule} ×${f.strikes}`).join(', ');
        if (struck !== '') io.stdout(`faults that struck: ${struck}\n`);
        if (options.timeline) io.stdout(`timeline: ${options.timeline}\n`);
        if (options.report) io.stdout(`report: ${options.report}\n`);
        if (!result.ok) {
          const failed = result.checks.filter((c) => !c.ok).map((c) => c.name);
          io.stderr(
            `kiln sandbox: the story did not run as expected: ${failed.join('; ')}` +
              `${struck !== '' ? ` (faults that struck: ${struck})` : ''}\n`,
          );
          process.exitCode = 1;
        }
      },
    );
}
