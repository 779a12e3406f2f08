import type { Command } from 'commander';

/**
 * Every `kiln` command, by name, without loading it. `kiln --help` lists the commands from here,
 * and `kiln NAME …` loads NAME's module alone (cli/commands/NAME.ts, which registers its options,
 * subcommands and action). In the bundled CLI each command is a bundle of its own
 * (dist/kiln-NAME.cjs, see scripts/build-cli.mjs), so a command reads and compiles only its own
 * code. `term` and `description` are what `kiln --help` prints for the command; a test holds them
 * to what the command itself registers.
 */
export interface CommandEntry {
  name: string;
  /** The command's line in `kiln --help`: name, `[options]` if it has any, its arguments. */
  term: string;
  description: string;
  /** Loads the command's module and returns its registration. */
  load: () => Promise<(program: Command) => void>;
}

export const commandCatalog: readonly CommandEntry[] = [
  {
    name: 'validate',
    term: 'validate [options] <files...>',
    description: 'Check service manifests (YAML) against the manifest schema.',
    load: async () => (await import('./commands/validate')).registerValidate,
  },
  {
    name: 'services',
    term: 'services',
    description: 'Manage the service manifests Kiln deploys.',
    load: async () => (await import('./commands/services')).registerServices,
  },
  {
    name: 'history',
    term: 'history [options] <service>',
    description: 'Show the deployments of a service, newest first.',
    load: async () => (await import('./commands/history')).registerHistory,
  },
  {
    name: 'status',
    term: 'status [options] [service]',
    description: 'Show environments (releases, lock) and running deployments of every service or one.',
    load: async () => (await import('./commands/status')).registerStatus,
  },
  {
    name: 'deploy',
    term: 'deploy [options] <service> <version>',
    description: 'Roll a baked release through environments (in the manifest order).',
    load: async () => (await import('./commands/deploy')).registerDeploy,
  },
  {
    name: 'rollback',
    term: 'rollback [options] <service> <env>',
    description: "Restore an environment's previous release (or --to one of its history) exactly.",
    load: async () => (await import('./commands/rollback')).registerRollback,
  },
  {
    name: 'approve',
    term: 'approve [options] <deployment>',
    description: 'Approve (or --refuse) the next environment of a deployment waiting for approval.',
    load: async () => (await import('./commands/approve')).registerApprove,
  },
  {
    name: 'abort',
    term: 'abort [options] <deployment>',
    description: 'Stop a deployment safely: the environment in progress gets its previous release back.',
    load: async () => (await import('./commands/abort')).registerAbort,
  },
  {
    name: 'dead-letters',
    term: 'dead-letters',
    description: 'List and replay events that failed after AWS retried them.',
    load: async () => (await import('./commands/dead-letters')).registerDeadLetters,
  },
  {
    name: 'events',
    term: 'events',
    description: 'Check events against the patterns and schemas Kiln deploys.',
    load: async () => (await import('./commands/events')).registerEvents,
  },
  {
    name: 'preview',
    term: 'preview [options]',
    description: "Rehearse an environment's rollout in the sandbox and report what it will be like.",
    load: async () => (await import('./commands/preview')).registerPreview,
  },
  {
    name: 'sandbox',
    term: 'sandbox [options]',
    description: 'Run Kiln end to end against a simulated AWS region (no AWS account needed)',
    load: async () => (await import('./commands/sandbox')).registerSandbox,
  },
];
