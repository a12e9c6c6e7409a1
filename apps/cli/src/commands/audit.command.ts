import {
  AuditDecision,
  type ChainHead,
  TenantId,
  Timestamp,
  ToolName,
  verifyChain,
  type AuditEntry,
  type ChainRow,
} from '@toolbus/contracts';
import { InvalidArgumentError, type Command } from 'commander';
import type { z } from 'zod';
import { type AuditListQuery } from '../audit-client.js';
import { CliExit, ExitCode } from '../cli-errors.js';
import { progress } from '../cli-io.js';
import { auditTable, findingLines } from '../format.js';
import { addGlobalOptions, addOrchestratorOption } from '../global-options.js';
import { positiveInt } from '../option-parsers.js';
import { UnexpectedResponseError } from '../api-client.js';
import type { CommandAction, Context } from './command-context.js';

/** `toolbus audit list` and `toolbus audit verify`: the audit ledger on the orchestrator. */
export function registerAuditCommands(program: Command, action: CommandAction): void {
  const audit = program
    .command('audit')
    .description('read the audit ledger and verify its hash chain')
    .enablePositionalOptions();
  const withGlobals = (cmd: Command) => addOrchestratorOption(addGlobalOptions(cmd));

  withGlobals(
    audit
      .command('list')
      .description(
        'who called what, when, with which decision: newest first, one page unless --all',
      )
      .option(
        '--tenant <tenant>',
        "only this tenant's rows (another tenant needs audit:read_all)",
        checked(TenantId),
      )
      .option('--principal <subject>', 'only what this caller did')
      .option('--tool <name>', 'only calls of this tool', checked(ToolName))
      .option('--action <action>', 'only this action, e.g. tool.call, ask.answer, model.call')
      .option('--decision <decision>', 'only allowed, refused or held', checked(AuditDecision))
      .option('--since <time>', 'only actions at or after this time (RFC 3339)', checked(Timestamp))
      .option('--until <time>', 'only actions before this time (RFC 3339)', checked(Timestamp))
      .option('--limit <n>', 'rows per page (the ledger caps it)', positiveInt)
      .option('--cursor <cursor>', 'start at this page (from a "next page" hint)')
      .option('--all', 'follow every page to the end')
      .addHelpText(
        'after',
        `
Needs audit:read (your tenant) or audit:read_all.
Examples:
  toolbus audit list --tool get_credit_limit --decision refused
  toolbus audit list --principal alice --since 2026-03-01T00:00:00Z --all
  toolbus audit list --json | jq -r '.items[] | [.at, .actor.subject, .tool, .decision] | @tsv'`,
      )
      .action(action(listAudit)),
  );

  withGlobals(
    audit
      .command('verify')
      .description(
        'recompute the hash chain and name the first broken, missing or reordered row (exit 4)',
      )
      .option(
        '--after <sequence:hash>',
        'start after a row verified before (what the last run printed), not at the beginning',
        checkpoint,
      )
      .option('--page-size <n>', 'rows fetched per request', positiveInt)
      .addHelpText(
        'after',
        `
Needs audit:read_all. Reads the stored rows (ciphertext and all: no key is needed) and holds
them in memory, about 1 kB a row; --after verifies only what came since a checkpoint.
Exit codes: 0 intact, 4 broken (the findings on stdout), 1-3 as for every command.
Example:
  toolbus audit verify && echo "ledger intact"`,
      )
      .action(action(verifyAudit)),
  );
}

interface ListOptions extends Omit<AuditListQuery, 'cursor'> {
  cursor?: string;
  all?: boolean;
}

async function listAudit(ctx: Context, cmd: Command): Promise<void> {
  const { all, ...query } = cmd.opts<ListOptions>();
  const client = ctx.auditClient();
  let answer = await client.list(query);
  if (!all) {
    if (ctx.globals.json) ctx.printJson(answer.raw);
    else printEntries(ctx, answer.data.items);
    if (answer.data.nextCursor && !ctx.globals.json)
      ctx.err(`next page: --cursor ${answer.data.nextCursor}`);
    return;
  }
  const items: AuditEntry[] = [...answer.data.items];
  const raw: unknown[] = [...rawItems(answer.raw)];
  const seen = new Set<string>();
  const shown = progress(ctx.io, () => `reading the ledger… ${items.length} rows so far`);
  try {
    while (answer.data.nextCursor) {
      const cursor = answer.data.nextCursor;
      if (seen.has(cursor))
        throw new UnexpectedResponseError(
          'the ledger returned the same cursor twice',
          [{ pointer: '/nextCursor', message: `repeats ${cursor}` }],
          'orchestrator',
        );
      seen.add(cursor);
      answer = await client.list({ ...query, cursor });
      items.push(...answer.data.items);
      raw.push(...rawItems(answer.raw));
      shown.update();
    }
  } finally {
    shown.stop();
  }
  if (ctx.globals.json) ctx.printJson({ items: raw, nextCursor: null });
  else printEntries(ctx, items);
}

function printEntries(ctx: Context, items: AuditEntry[]): void {
  if (items.length) ctx.out(auditTable(items, ctx.width));
  else ctx.err('no audit rows match');
}

function rawItems(raw: unknown): unknown[] {
  const items = (raw as { items?: unknown }).items;
  return Array.isArray(items) ? items : [];
}

interface VerifyOptions {
  after?: ChainHead;
  pageSize?: number;
}

/**
 * Every stored row after the checkpoint, a page at a time, then one verification; the head
 * is the last page's, read before its rows, so every row up to it is among them.
 */
async function verifyAudit(ctx: Context, cmd: Command): Promise<void> {
  const { after, pageSize } = cmd.opts<VerifyOptions>();
  const client = ctx.auditClient();
  const rows: ChainRow[] = [];
  let next: number | null = after?.sequence ?? 0;
  let head: ChainHead | undefined;
  const seen = new Set<number>();
  const shown = progress(ctx.io, () => `reading the chain… ${rows.length} rows`);
  try {
    while (next !== null) {
      if (seen.has(next))
        throw new UnexpectedResponseError(
          'the ledger returned the same page twice',
          [{ pointer: '/nextAfter', message: `repeats ${next}` }],
          'orchestrator',
        );
      seen.add(next);
      const page = await client.chain(next, pageSize);
      rows.push(...page.data.items);
      head = page.data.head;
      next = page.data.nextAfter;
      shown.update();
    }
  } finally {
    shown.stop();
  }
  const verdict = verifyChain(rows, { ...(after ? { after } : {}), ...(head ? { head } : {}) });
  if (ctx.globals.json) ctx.printJson({ ...verdict, head });
  if (verdict.ok) {
    if (!ctx.globals.json) {
      ctx.out(`audit chain intact: ${rows.length} rows verified, head ${head?.sequence ?? 0}`);
      if (head && head.sequence > 0)
        ctx.err(`next time, from here: toolbus audit verify --after ${head.sequence}:${head.hash}`);
    }
    return;
  }
  if (!ctx.globals.json) findingLines(verdict).forEach((line) => ctx.out(line));
  throw new CliExit(ExitCode.chainBroken);
}

/** An option checked with a contract's schema; its message names what is wrong. */
function checked(schema: z.ZodType) {
  return (value: string): string => {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid value');
    return value;
  };
}

/** `--after 1234:<64 hex>`: a row verified before and its hash. */
function checkpoint(value: string): ChainHead {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(value.trim());
  if (!match)
    throw new InvalidArgumentError(
      "must be <sequence>:<hash>, the 64 hex digits of the row's hash, as the last verify printed",
    );
  return { sequence: Number(match[1]), hash: match[2]! };
}
