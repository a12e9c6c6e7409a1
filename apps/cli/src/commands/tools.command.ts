import type { Command } from 'commander';
import type { CommandAction } from './command-context.js';
import { registerImportCommand } from './tools-import.command.js';
import { registerLifecycleCommands } from './tools-lifecycle.command.js';
import { registerReadCommands } from './tools-read.command.js';

/** `toolbus tools ...`: each group of its subcommands registers itself. */
export function registerToolsCommands(program: Command, action: CommandAction): void {
  const tools = program
    .command('tools')
    .description('search, read, import and review tools')
    .enablePositionalOptions();
  registerReadCommands(tools, action);
  registerImportCommand(tools, action);
  registerLifecycleCommands(tools, action);
}
