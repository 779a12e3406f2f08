import { userInfo } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { documentClientFor } from '../shared/runtime/clients';
import { KilnError } from '../shared/runtime/errors';
import { KilnStore } from '../shared/store';
import { debugRequested, EnvironmentError, explainingFailures, formatCause } from './environment-errors';
import { readManifestFile } from './manifest-file';

/**
 * What the store-backed commands (`services`, `history`) share: the `--table`, `--region` and
 * `--profile` options, the DynamoDB client, how they read files and print, and how failures are
 * reported. Tests pass their own `StoreCommandIo`.
 */

/** `--region` / `--profile` as given; unset ones leave the SDK's own configuration chain in charge. */
export interface ClientSettings {
  region?: string;
  profile?: string;
}

export interface StoreCommandIo {
  readFile: (path: string) => Promise<string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Makes the client; `createDefaultClient` unless a test hands in its own. */
  createClient: (settings: ClientSettings) => DynamoDBDocumentClient;
}

/**
 * How long the CLI waits for a TCP connection before an attempt fails. The SDK's default is no
 * limit, so an endpoint that drops packets would hang each of the retry strategy's attempts for
 * the operating system's connect timeout (minutes on Linux).
 */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * The client the CLI uses: region, credentials and profile come from the standard SDK
 * configuration chain unless `--region` / `--profile` say otherwise, and
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL` redirect it (e.g. to dynalite) with no code:
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
export function createDefaultClient(settings: ClientSettings): DynamoDBDocumentClient {
  return documentClientFor(
    new DynamoDBClient({
      ...(settings.region === undefined ? {} : { region: settings.region }),
      ...(settings.profile === undefined ? {} : { profile: settings.profile }),
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
    }),
  );
}

export const processIo: StoreCommandIo = {
  readFile: readManifestFile,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  createClient: createDefaultClient,
};

export interface StoreOptions extends ClientSettings {
  table?: string;
}

/** Adds `--table NAME` (falls back to KILN_TABLE), `--region` and `--profile` to a command. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--table <name>', 'DynamoDB table of the Kiln deployment (default: $KILN_TABLE)')
    .option('--region <region>', "AWS Region of the table (default: $AWS_REGION, else the profile's region)")
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: $AWS_PROFILE, else default)');
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

/**
 * Opens the store on the resolved table, runs `use` with it and closes the client. A failure
 * caused by the AWS environment (region, credentials, profile, endpoint, table) becomes an
 * EnvironmentError naming the setting to fix; anything else propagates unchanged.
 */
export async function withStore<T>(
  options: StoreOptions,
  io: StoreCommandIo,
  use: (store: KilnStore) => Promise<T>,
): Promise<T> {
  const tableName = resolveTableName(options, io.env);
  const settings = clientSettings(options);
  const client = io.createClient(settings);
  try {
    return await explainingFailures(
      {
        env: io.env,
        ...settings,
        table: tableName,
        resolvedRegion: () => client.config.region().catch(() => undefined),
      },
      () => use(new KilnStore({ client, tableName })),
    );
  } finally {
    client.destroy();
  }
}

/** `--region` / `--profile` when given; absent keys leave the SDK's configuration chain in charge. */
export function clientSettings(options: ClientSettings): ClientSettings {
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
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
 * Runs a command body and reports how it failed. The AWS environment around Kiln (region,
 * credentials, profile, endpoint, table): one line `kiln: …` naming the setting, exit 2, and with
 * KILN_DEBUG=1 the SDK's original error after it. Kiln's own errors about the input (bad
 * arguments, stale versions): `error: …`, exit 1. Anything else is a bug and propagates.
 */
export async function runReported(
  io: Pick<StoreCommandIo, 'stderr' | 'env'>,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    // Not process.exit(): the embedding program (and tests) decide when the process ends.
    if (error instanceof EnvironmentError) {
      io.stderr(`kiln: ${error.message}\n`);
      if (debugRequested(io.env))
        io.stderr(`kiln: KILN_DEBUG: the AWS SDK reported: ${formatCause(error)}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof KilnError) {
      io.stderr(`error: ${error.message}\n`);
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
