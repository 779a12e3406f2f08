import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentClientFor } from '../../../shared/runtime/clients';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Command, CommanderError } from 'commander';
import type { StoreCommandIo } from '../../../cli/store-options';
import type { LocalDynamo } from '../../support/dynalite';

export const ROOT = join(__dirname, '..', '..', '..');

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
}

/**
 * Runs `kiln …` in-process: builds a fresh commander program with the given registrations,
 * captures stdout/stderr (ours and commander's own parse errors) and the exit code.
 */
export async function runCli(
  register: (program: Command, io: StoreCommandIo) => void,
  args: string[],
  options: { dynamo: LocalDynamo; env?: NodeJS.ProcessEnv; files?: Record<string, string> },
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: StoreCommandIo = {
    readFile: async (path) => {
      const inline = options.files?.[path];
      return inline ?? readFileSync(join(ROOT, path), 'utf8');
    },
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: options.env ?? { KILN_TABLE: options.dynamo.tableName },
    createClient: () =>
      documentClientFor(
        new DynamoDBClient({
          endpoint: options.dynamo.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
      ),
  };
  const program = new Command('kiln')
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.push(text), writeErr: (text) => err.push(text) });
  register(program, io);
  const saved = process.exitCode;
  process.exitCode = undefined;
  let exitCode: number | undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  } finally {
    process.exitCode = saved;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}

export const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
