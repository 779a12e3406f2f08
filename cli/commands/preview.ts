import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
// Imported statically: like `kiln sandbox`, this command is a bundle of its own
// (scripts/build-cli.mjs), and an import() here would wrap the simulator in lazy initialisers.
import { previewInput, PreviewInputError } from '../../sandbox/preview/input';
import { formatPreview, previewRollout, RehearsalIncompleteError } from '../../sandbox/preview/preview';
import { parseStorySettingsText, StorySettingsError } from '../../sandbox/stories/settings';
import { readManifestFile, readManifestText } from '../manifest-file';

export interface PreviewCommandIo {
  readFile: (path: string) => Promise<string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: PreviewCommandIo = {
  readFile: readManifestFile,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** `--fleet N`: commander's usage error (exit 1) names the option. */
function fleetOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 200) {
    throw new InvalidArgumentError('--fleet must be a whole number from 1 to 200.');
  }
  return Number(value);
}

/** `--settings FILE`: only its `targetGroup` section (the strategy is the manifest's). */
function targetGroupOf(file: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PreviewInputError(
      `--settings ${file}: cannot read the file (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const settings = parseStorySettingsText(text, `--settings ${file}`);
  if (settings.strategy !== undefined) {
    throw new PreviewInputError(
      `--settings ${file}: strategy: preview takes the strategy from the manifest; give only targetGroup`,
    );
  }
  return settings.targetGroup;
}

/**
 * `kiln preview -f MANIFEST --env ENV`: rehearses that environment's rollout in the sandbox and
 * prints what it will be like. Exit 0 when the manifest's constraints hold, 1 when they cannot
 * (each reason on stderr) or the input is bad (one line naming the option or field); anything
 * else that escapes is a Kiln bug, which bin/kiln.cjs reports with exit 2.
 */
export function registerPreview(program: Command, io: PreviewCommandIo = processIo): void {
  program
    .command('preview')
    .description("Rehearse an environment's rollout in the sandbox and report what it will be like.")
    .requiredOption('-f, --file <manifest>', 'the service manifest (YAML)')
    .requiredOption('--env <name>', 'the environment to rehearse')
    .option('--fleet <n>', 'instances in the environment (default 6)', fleetOption)
    .option('--bad-version', 'the new release serves 5xx: rehearse what Kiln does about it')
    .option('--settings <file>', "the target group's health checks (targetGroup, as kiln sandbox --settings)")
    .option('--json', 'print the report as JSON on stdout')
    .action(
      async (options: {
        file: string;
        env: string;
        fleet?: number;
        badVersion?: boolean;
        settings?: string;
        json?: boolean;
      }) => {
        let input;
        try {
          const read = await readManifestText(options.file, io.readFile);
          if ('problem' in read) throw new PreviewInputError(`-f ${options.file}: ${read.problem}`);
          const targetGroup = options.settings === undefined ? undefined : targetGroupOf(options.settings);
          input = previewInput({
            text: read.text,
            file: options.file,
            env: options.env,
            ...(options.fleet === undefined ? {} : { fleet: options.fleet }),
            ...(targetGroup === undefined ? {} : { targetGroup }),
          });
        } catch (error) {
          if (!(error instanceof PreviewInputError || error instanceof StorySettingsError)) throw error;
          // Bad input changes nothing: no region is started.
          io.stderr(`error: ${error.message}\n`);
          process.exitCode = 1;
          return;
        }
        let report;
        try {
          report = await previewRollout({ input, badVersion: options.badVersion === true });
        } catch (error) {
          if (!(error instanceof RehearsalIncompleteError)) throw error;
          io.stderr(`kiln preview: ${error.message}\n`);
          process.exitCode = 1;
          return;
        }
        io.stdout(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatPreview(report));
        if (report.violations.length > 0) {
          io.stderr(
            `kiln preview: the manifest's constraints for ${report.service}/${report.environment} cannot hold: ${report.violations.join('; ')}\n`,
          );
          process.exitCode = 1;
        }
      },
    );
}
