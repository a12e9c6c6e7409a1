import type { Command } from 'commander';
import { CliExit, reportFailure } from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import { AuditClient } from '../audit-client.js';
import { resolveGlobals, serviceUrl, type Globals } from '../global-options.js';
import { packageVersion } from '../package-version.js';
import { RegistryClient } from '../registry-client.js';

/** What a command's handler works with. */
export interface Context {
  client: RegistryClient;
  /** The audit ledger's client; its URL is checked when a command first asks for it. */
  auditClient(): AuditClient;
  globals: Globals;
  io: CliIo;
  /** A line on stdout. */
  out(text: string): void;
  /** A line on stderr. */
  err(text: string): void;
  /** `--json`: the API's JSON on stdout and nothing else. */
  printJson(raw: unknown): void;
  /** Terminal width when stdout is a terminal; tables are not cut otherwise. */
  width?: number;
}

export type CommandHandler = (ctx: Context, cmd: Command) => Promise<void>;

/** Turns a handler into a commander action: it gets its context, and its failure an exit code. */
export type CommandAction = (handler: CommandHandler) => (...args: unknown[]) => Promise<void>;

/**
 * The action wrapper every command registers with: resolves the global options, builds the
 * clients and the context, runs the handler, and reports a failure (then throws
 * {@link CliExit} with its exit code for runCli).
 */
export function commandAction(program: Command, io: CliIo): CommandAction {
  return (handler) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      let globals: Globals | undefined;
      try {
        globals = resolveGlobals(program, cmd, io);
        await handler(contextFor(globals, io), cmd);
      } catch (error) {
        throw new CliExit(reportFailure(error, io, cmd, globals));
      }
    };
}

function contextFor(globals: Globals, io: CliIo): Context {
  const options = (baseUrl: string) => ({
    baseUrl,
    token: globals.token,
    timeoutMs: globals.timeoutMs,
    fetch: io.fetch,
    userAgent: `toolbus-cli/${packageVersion()}`,
  });
  return {
    globals,
    io,
    client: new RegistryClient(options(globals.registry)),
    auditClient: () => new AuditClient(options(serviceUrl('orchestrator', globals.orchestrator))),
    out: (text) => void io.stdout.write(`${text}\n`),
    err: (text) => void io.stderr.write(`${text}\n`),
    printJson: (raw) => void io.stdout.write(`${JSON.stringify(raw, null, 2)}\n`),
    width: io.stdout.isTTY ? io.stdout.columns || 80 : undefined,
  };
}
