import { OpenApiImportRequest } from '@toolbus/contracts';
import type { Command } from 'commander';
import { UsageError } from '../cli-errors.js';
import { progress, readDocument } from '../cli-io.js';
import { formatBytes, importSummary, importTable } from '../format.js';
import { addGlobalOptions } from '../global-options.js';
import { collect, positiveInt, region } from '../option-parsers.js';
import { zodIssues, type OpenApiImportBody } from '../registry-client.js';
import type { CommandAction, Context } from './command-context.js';

/** `tools import-openapi <file>`: an OpenAPI document's operations as draft tools. */
export function registerImportCommand(tools: Command, action: CommandAction): void {
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

/** The flag each field of the import request comes from, so an issue names what to fix. */
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
  const { text, label } = await readDocument(file, ctx.io);
  if (!text.trim()) throw new UsageError(`${label} is empty; expected an OpenAPI document`);
  const body = importBody(cmd.opts<ImportOptions>(), text);
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

/** The request the flags make, checked against the contract before the document travels. */
function importBody(o: ImportOptions, document: string): OpenApiImportBody {
  const body: OpenApiImportBody = {
    source: o.source,
    document,
    owner: o.owner,
    region: o.region,
    ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
    ...(o.credentialsSecret !== undefined ? { credentialsSecret: o.credentialsSecret } : {}),
    ...(o.namePrefix !== undefined ? { namePrefix: o.namePrefix } : {}),
    ...(o.tag?.length ? { tags: o.tag } : {}),
    ...(o.toolTimeoutMs !== undefined ? { timeoutMs: o.toolTimeoutMs } : {}),
    dryRun: Boolean(o.dryRun),
  };
  const checked = OpenApiImportRequest.safeParse(body);
  if (!checked.success)
    throw new UsageError(
      'invalid import options',
      zodIssues(checked.error).map((i) => {
        const key = i.pointer.split('/')[1] ?? '';
        return `${IMPORT_FLAGS[key] ?? i.pointer}: ${i.message}`;
      }),
    );
  return body;
}
