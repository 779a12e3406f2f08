import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { commandCatalog, type CommandEntry } from '../../../cli/catalog';
import { buildFullProgram, buildProgram, commandNamedIn } from '../../../cli/program';

const argv = (...words: string[]) => ['node', 'kiln', ...words];

/** The catalog with every load recorded; a load returns the real registration. */
function recordingCatalog(): { catalog: CommandEntry[]; loaded: string[] } {
  const loaded: string[] = [];
  const catalog = commandCatalog.map((entry) => ({
    ...entry,
    load: () => {
      loaded.push(entry.name);
      return entry.load();
    },
  }));
  return { catalog, loaded };
}

const named = (program: Command, name: string) => program.commands.find((c) => c.name() === name);

describe('the kiln program', () => {
  describe('kiln --help', () => {
    it('lists every command as the commands themselves register it, term and description', async () => {
      const lazy = await buildProgram(argv('--help'));
      const full = await buildFullProgram();

      expect(lazy.helpInformation()).toBe(full.helpInformation());
    });

    it('loads no command to list them', async () => {
      const { catalog, loaded } = recordingCatalog();

      await buildProgram(argv('--help'), catalog);
      await buildProgram(argv(), catalog);

      expect(loaded).toEqual([]);
    });
  });

  describe('kiln NAME …', () => {
    it('loads the command it runs and no other', async () => {
      const { catalog, loaded } = recordingCatalog();

      const program = await buildProgram(argv('validate', 'a.yml', '--json'), catalog);

      expect(loaded).toEqual(['validate']);
      expect(named(program, 'validate')?.options.map((o) => o.long)).toEqual(['--json']);
    });

    it('loads the command whose help is asked for, so its options are listed', async () => {
      const { catalog, loaded } = recordingCatalog();

      await buildProgram(argv('help', 'history'), catalog);
      await buildProgram(argv('services', 'apply', '--help'), catalog);

      expect(loaded).toEqual(['history', 'services']);
    });

    it('loads nothing for a name that is no command, so commander can say so', async () => {
      const { catalog, loaded } = recordingCatalog();

      await buildProgram(argv('valdate', 'a.yml'), catalog);

      expect(loaded).toEqual([]);
    });
  });

  describe('the catalog', () => {
    it('names every command module in cli/commands, each once (the build bundles each of them)', () => {
      const modules = readdirSync(join(__dirname, '../../../cli/commands'))
        .filter((file) => file.endsWith('.ts'))
        .map((file) => file.slice(0, -'.ts'.length))
        .sort();

      expect(commandCatalog.map((entry) => entry.name).sort()).toEqual(modules);
    });
  });

  describe('commandNamedIn', () => {
    it.each([
      [argv('validate', 'x.yml'), 'validate'],
      [argv('--version'), undefined],
      [argv('help', 'dead-letters'), 'dead-letters'],
      [argv('help'), undefined],
      [argv('-h', 'sandbox'), 'sandbox'],
      [argv('deploy', 'checkout', '1.2.0', '--env', 'staging'), 'deploy'],
      [argv('depoly'), undefined],
    ])('finds the command in %j: %s', (words, expected) => {
      expect(commandNamedIn(words)).toBe(expected);
    });
  });
});
