import type { LifecycleAction } from '@toolbus/contracts';
import type { Command } from 'commander';
import { UsageError } from '../cli-errors.js';
import { statusLine } from '../format.js';
import { addGlobalOptions } from '../global-options.js';
import { parseRef } from '../option-parsers.js';
import type { CommandAction, Context } from './command-context.js';

const LIFECYCLE_COMMANDS = [
  ['approve', 'approve a draft (needs registry:approve; not its author: four eyes)'],
  ['deprecate', 'deprecate an approved version (still served, with a warning)'],
  ['retire', 'retire a version (no longer served)'],
] as const;

/** `tools approve|deprecate|retire <tool@version> [--reason]`. */
export function registerLifecycleCommands(tools: Command, action: CommandAction): void {
  for (const [name, description] of LIFECYCLE_COMMANDS) {
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
}

async function lifecycle(ctx: Context, cmd: Command, action: LifecycleAction): Promise<void> {
  const ref = parseRef(String(cmd.processedArgs[0]), true);
  const { reason } = cmd.opts<{ reason?: string }>();
  if (reason !== undefined && !reason.trim()) throw new UsageError('--reason must not be empty');
  const answer = await ctx.client.lifecycle(ref.name, ref.version!, action, reason);
  if (ctx.globals.json) ctx.printJson(answer.raw);
  else ctx.out(statusLine(answer.data));
}
