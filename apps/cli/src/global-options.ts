import { Option, type Command } from 'commander';
import { UsageError } from './cli-errors.js';
import type { CliIo } from './cli-io.js';
import { positiveInt } from './option-parsers.js';

export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8080';
export const DEFAULT_ORCHESTRATOR_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The options every command takes, resolved against the environment and the defaults. */
export interface Globals {
  registry: string;
  /** The audit ledger's API; checked only by the commands that use it (`serviceUrl`). */
  orchestrator: string;
  token?: string;
  json: boolean;
  timeoutMs: number;
}

/** The variables the global options fall back to, for `toolbus --help`. */
export const ENVIRONMENT_HELP = `
Environment:
  TOOLBUS_REGISTRY_URL      the registry's URL (default ${DEFAULT_REGISTRY_URL})
  TOOLBUS_ORCHESTRATOR_URL  the orchestrator's URL, for audit (default ${DEFAULT_ORCHESTRATOR_URL})
  TOOLBUS_TOKEN             bearer token
  TOOLBUS_TIMEOUT_MS        how long to wait for an answer (default ${DEFAULT_TIMEOUT_MS})

Exit codes: 0 ok, 1 refused, 2 usage error, 3 unreachable, 4 audit chain broken.`;

/**
 * Global options are accepted before the command (`toolbus --json tools list`) and after it
 * (`toolbus tools list --json`), with the same meaning in both places.
 */
export function addGlobalOptions(cmd: Command): Command {
  const group = 'Global options:';
  cmd.addOption(
    new Option(
      '--registry <url>',
      `registry URL (env TOOLBUS_REGISTRY_URL, default ${DEFAULT_REGISTRY_URL})`,
    ).helpGroup(group),
  );
  cmd.addOption(
    new Option(
      '--token <token>',
      'bearer token (env TOOLBUS_TOKEN; prefer the variable)',
    ).helpGroup(group),
  );
  cmd.addOption(
    new Option('--json', "print the API's JSON on stdout, nothing else").helpGroup(group),
  );
  cmd.addOption(
    new Option(
      '--timeout-ms <n>',
      `how long to wait for the registry (env TOOLBUS_TIMEOUT_MS, default ${DEFAULT_TIMEOUT_MS})`,
    )
      .argParser(positiveInt)
      .helpGroup(group),
  );
  return cmd;
}

/** `--orchestrator`, on the commands that read the audit ledger. */
export function addOrchestratorOption(cmd: Command): Command {
  return cmd.addOption(
    new Option(
      '--orchestrator <url>',
      `orchestrator URL, where the audit ledger is (env TOOLBUS_ORCHESTRATOR_URL, default ${DEFAULT_ORCHESTRATOR_URL})`,
    ).helpGroup('Global options:'),
  );
}

interface GlobalValues {
  registry?: string;
  orchestrator?: string;
  token?: string;
  json?: boolean;
  timeoutMs?: number;
}

/**
 * The global options of one run: the command's own (after it) win over the program's (before
 * it), which win over the environment, then the defaults. Refuses a malformed URL, timeout or
 * token before anything is sent.
 */
export function resolveGlobals(program: Command, cmd: Command, io: CliIo): Globals {
  const root = program.opts<GlobalValues>();
  const local = cmd.opts<GlobalValues>();
  const registry = serviceUrl(
    'registry',
    local.registry ?? root.registry ?? io.env['TOOLBUS_REGISTRY_URL'] ?? DEFAULT_REGISTRY_URL,
  );
  const orchestrator =
    local.orchestrator ??
    root.orchestrator ??
    io.env['TOOLBUS_ORCHESTRATOR_URL'] ??
    DEFAULT_ORCHESTRATOR_URL;
  const timeoutMs = local.timeoutMs ?? root.timeoutMs ?? envTimeout(io.env['TOOLBUS_TIMEOUT_MS']);
  const token = bearerToken((local.token ?? root.token ?? io.env['TOOLBUS_TOKEN'])?.trim());
  return {
    registry,
    orchestrator,
    token,
    json: Boolean(local.json ?? root.json),
    timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/** A service's URL, refused with a UsageError naming the service unless it is http(s). */
export function serviceUrl(service: 'registry' | 'orchestrator', value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `${service} URL "${value}" is not a URL; expected e.g. ${DEFAULT_REGISTRY_URL}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${service} URL "${value}" must start with http:// or https://`);
  return value;
}

function envTimeout(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`TOOLBUS_TIMEOUT_MS "${value}" must be a whole number of milliseconds`);
  return n;
}

function bearerToken(token: string | undefined): string | undefined {
  // Checked here so that fetch never gets to quote a malformed token in its error.
  if (token && !/^[\x21-\x7e]+$/.test(token))
    throw new UsageError(
      'the token holds spaces or characters a bearer token cannot; check --token or TOOLBUS_TOKEN',
    );
  return token ? token : undefined;
}
