import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadRoutes, RoutesError } from '../../sandbox/core/routes';
import { functionEventSchemas } from '../../shared/events/function-schemas';
import { eventChecker, failed, type EventCheckResult } from '../events-check';

/** Where the command reads and writes; tests pass their own. */
export interface EventsIo {
  readFile: (path: string) => Promise<string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The serverless.yml Kiln deploys from (the one beside this CLI), unless --serverless says. */
  defaultServerlessFile: () => string | undefined;
}

/** Event files are small JSON documents; anything larger is not one (and is not read whole). */
const MAX_EVENT_BYTES = 256 * 1024;

const processIo: EventsIo = {
  readFile: (path) => readFile(path, 'utf8'),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // The package's own serverless.yml (dist/.. in the bundle, the repository root from sources)
  // before the working directory's: a CI team runs this in its own repository, whose serverless.yml
  // (if any) is not Kiln's. The working directory's only when the CLI was copied away from it.
  defaultServerlessFile: () =>
    [
      join(__dirname, '..', 'serverless.yml'),
      join(__dirname, '..', '..', 'serverless.yml'),
      join(process.cwd(), 'serverless.yml'),
    ].find((file) => existsSync(file)),
};

function parameter(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError(`--param must be NAME=VALUE (got "${value}").`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/**
 * `kiln events check FILE...`: for each event file, which Kiln functions it reaches under
 * serverless.yml's EventBridge patterns (resolved for --stage, --region, --account and --param, as
 * `osls deploy` would resolve them) and whether each of those parses it, naming the field at
 * fault. A file that reaches a function that parses it prints `FILE: FUNCTION parses it` on stdout;
 * every problem goes to stderr as `FILE: …`. Exit 0 when every file reaches at least one function
 * and parses, 1 otherwise or on a bad argument (one line).
 */
export function registerEvents(program: Command, io: EventsIo = processIo): void {
  const events = program
    .command('events')
    .description('Check events against the patterns and schemas Kiln deploys.')
    // A bad argument is one line (the command's usage is one `--help` away).
    .showHelpAfterError(false);
  events
    .command('check')
    .showHelpAfterError(false)
    .description('Show which Kiln functions each event reaches, and whether they parse it.')
    .argument('<files...>', 'event files (JSON, as EventBridge delivers them)')
    .option('--serverless <file>', "the serverless.yml to read the patterns from (default: Kiln's own)")
    .option('--stage <stage>', 'the stage the patterns are resolved for', 'dev')
    .option('--region <region>', 'the Region the patterns are resolved for', 'us-east-1')
    .option('--account <id>', 'the account id the patterns are resolved for', '123456789012')
    .option(
      '--param <name=value>',
      'a stage parameter, as osls deploy --param takes it (repeatable)',
      parameter,
    )
    .option('--json', 'print results as JSON on stdout')
    .action(
      async (
        files: string[],
        options: {
          serverless?: string;
          stage: string;
          region: string;
          account: string;
          param?: Record<string, string>;
          json?: boolean;
        },
      ) => {
        const serverlessFile = options.serverless ?? io.defaultServerlessFile();
        if (serverlessFile === undefined) {
          io.stderr("error: cannot find Kiln's serverless.yml; name one with --serverless\n");
          process.exitCode = 1;
          return;
        }
        let checker;
        try {
          const routes = loadRoutes(serverlessFile, {
            stage: options.stage,
            region: options.region,
            accountId: options.account,
            params: options.param ?? {},
          });
          checker = eventChecker(routes.eventBridge, functionEventSchemas);
        } catch (error) {
          // A file that cannot be read (an fs error, with its code) or a serverless.yml Kiln cannot
          // route: bad input. Anything else is a bug and propagates.
          if (!(error instanceof RoutesError) && !isSystemError(error)) throw error;
          io.stderr(`error: cannot read the patterns in ${serverlessFile}: ${messageOf(error)}\n`);
          process.exitCode = 1;
          return;
        }
        const results: EventCheckResult[] = [];
        for (const file of files) {
          let text: string;
          try {
            text = await io.readFile(file);
          } catch (error) {
            results.push(failed(file, `cannot be read (${messageOf(error)})`));
            continue;
          }
          results.push(
            Buffer.byteLength(text, 'utf8') > MAX_EVENT_BYTES
              ? failed(file, `is larger than ${MAX_EVENT_BYTES / 1024} KiB, which no EventBridge event is`)
              : checker.check(file, text),
          );
        }
        if (options.json === true) io.stdout(`${JSON.stringify(results, null, 2)}\n`);
        else for (const result of results) print(result, io);
        // Not process.exit(): the embedding program (and tests) decide when the process ends.
        if (results.some((result) => !result.ok)) process.exitCode = 1;
      },
    );
}

/** Node's fs errors carry a string `code` (ENOENT, EACCES, EISDIR, …). */
function isSystemError(error: unknown): error is { code: string; message: string } {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string';
}

function messageOf(error: unknown): string {
  return typeof error === 'object' &&
    error !== null &&
    'message' in error &&
    typeof error.message === 'string'
    ? error.message
    : String(error);
}

function print(result: EventCheckResult, io: EventsIo): void {
  const { file } = result;
  if (result.problem !== null) {
    io.stderr(`${file}: ${result.problem}\n`);
    return;
  }
  if (result.reached.length === 0) {
    io.stderr(
      `${file}: reaches no Kiln function (source ${JSON.stringify(result.source)}, detail-type ${JSON.stringify(result.detailType)} match no deployed pattern)\n`,
    );
    return;
  }
  for (const reached of result.reached) {
    if (reached.parses) {
      io.stdout(`${file}: ${reached.function} parses it\n`);
    } else {
      for (const issue of reached.issues)
        io.stderr(`${file}: ${reached.function} refuses it: ${issue.field}: ${issue.message}\n`);
    }
  }
}
