import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  OpenApiImportRequest,
  Region,
  ToolDefinition,
  ToolName,
  ToolStatus,
  type LifecycleAction,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  formatBytes,
  importSummary,
  importTable,
  problemLines,
  statusLine,
  toolBlock,
  toolsTable,
  versionsTable,
  warningText,
} from './format.js';
import {
  RegistryClient,
  RegistryRefusedError,
  RegistryUnreachableError,
  UnexpectedResponseError,
  zodIssues,
  type OpenApiImportBody,
} from './registry-client.js';

export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_MS = 30_000;

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

/** Where the CLI writes: process.stdout/stderr in main.ts, buffers in tests. */
export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Everything the CLI touches outside itself, so tests run it without a process. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** Read by `import-openapi -`. */
  stdin?: AsyncIterable<string | Uint8Array>;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  /** Relative file arguments resolve against this; default process.cwd(). */
  cwd?: string;
}

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
class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface Globals {
  registry: string;
  token?: string;
  json: boolean;
  timeoutMs: number;
}

interface Context {
  client: RegistryClient;
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

/** Builds `toolbus` with its commands; runCli parses and maps failures to exit codes. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('toolbus')
    .description('The Toolbus tool registry from the command line.')
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
  program.addHelpText(
    'after',
    `
Environment:
  TOOLBUS_REGISTRY_URL  the registry's URL (default ${DEFAULT_REGISTRY_URL})
  TOOLBUS_TOKEN         bearer token for the registry
  TOOLBUS_TIMEOUT_MS    how long to wait for an answer (default ${DEFAULT_TIMEOUT_MS})

Exit codes: 0 ok, 1 the registry refused, 2 usage error, 3 registry unreachable.`,
  );

  const action =
    (handler: (ctx: Context, cmd: Command) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      let globals: Globals | undefined;
      try {
        globals = resolveGlobals(program, cmd, io);
        const g = globals;
        const ctx: Context = {
          globals: g,
          io,
          client: new RegistryClient({
            baseUrl: g.registry,
            token: g.token,
            timeoutMs: g.timeoutMs,
            fetch: io.fetch,
            userAgent: `toolbus-cli/${packageVersion()}`,
          }),
          out: (text) => void io.stdout.write(`${text}\n`),
          err: (text) => void io.stderr.write(`${text}\n`),
          printJson: (raw) => void io.stdout.write(`${JSON.stringify(raw, null, 2)}\n`),
          width: io.stdout.isTTY ? io.stdout.columns || 80 : undefined,
        };
        await handler(ctx, cmd);
      } catch (error) {
        throw new CliExit(report(error, io, cmd, globals));
      }
    };

  const tools = program
    .command('tools')
    .description('search, read, import and review tools')
    .enablePositionalOptions();

  addGlobalOptions(
    tools
      .command('list')
      .description('search the catalog, sorted by name; one page unless --all')
      .option('--q <text>', 'words that must all appear in name, title, description or tags')
      .option(
        '--tag <tag>',
        'only tools with this tag (repeat for several: all must match)',
        collect,
      )
      .option('--owner <team>', 'only tools of this team')
      .option('--region <region>', 'only tools processing data in this region', region)
      .option(
        '--status <statuses>',
        'only these statuses, comma-separated: draft, approved, deprecated, retired',
        statuses,
      )
      .option('--limit <n>', 'tools per page (the registry caps it)', positiveInt)
      .option('--cursor <cursor>', 'start at this page (from a "next page" hint)')
      .option('--all', 'follow every page to the end')
      .addHelpText(
        'after',
        `
Examples:
  toolbus tools list --status draft --owner team-crm
  toolbus tools list --tag customers --region eu --all
  toolbus tools list --q "credit limit" --json | jq -r '.items[].name'`,
      )
      .action(action(listTools)),
  );

  addGlobalOptions(
    tools
      .command('get')
      .argument('<tool>', 'name (newest approved version) or name@version')
      .description('show one tool version: governance, transport, limits and input schema')
      .addHelpText(
        'after',
        `
Examples:
  toolbus tools get get_customer
  toolbus tools get get_customer@1.0.0 --json`,
      )
      .action(action(getTool)),
  );

  addGlobalOptions(
    tools
      .command('versions')
      .argument('<name>', 'tool name')
      .description('list every version of a tool with its review state')
      .addHelpText('after', '\nExample:\n  toolbus tools versions get_customer')
      .action(action(listVersions)),
  );

  addGlobalOptions(
    tools
      .command('import-openapi')
      .argument('<file>', 'OpenAPI 3.0/3.1 document, JSON or YAML; - reads standard input')
      .description('import every operation of an OpenAPI document as a draft tool')
      .requiredOption(
        '--source <name>',
        'import name; importing again under it reports what changed',
      )
      .requiredOption('--owner <team>', 'team that owns the tools')
      .requiredOption('--region <region>', 'where the tools process data, e.g. eu', region)
      .option('--base-url <url>', "the API's base URL (default: the document's first server)")
      .option('--credentials-secret <secret>', 'name of the mounted secret the executor uses')
      .option('--name-prefix <prefix>', 'prefix for every tool name, e.g. billing_')
      .option('--tag <tag>', 'tag every tool (repeatable)', collect)
      .option(
        '--tool-timeout-ms <n>',
        "each imported tool's timeout in ms (how long the CLI waits for the registry is --timeout-ms)",
        positiveInt,
      )
      .option('--dry-run', 'report the diff without writing anything')
      .addHelpText(
        'after',
        `
Examples:
  toolbus tools import-openapi crm.yaml --source crm --owner team-crm --region eu --dry-run
  curl -s https://crm.internal/openapi.json | toolbus tools import-openapi - --source crm --owner team-crm --region eu`,
      )
      .action(action(importOpenApi)),
  );

  for (const [name, description] of [
    ['approve', 'approve a draft (needs registry:approve; not its author: four eyes)'],
    ['deprecate', 'deprecate an approved version (still served, with a warning)'],
    ['retire', 'retire a version (no longer served)'],
  ] as const) {
    addGlobalOptions(
      tools
        .command(name)
        .argument('<tool@version>', 'the version, e.g. get_customer@1.0.0')
        .description(description)
        .option('--reason <text>', 'why; recorded in the audit log')
        .addHelpText(
          'after',
          `\nExample:\n  toolbus tools ${name} get_customer@1.0.0 --reason "reviewed in CHG-1234"`,
        )
        .action(action((ctx, cmd) => lifecycle(ctx, cmd, name))),
    );
  }
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

// --- commands ---------------------------------------------------------------------------

interface ListOptions {
  q?: string;
  tag?: string[];
  owner?: string;
  region?: string;
  status?: ToolStatus[];
  limit?: number;
  cursor?: string;
  all?: boolean;
}

async function listTools(ctx: Context, cmd: Command): Promise<void> {
  const o = cmd.opts<ListOptions>();
  const query = {
    q: o.q,
    tags: o.tag,
    owner: o.owner,
    region: o.region,
    status: o.status,
    limit: o.limit,
  };
  let answer = await ctx.client.searchTools({ ...query, cursor: o.cursor });
  if (!o.all) {
    if (ctx.globals.json) ctx.printJson(answer.raw);
    else {
      if (answer.data.items.length) ctx.out(toolsTable(answer.data.items, ctx.width));
      else ctx.err('no tools match');
    }
    if (answer.data.nextCursor && !ctx.globals.json)
      ctx.err(`next page: --cursor ${answer.data.nextCursor}`);
    return;
  }
  const items: ToolVersionRecord[] = [...answer.data.items];
  const raw: unknown[] = [...rawItems(answer.raw)];
  const seen = new Set<string>();
  const shown = progress(ctx.io, () => `fetching tools… ${items.length} so far`);
  try {
    while (answer.data.nextCursor) {
      const cursor = answer.data.nextCursor;
      if (seen.has(cursor))
        throw new UnexpectedResponseError('the registry returned the same cursor twice', [
          { pointer: '/nextCursor', message: `repeats ${cursor}` },
        ]);
      seen.add(cursor);
      answer = await ctx.client.searchTools({ ...query, cursor });
      items.push(...answer.data.items);
      raw.push(...rawItems(answer.raw));
      shown.update();
    }
  } finally {
    shown.stop();
  }
  if (ctx.globals.json) ctx.printJson({ items: raw, nextCursor: null });
  else if (items.length) ctx.out(toolsTable(items, ctx.width));
  else ctx.err('no tools match');
}

async function getTool(ctx: Context, cmd: Command): Promise<void> {
  const ref = parseRef(String(cmd.processedArgs[0]), false);
  const answer = await ctx.client.getTool(ref.name, ref.version);
  const warning = answer.headers.get('warning');
  if (warning) ctx.err(`warning: ${warningText(warning)}`);
  if (ctx.globals.json) ctx.printJson(answer.raw);
  else ctx.out(toolBlock(answer.data));
}

async function listVersions(ctx: Context, cmd: Command): Promise<void> {
  const name = String(cmd.processedArgs[0]);
  const parsed = ToolName.safeParse(name);
  if (!parsed.success)
    throw new UsageError(`"${name}" is not a tool name: ${parsed.error.issues[0]?.message}`);
  const answer = await ctx.client.toolVersions(name);
  if (ctx.globals.json) ctx.printJson(answer.raw);
  else ctx.out(versionsTable(answer.data.items, ctx.width));
}

interface ImportOptions {
  source: string;
  owner: string;
  region: string;
  baseUrl?: string;
  credentialsSecret?: string;
  namePrefix?: string;
  tag?: string[];
  toolTimeoutMs?: number;
  dryRun?: boolean;
}

const IMPORT_FLAGS: Record<string, string> = {
  source: '--source',
  owner: '--owner',
  region: '--region',
  baseUrl: '--base-url',
  credentialsSecret: '--credentials-secret',
  namePrefix: '--name-prefix',
  tags: '--tag',
  timeoutMs: '--tool-timeout-ms',
  document: '<file>',
};

async function importOpenApi(ctx: Context, cmd: Command): Promise<void> {
  const file = String(cmd.processedArgs[0]);
  const o = cmd.opts<ImportOptions>();
  const { text, label } = await readDocument(file, ctx.io);
  if (!text.trim()) throw new UsageError(`${label} is empty; expected an OpenAPI document`);
  const body: OpenApiImportBody = {
    source: o.source,
    document: text,
    owner: o.owner,
    region: o.region,
    ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
    ...(o.credentialsSecret !== undefined ? { credentialsSecret: o.credentialsSecret } : {}),
    ...(o.namePrefix !== undefined ? { namePrefix: o.namePrefix } : {}),
    ...(o.tag?.length ? { tags: o.tag } : {}),
    ...(o.toolTimeoutMs !== undefined ? { timeoutMs: o.toolTimeoutMs } : {}),
    dryRun: Boolean(o.dryRun),
  };
  // The contract's own schema catches bad flags here, before the document travels.
  const checked = OpenApiImportRequest.safeParse(body);
  if (!checked.success)
    throw new UsageError(
      'invalid import options',
      zodIssues(checked.error).map((i) => {
        const key = i.pointer.split('/')[1] ?? '';
        return `${IMPORT_FLAGS[key] ?? i.pointer}: ${i.message}`;
      }),
    );
  const bytes = Buffer.byteLength(text);
  const shown = progress(ctx.io, () => `importing ${label} (${formatBytes(bytes)})…`);
  let answer;
  try {
    answer = await ctx.client.importOpenApi(body);
  } finally {
    shown.stop();
  }
  if (ctx.globals.json) return ctx.printJson(answer.raw);
  const diff = importTable(answer.data, ctx.width);
  if (diff) ctx.out(diff);
  ctx.out(importSummary(answer.data));
}

async function lifecycle(ctx: Context, cmd: Command, action: LifecycleAction): Promise<void> {
  const ref = parseRef(String(cmd.processedArgs[0]), true);
  const { reason } = cmd.opts<{ reason?: string }>();
  if (reason !== undefined && !reason.trim()) throw new UsageError('--reason must not be empty');
  const answer = await ctx.client.lifecycle(ref.name, ref.version!, action, reason);
  if (ctx.globals.json) ctx.printJson(answer.raw);
  else ctx.out(statusLine(answer.data));
}

// --- arguments, options and reporting ---------------------------------------------------

/** `name` or `name@version`, checked against the contract's rules for both. */
export function parseRef(
  ref: string,
  versionRequired: boolean,
): { name: string; version?: string } {
  const usage = versionRequired
    ? '<name>@<version>, e.g. get_customer@1.0.0'
    : '<name> or <name>@<version>';
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const version = at < 0 ? undefined : ref.slice(at + 1);
  const bad = (why: string) =>
    new UsageError(`"${ref}" is not a tool version: ${why}; expected ${usage}`);
  if (versionRequired && version === undefined) throw bad('the version is missing');
  const parsedName = ToolName.safeParse(name);
  if (!parsedName.success) throw bad(`the name ${parsedName.error.issues[0]?.message}`);
  if (version !== undefined) {
    const parsedVersion = ToolDefinition.shape.version.safeParse(version);
    if (!parsedVersion.success) throw bad(`the version ${parsedVersion.error.issues[0]?.message}`);
  }
  return version === undefined ? { name } : { name, version };
}

/**
 * Global options are accepted before the command (`toolbus --json tools list`) and after it
 * (`toolbus tools list --json`), with the same meaning in both places.
 */
function addGlobalOptions(cmd: Command): Command {
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

interface GlobalValues {
  registry?: string;
  token?: string;
  json?: boolean;
  timeoutMs?: number;
}

function resolveGlobals(program: Command, cmd: Command, io: CliIo): Globals {
  const root = program.opts<GlobalValues>();
  const local = cmd.opts<GlobalValues>();
  const registry =
    local.registry ?? root.registry ?? io.env['TOOLBUS_REGISTRY_URL'] ?? DEFAULT_REGISTRY_URL;
  let url: URL;
  try {
    url = new URL(registry);
  } catch {
    throw new UsageError(
      `registry URL "${registry}" is not a URL; expected e.g. ${DEFAULT_REGISTRY_URL}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`registry URL "${registry}" must start with http:// or https://`);
  const envTimeout = io.env['TOOLBUS_TIMEOUT_MS'];
  let timeoutMs = local.timeoutMs ?? root.timeoutMs;
  if (timeoutMs === undefined && envTimeout !== undefined && envTimeout !== '') {
    const n = Number(envTimeout);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(
        `TOOLBUS_TIMEOUT_MS "${envTimeout}" must be a whole number of milliseconds`,
      );
    timeoutMs = n;
  }
  const token = (local.token ?? root.token ?? io.env['TOOLBUS_TOKEN'])?.trim();
  // Checked here so that fetch never gets to quote a malformed token in its error.
  if (token && !/^[\x21-\x7e]+$/.test(token))
    throw new UsageError(
      'the token holds spaces or characters a bearer token cannot; check --token or TOOLBUS_TOKEN',
    );
  return {
    registry,
    token: token ? token : undefined,
    json: Boolean(local.json ?? root.json),
    timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/** Writes what went wrong to stderr (and the problem to stdout with --json); the exit code. */
function report(error: unknown, io: CliIo, cmd: Command, globals: Globals | undefined): number {
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

async function readDocument(file: string, io: CliIo): Promise<{ text: string; label: string }> {
  if (file === '-') {
    if (!io.stdin) throw new UsageError('no standard input to read the document from');
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return { text: Buffer.concat(chunks).toString('utf8'), label: 'standard input' };
  }
  const path = resolve(io.cwd ?? process.cwd(), file);
  try {
    return { text: await readFile(path, 'utf8'), label: basename(file) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new UsageError(`cannot read ${file}: ${why}`);
  }
}

/**
 * A one-line status on stderr, redrawn in place, only when stderr is a terminal (never in
 * logs or pipes); cleared when the work ends.
 */
function progress(io: CliIo, message: () => string): { update(): void; stop(): void } {
  if (!io.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  const draw = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    io.stderr.write(`\r${message()}${seconds >= 1 ? ` ${seconds} s` : ''}\x1b[K`);
  };
  draw();
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    update: draw,
    stop: () => {
      clearInterval(timer);
      io.stderr.write('\r\x1b[K');
    },
  };
}

function rawItems(raw: unknown): unknown[] {
  const items = (raw as { items?: unknown }).items;
  return Array.isArray(items) ? items : [];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

function statuses(value: string): ToolStatus[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError(`use ${ToolStatus.options.join(', ')}`);
  for (const s of list)
    if (!ToolStatus.safeParse(s).success)
      throw new InvalidArgumentError(
        `"${s}" is not a status; use ${ToolStatus.options.join(', ')}`,
      );
  return list as ToolStatus[];
}

function region(value: string): string {
  const parsed = Region.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid');
  return value;
}

let version: string | undefined;
function packageVersion(): string {
  // dist/program.js and src/program.ts both sit one level below package.json.
  version ??= (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  return version;
}
