import type { Command } from 'commander';
import { formatDiagnostic, validateManifestSource } from '../../shared/domain/manifest/yaml';
import type { ServiceRecord } from '../../shared/store';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import {
  defaultActor,
  processIo,
  renderTable,
  runReported,
  withStore,
  withStoreOptions,
  type StoreCommandIo,
  type StoreOptions,
} from '../store-options';
import { readManifestText } from '../manifest-file';

/**
 * `kiln services apply -f FILE`: validates a manifest and stores it as the service's next
 * manifest version (invalid files print `FILE:LINE:COL message`, store nothing, exit 1).
 * `kiln services list [--json]`: every service with its current manifest version.
 */
export function registerServices(program: Command, io: StoreCommandIo = processIo): void {
  const services = program.command('services').description('Manage the service manifests Kiln deploys.');

  withStoreOptions(
    services
      .command('apply')
      .description('Validate a service manifest and store it as the next manifest version.')
      .requiredOption('-f, --file <path>', 'manifest file (YAML)')
      .option('--actor <name>', 'who is applying, for the audit log (default: cli:$USER)'),
  ).action(async (options: StoreOptions & { file: string; actor?: string }) => {
    await runReported(io, async () => {
      const read = await readManifestText(options.file, io.readFile);
      if ('problem' in read) {
        io.stderr(`${options.file}: ${read.problem}\n`);
        process.exitCode = 1;
        return;
      }
      const { manifest, diagnostics } = validateManifestSource(read.text, options.file);
      if (!manifest || diagnostics.length > 0) {
        for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
        process.exitCode = 1;
        return;
      }
      const record = await withStore(options, io, (store) =>
        store.putServiceManifest(manifest, { actor: options.actor ?? defaultActor(io.env) }),
      );
      io.stdout(`service ${record.service}: manifest version ${record.version}\n`);
    });
  });

  withStoreOptions(
    services
      .command('list')
      .description('List services and their current manifest versions.')
      .option('--json', 'print JSON'),
  ).action(async (options: StoreOptions & { json?: boolean }) => {
    await runReported(io, async () => {
      const records = await withStore(options, io, async (store) => {
        const all: Array<ServiceRecord<ServiceManifest>> = [];
        let cursor: string | undefined;
        do {
          const page = await store.listServices({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
          all.push(...page.items);
          cursor = page.cursor;
        } while (cursor !== undefined);
        return all;
      });

      const rows = records.map((r) => ({
        name: r.service,
        version: r.version,
        environments: r.manifest.environments.map((env) => env.name),
        updatedAt: r.updatedAt,
        updatedBy: r.updatedBy,
      }));
      if (options.json === true) {
        io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        io.stdout('no services: add one with `kiln services apply -f FILE`\n');
        return;
      }
      io.stdout(
        renderTable(
          ['NAME', 'VERSION', 'ENVIRONMENTS', 'UPDATED', 'BY'],
          rows.map((r) => [r.name, String(r.version), r.environments.join(','), r.updatedAt, r.updatedBy]),
        ),
      );
    });
  });
}
