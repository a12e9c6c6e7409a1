import {
  type ImportDiff,
  type ImportedTool,
  type Principal,
  type RegisterToolRequest,
  type ToolSource,
} from '@toolbus/contracts';
import { rowsOf, type EntityManager } from '@toolbus/persistence';
import { ProblemError } from '@toolbus/service-kit';
import { auditEvent } from '../events/audit.js';
import { enqueue, type OutboxRelay } from '../events/outbox.js';
import { hashOf, nextMinor } from './canonical.js';
import type { CatalogService } from './catalog.service.js';
import { validateDefinition } from './definition-validator.js';

/** One tool a source (an OpenAPI document, an MCP server) declares, without a version. */
export interface SourceTool {
  operation: string;
  /** Where the request declares it (e.g. /document/paths/~1items/get), for error pointers. */
  pointer?: string;
  definition: Omit<RegisterToolRequest, 'version'>;
  source: ToolSource;
}

export interface SourceUpdate {
  source: string;
  kind: 'openapi' | 'mcp';
  /** Stored with the source (import options, the upstream's registration). */
  config: unknown;
  documentHash?: string;
  tools: SourceTool[];
  dryRun: boolean;
  /** Audit action, e.g. registry.import_openapi. */
  action: string;
  /** For a sync: when it ran and what failed; recorded on the source. */
  syncError?: string | null;
}

interface SourceRow {
  kind: string;
  tools: Record<string, { operation: string; hash: string }>;
}

/**
 * Records what a source declares, as one transaction: a draft version for every tool that is
 * new or changed since the source's last import (1.0.0 for a new name, the next minor version
 * otherwise), nothing for unchanged ones, and a report of removed ones (a reviewer deprecates
 * them; tools are never withdrawn behind their callers' backs). Any failure leaves nothing.
 */
export class SourceSync {
  constructor(
    private readonly catalog: CatalogService,
    private readonly relay: OutboxRelay,
  ) {}

  async apply(actor: Principal, update: SourceUpdate): Promise<ImportDiff> {
    // Every tool passes the registry's own validation once, dry run or not, before anything
    // is read or written: a dry run reports what the import would refuse.
    const checked = update.tools.map((tool) => ({ tool, definition: validated(tool) }));
    const names = new Map<string, SourceTool>();
    for (const tool of update.tools) {
      const clash = names.get(tool.definition.name);
      if (clash)
        throw new ProblemError(
          422,
          'duplicate_tool_name',
          `${clash.operation} and ${tool.operation} both become tool "${tool.definition.name}"`,
        );
      names.set(tool.definition.name, tool);
    }
    const db = this.catalog.store.db;
    const run = async (tx: EntityManager): Promise<ImportDiff> => {
      const [row] = rowsOf<SourceRow>(
        await tx.query('SELECT kind, tools FROM sources WHERE name = $1 FOR UPDATE', [
          update.source,
        ]),
      );
      if (row && row.kind !== update.kind)
        throw new ProblemError(
          409,
          'source_kind_mismatch',
          `source "${update.source}" is an ${row.kind} source, not ${update.kind}`,
        );
      const previous = row?.tools ?? {};
      const diff: ImportDiff = {
        source: update.source,
        dryRun: update.dryRun,
        added: [],
        changed: [],
        removed: [],
        unchanged: [],
      };
      const recorded: Record<string, { operation: string; hash: string }> = {};
      for (const { tool, definition: valid } of checked) {
        const name = tool.definition.name;
        const hash = hashOf(tool.definition);
        recorded[name] = { operation: tool.operation, hash };
        const before = previous[name];
        if (before && before.hash === hash) {
          diff.unchanged.push({ name, version: null, operation: tool.operation });
          continue;
        }
        let version: string | null = null;
        if (!update.dryRun) {
          const latest = await this.catalog.store.latestVersion(tx, name);
          version = latest ? nextMinor(latest) : '1.0.0';
          await this.catalog.register(actor, { ...valid, version }, tool.source, tx);
        }
        const entry: ImportedTool = { name, version, operation: tool.operation };
        (before ? diff.changed : diff.added).push(entry);
      }
      for (const [name, before] of Object.entries(previous))
        if (!recorded[name])
          diff.removed.push({ name, version: null, operation: before.operation });
      if (update.dryRun) return diff;
      await tx.query(
        `INSERT INTO sources (name, kind, config, tools, document_hash, created_by, last_sync_at, last_sync_error)
         VALUES ($1, $2, $3, $4, $5, $6, now(), $7)
         ON CONFLICT (name) DO UPDATE SET config = $3, tools = $4, document_hash = $5,
           updated_at = now(), last_sync_at = now(), last_sync_error = $7`,
        [
          update.source,
          update.kind,
          JSON.stringify(update.config),
          JSON.stringify(recorded),
          update.documentHash ?? null,
          actor.subject,
          update.syncError ?? null,
        ],
      );
      await enqueue(tx, [
        auditEvent({
          actor,
          action: update.action,
          resource: { kind: `${update.kind}_source`, id: update.source },
          outcome: 'succeeded',
          ...(update.documentHash ? { hashAfter: update.documentHash } : {}),
          details: {
            added: diff.added.map((t) => t.name),
            changed: diff.changed.map((t) => t.name),
            removed: diff.removed.map((t) => t.name),
          },
        }),
      ]);
      return diff;
    };
    // A dry run reads in a transaction it then rolls back: it can never write.
    if (update.dryRun) {
      let result: ImportDiff | undefined;
      await db
        .transaction(async (tx) => {
          result = await run(tx);
          throw new DryRunRollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof DryRunRollback)) throw error;
        });
      return result!;
    }
    const diff = await db.transaction(run);
    this.relay.kick();
    return diff;
  }
}

class DryRunRollback extends Error {}

/**
 * A converted definition that the registry's own rules refuse is the source's problem: 422,
 * located at the tool's place in the request when the source knows it. The version is a
 * placeholder: the real one is assigned later and always well formed.
 */
function validated(tool: SourceTool): Omit<RegisterToolRequest, 'version'> {
  try {
    const { version: _placeholder, ...definition } = validateDefinition({
      ...tool.definition,
      version: '0.0.0',
    });
    return definition;
  } catch (error) {
    if (error instanceof ProblemError)
      throw new ProblemError(422, 'invalid_definition', `${tool.operation}: ${error.detail}`, {
        issues: (error.extra.issues ?? []).map((i) => ({
          pointer: tool.pointer ?? i.pointer,
          message: `${tool.operation}: ${tool.pointer ? `${i.pointer} ` : ''}${i.message}`,
        })),
      });
    throw error;
  }
}
