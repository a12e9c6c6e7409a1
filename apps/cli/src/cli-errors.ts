import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { problemLines } from './format.js';
import type { Globals } from './global-options.js';
import {
  RegistryRefusedError,
  RegistryUnreachableError,
  UnexpectedResponseError,
} from './registry-client.js';

/** What the process exits with; scripts branch on these. */
export const ExitCode = {
  ok: 0,
  /** The registry refused the request (a problem+json answer) or answered off-contract. */
  refused: 1,
  /** Bad arguments, a missing file, a malformed `name@version`: nothing was sent. */
  usage: 2,
  /** Nothing answered at the registry's URL in time. */
  unreachable: 3,
} as const;

/** A mistake in the command line; exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** Thrown once an action has reported its failure; carries the exit code. */
export class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Writes what went wrong to stderr (and the problem to stdout with --json); the exit code. */
export function reportFailure(
  error: unknown,
  io: CliIo,
  cmd: Command,
  globals: Globals | undefined,
): number {
  const err = (line: string) => void io.stderr.write(`${line}\n`);
  if (error instanceof UsageError) {
    err(`error: ${error.message}`);
    error.details.forEach((d) => err(`  ${d}`));
    err(`(run: ${commandPath(cmd)} --help)`);
    return ExitCode.usage;
  }
  if (error instanceof RegistryRefusedError) {
    if (globals?.json) io.stdout.write(`${JSON.stringify(error.body, null, 2)}\n`);
    problemLines(error.message, error.problem.issues).forEach(err);
    if (error.status === 401 && !globals?.token)
      err('hint: no token was sent; set TOOLBUS_TOKEN or pass --token');
    return ExitCode.refused;
  }
  if (error instanceof UnexpectedResponseError) {
    problemLines(error.message, error.issues).forEach(err);
    err(`hint: is ${globals?.registry ?? 'the URL'} a Toolbus registry of a compatible version?`);
    return ExitCode.refused;
  }
  if (error instanceof RegistryUnreachableError) {
    err(`error: ${error.message}`);
    err(
      'hint: is the registry running there? Point the CLI at it with --registry <url> or TOOLBUS_REGISTRY_URL',
    );
    return ExitCode.unreachable;
  }
  err(`error: ${error instanceof Error ? error.message : String(error)}`);
  return ExitCode.refused;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
