import type { Command } from 'commander';
import { validateManifestSource } from '../../shared/domain/manifest/yaml';
import { readManifestFile, readManifestText } from '../manifest-file';

/** Where the command reads and writes; tests pass their own. */
export interface ValidateIo {
  readFile: (path: string) => Promise<string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface ValidateJsonError {
  line: number | null;
  column: number | null;
  /** Dotted field path; null for YAML syntax errors and for unreadable or oversized files. */
  field: string | null;
  message: string;
}

export interface ValidateJsonResult {
  file: string;
  valid: boolean;
  errors: ValidateJsonError[];
}

const processIo: ValidateIo = {
  readFile: readManifestFile,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * `kiln validate <files...>`: checks service manifests like a compiler checks sources. Every
 * problem goes to stderr as `FILE:LINE:COL message` (`FILE: message` for the whole file, such as
 * its size), a valid file prints `FILE: ok`, and the exit code is 1 when any file is invalid,
 * unreadable or too large; every file is checked either way. `--json` prints one result per file.
 */
export function registerValidate(program: Command, io: ValidateIo = processIo): void {
  program
    .command('validate')
    .description('Check service manifests (YAML) against the manifest schema.')
    .argument('<files...>', 'manifest files to check')
    .option('--json', 'print results as JSON on stdout')
    .action(async (files: string[], options: { json?: boolean }) => {
      const results: ValidateJsonResult[] = [];
      for (const file of files) results.push(await validateFile(file, io));

      if (options.json === true) {
        io.stdout(`${JSON.stringify(results, null, 2)}\n`);
      } else {
        for (const result of results) {
          if (result.valid) io.stdout(`${result.file}: ok\n`);
          for (const error of result.errors)
            io.stderr(`${formatLocation(result.file, error)} ${formatMessage(error)}\n`);
        }
      }
      // Not process.exit(): the embedding program (and tests) decide when the process ends.
      if (results.some((result) => !result.valid)) process.exitCode = 1;
    });
}

async function validateFile(file: string, io: ValidateIo): Promise<ValidateJsonResult> {
  const read = await readManifestText(file, io.readFile);
  if ('problem' in read) {
    return { file, valid: false, errors: [{ line: null, column: null, field: null, message: read.problem }] };
  }
  const { diagnostics } = validateManifestSource(read.text, file);
  return {
    file,
    valid: diagnostics.length === 0,
    errors: diagnostics.map((d) => ({
      line: d.line ?? null,
      column: d.column ?? null,
      field: d.field ?? null,
      message: d.reason,
    })),
  };
}

function formatLocation(file: string, error: ValidateJsonError): string {
  return error.line === null ? `${file}:` : `${file}:${error.line}:${error.column ?? 1}`;
}

function formatMessage(error: ValidateJsonError): string {
  return error.field === null ? error.message : `${error.field}: ${error.message}`;
}
