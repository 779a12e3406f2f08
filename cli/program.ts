import { Command, Help } from 'commander';
import { commandCatalog, type CommandEntry } from './catalog';

function newProgram(): Command {
  return new Command('kiln')
    .description('Kiln: bake artifacts into AMIs, roll them out safely, roll back exactly.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
}

/**
 * The command `argv` names (`kiln NAME …`, `kiln help NAME`), or undefined for `kiln`,
 * `kiln --help`, `kiln --version` and unknown names. The program takes no options of its own
 * but --help and --version, so the first word that is not an option is the command.
 */
export function commandNamedIn(
  argv: readonly string[],
  catalog: readonly CommandEntry[] = commandCatalog,
): string | undefined {
  const words = argv.slice(2).filter((word) => !word.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return catalog.some((entry) => entry.name === name) ? name : undefined;
}

/**
 * Builds the `kiln` program for `argv`: the command it names is loaded and registered in full;
 * every other command is only listed (its name, term and description from the catalog), so
 * `kiln --help` and one command's run load no other command's code.
 */
export async function buildProgram(
  argv: readonly string[],
  catalog: readonly CommandEntry[] = commandCatalog,
): Promise<Command> {
  const program = newProgram();
  const named = commandNamedIn(argv, catalog);
  const listed = new Map<Command, string>();
  for (const entry of catalog) {
    if (entry.name === named) {
      (await entry.load())(program);
      continue;
    }
    const placeholder = program
      .command(entry.name)
      .description(entry.description)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        // commandNamedIn found no command in argv, yet commander dispatched to this one.
        throw new Error(`command ${entry.name} was run without being loaded`);
      });
    listed.set(placeholder, entry.term);
  }
  const help = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => listed.get(cmd) ?? help.subcommandTerm(cmd) });
  return program;
}

/** Every command loaded and registered (what `kiln --help` lists is held to this in a test). */
export async function buildFullProgram(): Promise<Command> {
  const program = newProgram();
  for (const entry of commandCatalog) (await entry.load())(program);
  return program;
}
