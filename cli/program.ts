import { Command } from 'commander';
import { registerDeadLetters } from './commands/dead-letters';
import { registerHistory } from './commands/history';
import { registerSandbox } from './commands/sandbox';
import { registerServices } from './commands/services';
import { registerValidate } from './commands/validate';

/** Builds the `kiln` command tree. Each command lives in cli/commands/ and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('kiln')
    .description('Kiln: bake artifacts into AMIs, roll them out safely, roll back exactly.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  registerValidate(program);
  registerServices(program);
  registerHistory(program);
  registerDeadLetters(program);
  registerSandbox(program);
  return program;
}
