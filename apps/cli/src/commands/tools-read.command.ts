import {
  ToolName,
  type ToolPage,
  type ToolStatus,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import type { Command } from 'commander';
import { UsageError } from '../cli-errors.js';
import { progress } from '../cli-io.js';
import { toolBlock, toolsTable, versionsTable, warningText } from '../format.js';
import { addGlobalOptions } from '../global-options.js';
import { collect, parseRef, positiveInt, region, statuses } from '../option-parsers.js';
import { UnexpectedResponseError, type ApiAnswer, type SearchQuery } from '../registry-client.js';
import type { CommandAction, Context } from './command-context.js';

/** `tools list`, `tools get` and `tools versions`: reading the catalog. */
export function registerReadCommands(tools: Command, action: CommandAction): void {
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
}

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
  const answer = await ctx.client.searchTools({ ...query, cursor: o.cursor });
  if (!o.all) {
    if (ctx.globals.json) ctx.printJson(answer.raw);
    else printTools(ctx, answer.data.items);
    if (answer.data.nextCursor && !ctx.globals.json)
      ctx.err(`next page: --cursor ${answer.data.nextCursor}`);
    return;
  }
  const { items, raw } = await followPages(ctx, query, answer);
  if (ctx.globals.json) ctx.printJson({ items: raw, nextCursor: null });
  else printTools(ctx, items);
}

/**
 * `--all`: every page after the first, each one's tools and their raw JSON joined up; a cursor
 * the registry gives twice is its mistake, not an endless loop.
 */
async function followPages(
  ctx: Context,
  query: Omit<SearchQuery, 'cursor'>,
  first: ApiAnswer<ToolPage>,
): Promise<{ items: ToolVersionRecord[]; raw: unknown[] }> {
  let answer = first;
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
  return { items, raw };
}

function printTools(ctx: Context, items: ToolVersionRecord[]): void {
  if (items.length) ctx.out(toolsTable(items, ctx.width));
  else ctx.err('no tools match');
}

function rawItems(raw: unknown): unknown[] {
  const items = (raw as { items?: unknown }).items;
  return Array.isArray(items) ? items : [];
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
