import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { problemLines } from './format.js';
import type { Globals } from './global-options.js';
import {
  ApiRefusedError,
  ApiUnreachableError,
  UnexpectedResponseError,
  type ApiService,
} from './api-client.js';

/** What the process exits with; scripts branch on these. */
export const ExitCode = {
  ok: 0,
  /** The service refused the request (a problem+json answer) or answered off-contract. */
  refused: 1,
  /** Bad arguments, a missing file, a malformed `name@version`: nothing was sent. */
  usage: 2,
  /** Nothing answered at the service's URL in time. */
  unreachable: 3,
  /** `audit verify`: the chain is broken, a row missing or out of order. */
  chainBroken: 4,
} as const;

/** How to point the CLI at each service, for the hints. */
const WHERE: Record<ApiService, { option: string; variable: string }> = {
  registry: { option: '--registry', variable: 'TOOLBUS_REGISTRY_URL' },
  orchestrator: { option: '--orchestrator', variable: 'TOOLBUS_ORCHESTRATOR_URL' },
};

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
  // Reported already by the command itself (audit verify's findings).
  if (error instanceof CliExit) return error.code;
  if (error instanceof UsageError) {
    err(`error: ${error.message}`);
    error.details.forEach((d) => err(`  ${d}`));
    err(`(run: ${commandPath(cmd)} --help)`);
    return ExitCode.usage;
  }
  if (error instanceof ApiRefusedError) {
    if (globals?.json) io.stdout.write(`${JSON.stringify(error.body, null, 2)}\n`);
    problemLines(error.message, error.problem.issues).forEach(err);
    if (error.status === 401 && !globals?.token)
      err('hint: no token was sent; set TOOLBUS_TOKEN or pass --token');
    return ExitCode.refused;
  }
  if (error instanceof UnexpectedResponseError) {
    problemLines(error.message, error.issues).forEach(err);
    const url = error.service === 'registry' ? globals?.registry : globals?.orchestrator;
    err(`hint: is ${url ?? 'the URL'} a Toolbus ${error.service} of a compatible version?`);
    return ExitCode.refused;
  }
  if (error instanceof ApiUnreachableError) {
    const { option, variable } = WHERE[error.service];
    err(`error: ${error.message}`);
    err(
      `hint: is the ${error.service} running there? Point the CLI at it with ${option} <url> or ${variable}`,
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
