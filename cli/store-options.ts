import { userInfo } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { KilnError } from '../shared/runtime/errors';
import { KilnStore } from '../shared/store';
import { readManifestFile } from './manifest-file';

/**
 * What the store-backed commands (`services`, `history`) share: the `--table` option, the
 * DynamoDB client, and how they read files and print. Tests pass their own `StoreCommandIo`.
 */

export interface StoreCommandIo {
  readFile: (path: string) => Promise<string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /**
   * Makes the client. The default takes region, credentials and profile from the standard SDK
   * configuration chain, and `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL` redirect it (e.g.
   * to dynalite) with no code: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
   */
  createClient: () => DynamoDBDocumentClient;
}

export const processIo: StoreCommandIo = {
  readFile: readManifestFile,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  createClient: () => DynamoDBDocumentClient.from(new DynamoDBClient({})),
};

export interface StoreOptions {
  table?: string;
}

/** Adds `--table NAME` (falls back to KILN_TABLE) to a command. */
export function withTableOption(command: Command): Command {
  return command.option('--table <name>', 'DynamoDB table of the Kiln deployment (default: $KILN_TABLE)');
}

/** Thrown for a problem the user can fix from the command line; printed as `error: …`, exit 1. */
export class CliUsageError extends KilnError {}

/** The table name from `--table`, else KILN_TABLE, else a CliUsageError naming both. */
export function resolveTableName(options: StoreOptions, env: NodeJS.ProcessEnv): string {
  const table = options.table ?? env.KILN_TABLE;
  if (table === undefined || table.trim() === '') {
    throw new CliUsageError('no DynamoDB table: pass --table NAME or set KILN_TABLE');
  }
  return table;
}

/** Opens the store on the resolved table; the caller must `close()` it. */
export function openStore(
  options: StoreOptions,
  io: StoreCommandIo,
): { store: KilnStore; close: () => void } {
  const tableName = resolveTableName(options, io.env);
  const client = io.createClient();
  return { store: new KilnStore({ client, tableName }), close: () => client.destroy() };
}

/** Who the audit log names for CLI actions: `--actor`, else `cli:<local user>`. */
export function defaultActor(env: NodeJS.ProcessEnv): string {
  const user = env.USER ?? env.USERNAME ?? safeUserName();
  return `cli:${user}`;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs a command body, turning Kiln's own errors (bad input, stale versions, missing table) into
 * `error: message` on stderr and exit code 1. Anything else is a bug and propagates.
 */
export async function runReported(io: StoreCommandIo, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    let message: string | undefined;
    if (error instanceof KilnError) message = error.message;
    else if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      message = `the DynamoDB table was not found (${error.message}): check --table/KILN_TABLE, the Region and the endpoint`;
    }
    if (message !== undefined) {
      io.stderr(`error: ${message}\n`);
      // Not process.exit(): the embedding program (and tests) decide when the process ends.
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

/** Left-aligned columns separated by two spaces, header first; cells are never truncated. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((text) => `${text}\n`).join('');
}
