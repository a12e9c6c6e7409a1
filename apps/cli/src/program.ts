import { Command, CommanderError } from 'commander';
import { CliExit, ExitCode } from './cli-errors.js';
import type { CliIo } from './cli-io.js';
import { registerAuditCommands } from './commands/audit.command.js';
import { commandAction } from './commands/command-context.js';
import { registerToolsCommands } from './commands/tools.command.js';
import { addGlobalOptions, ENVIRONMENT_HELP } from './global-options.js';
import { packageVersion } from './package-version.js';

export { ExitCode, UsageError } from './cli-errors.js';
export type { CliIo, Output } from './cli-io.js';
export {
  DEFAULT_ORCHESTRATOR_URL,
  DEFAULT_REGISTRY_URL,
  DEFAULT_TIMEOUT_MS,
} from './global-options.js';
export { parseRef } from './option-parsers.js';

/** Builds `toolbus` with its commands; runCli parses and maps failures to exit codes. */
export function buildProgram(io: CliIo): Command {
  const program = rootCommand(io);
  const action = commandAction(program, io);
  registerToolsCommands(program, action);
  registerAuditCommands(program, action);
  return program;
}

/** `toolbus` itself: its output wired to `io`, the global options, and its help. */
function rootCommand(io: CliIo): Command {
  const program = new Command('toolbus')
    .description('The Toolbus tool registry and audit ledger from the command line.')
    .version(packageVersion(), '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError('(add --help for usage)');
  addGlobalOptions(program);
  program.addHelpText('after', ENVIRONMENT_HELP);
  return program;
}

/** Runs the CLI on `argv` (without `node` and the script) and answers the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CliExit) return error.code;
    if (error instanceof CommanderError)
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? ExitCode.ok
        : ExitCode.usage;
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.refused;
  }
}
