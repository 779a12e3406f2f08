import { InvalidArgumentError, type Command } from 'commander';
import type { Deployment } from '../../shared/store';
import {
  processIo,
  renderTable,
  runReported,
  withStore,
  withStoreOptions,
  type StoreCommandIo,
  type StoreOptions,
} from '../store-options';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/** Commander argument parser for `--limit`: a whole number in range, else an error naming the option. */
export function parseLimit(value: string): number {
  const limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidArgumentError(`--limit must be a whole number from 1 to ${MAX_LIMIT}.`);
  }
  return limit;
}

interface HistoryOptions extends StoreOptions {
  env?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

/**
 * `kiln history SERVICE [--env ENV] [--limit N] [--cursor C] [--json]`: a service's deployments,
 * newest first. When more remain, the table is followed (on stderr) by the `--cursor` to pass
 * for the next page; `--json` prints `{ deployments, cursor? }`.
 */
export function registerHistory(program: Command, io: StoreCommandIo = processIo): void {
  withStoreOptions(
    program
      .command('history')
      .description('Show the deployments of a service, newest first.')
      .argument('<service>', 'service name')
      .option('--env <environment>', 'only deployments that include this environment')
      .option('--limit <n>', `how many deployments to show (1-${MAX_LIMIT})`, parseLimit, DEFAULT_LIMIT)
      .option('--cursor <cursor>', 'continue after the previous page (printed at its end)')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: HistoryOptions) => {
    await runReported(io, async () => {
      const page = await withStore(options, io, (store) =>
        store.listDeployments(service, {
          limit: options.limit,
          ...(options.env === undefined ? {} : { environment: options.env }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      );
      if (options.json === true) {
        io.stdout(
          `${JSON.stringify({ deployments: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) }, null, 2)}\n`,
        );
        return;
      }
      if (page.items.length === 0) {
        io.stdout(`no deployments of ${service}${options.env === undefined ? '' : ` in ${options.env}`}\n`);
        return;
      }
      io.stdout(
        renderTable(
          ['ID', 'VERSION', 'ENVIRONMENTS', 'TRIGGER', 'ACTOR', 'STATUS', 'STARTED', 'DURATION'],
          page.items.map((d) => [
            d.id,
            d.releaseVersion,
            d.environments.join(','),
            d.trigger,
            d.actor,
            d.status,
            d.createdAt,
            formatDuration(durationMs(d)),
          ]),
        ),
      );
      if (page.cursor !== undefined) io.stderr(`more: --cursor ${page.cursor}\n`);
    });
  });
}

/** From creation to the last recorded moment: the latest step end, else the last update. */
export function durationMs(deployment: Deployment): number {
  const ends = deployment.steps.flatMap((step) =>
    step.endedAt === undefined ? [] : [Date.parse(step.endedAt)],
  );
  const end = Math.max(Date.parse(deployment.updatedAt), ...ends);
  return Math.max(0, end - Date.parse(deployment.createdAt));
}

/** `45s`, `3m 05s`, `2h 07m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
