import {
  type ImportDiff,
  type ImportedTool,
  type Principal,
  type RegisterToolRequest,
  type ToolSource,
} from '@toolbus/contracts';
import type { DataSource, EntityManager } from '@toolbus/persistence';
import { isTeamMember } from '@toolbus/security';
import { ProblemError } from '@toolbus/service-kit';
import { auditEvent } from '../events/audit.js';
import { enqueue, type OutboxRelay } from '../events/outbox.js';
import { hashOf, nextMinor } from './canonical.js';
import type { CatalogService } from './catalog.service.js';
import { teamsOf } from './catalog-access.js';
import { validateDefinition } from './definition-validator.js';
import { auditingRefusals, Refusal } from './refusal.js';
import type { RecordedTool, SourceStore } from './source-store.js';
import type { ToolStore } from './tool-store.js';

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
  /** The team owning the source and its tools: the actor must be a member. */
  owner: string;
  /** Whom the drafts are written by (four eyes): the actor, or an upstream's registrant. */
  author?: Principal;
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

/** A declared tool that passed the registry's validation, with its definition as checked. */
interface CheckedTool {
  tool: SourceTool;
  definition: Omit<RegisterToolRequest, 'version'>;
}

/** What an import will do, decided by comparing the tools with what the source recorded. */
interface SyncPlan {
  /** Every declared tool in the request's order: a draft is written for added and changed ones. */
  tools: (CheckedTool & { change: 'added' | 'changed' | 'unchanged' })[];
  /** Tools the source declared last time and no longer does. */
  removed: ImportedTool[];
  /** What the source records after the import. */
  recorded: Record<string, RecordedTool>;
}

/**
 * Records what a source declares, as one transaction: a draft version for every tool that is
 * new or changed since the source's last import (1.0.0 for a new name, the next minor version
 * otherwise), nothing for unchanged ones, and a report of removed ones (a reviewer deprecates
 * them; tools are never withdrawn behind their callers' backs). Any failure leaves nothing.
 * A source belongs to the team that first imported it: only its members import it again, and
 * a refusal is audited.
 */
export class SourceSync {
  constructor(
    private readonly db: DataSource,
    private readonly sources: SourceStore,
    private readonly tools: ToolStore,
    private readonly catalog: CatalogService,
    private readonly relay: OutboxRelay,
  ) {}

  async apply(actor: Principal, update: SourceUpdate): Promise<ImportDiff> {
    return auditingRefusals(this.db, () => this.applyChecked(actor, update));
  }

  private async applyChecked(actor: Principal, update: SourceUpdate): Promise<ImportDiff> {
    if (!isTeamMember(actor, update.owner))
      throw new Refusal(
        403,
        'not_team_member',
        `only members of team "${update.owner}" import sources it owns; ${actor.subject}'s teams: ${teamsOf(actor)}`,
        refusalAudit(actor, update),
        { issues: [{ pointer: '/owner', message: 'is not one of your teams' }] },
      );
    // Every tool passes the registry's own validation once, dry run or not, before anything
    // is read or written: a dry run reports what the import would refuse.
    const checked = checkTools(update.tools);
    if (update.dryRun)
      return this.rolledBack(async (tx) =>
        diffOf(update, await this.plan(tx, actor, update, checked)),
      );
    const diff = await this.db.transaction(async (tx) => {
      const plan = await this.plan(tx, actor, update, checked);
      const versions = await this.writeDrafts(tx, actor, plan, update.author ?? actor);
      const diff = diffOf(update, plan, versions);
      await this.sources.save(tx, {
        name: update.source,
        kind: update.kind,
        owner: update.owner,
        config: update.config,
        tools: plan.recorded,
        documentHash: update.documentHash,
        createdBy: actor.subject,
        syncError: update.syncError,
      });
      await this.audit(tx, actor, update, diff);
      return diff;
    });
    this.relay.kick();
    return diff;
  }

  /** Locks the source and compares its tools with what it recorded at its last import. */
  private async plan(
    tx: EntityManager,
    actor: Principal,
    update: SourceUpdate,
    checked: CheckedTool[],
  ): Promise<SyncPlan> {
    const stored = await this.sources.lock(tx, update.source);
    if (stored && stored.kind !== update.kind)
      throw new ProblemError(
        409,
        'source_kind_mismatch',
        `source "${update.source}" is an ${stored.kind} source, not ${update.kind}`,
      );
    if (stored && stored.owner !== update.owner) {
      if (!isTeamMember(actor, stored.owner))
        throw new Refusal(
          403,
          'not_source_owner',
          `source "${update.source}" belongs to team "${stored.owner}"; only its members import it again (${actor.subject}'s teams: ${teamsOf(actor)})`,
          refusalAudit(actor, update),
        );
      throw new ProblemError(
        409,
        'source_owner_mismatch',
        `source "${update.source}" belongs to team "${stored.owner}"; import it with owner "${stored.owner}"`,
        { issues: [{ pointer: '/owner', message: `the source belongs to "${stored.owner}"` }] },
      );
    }
    const previous = stored?.tools ?? {};
    const recorded: Record<string, RecordedTool> = {};
    const tools = checked.map((entry) => {
      const { name } = entry.tool.definition;
      const hash = hashOf(entry.tool.definition);
      recorded[name] = { operation: entry.tool.operation, hash };
      const before = previous[name];
      const change = !before ? 'added' : before.hash === hash ? 'unchanged' : 'changed';
      return { ...entry, change } as const;
    });
    const removed = Object.entries(previous)
      .filter(([name]) => !recorded[name])
      .map(([name, before]) => ({ name, version: null, operation: before.operation }));
    return { tools, removed, recorded };
  }

  /** A draft of every added or changed tool: 1.0.0 for a new name, else the next minor version. */
  private async writeDrafts(
    tx: EntityManager,
    actor: Principal,
    plan: SyncPlan,
    author: Principal,
  ): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    for (const { tool, definition, change } of plan.tools) {
      if (change === 'unchanged') continue;
      const latest = await this.tools.latestVersion(tx, definition.name);
      const version = latest ? nextMinor(latest) : '1.0.0';
      await this.catalog.register(actor, { ...definition, version }, tool.source, tx, author);
      versions.set(definition.name, version);
    }
    return versions;
  }

  private async audit(
    tx: EntityManager,
    actor: Principal,
    update: SourceUpdate,
    diff: ImportDiff,
  ): Promise<void> {
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
  }

  /** Runs `work` in a transaction that is then rolled back: a dry run can never write. */
  private async rolledBack<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    let result: { value: T } | undefined;
    await this.db
      .transaction(async (tx) => {
        result = { value: await work(tx) };
        throw new DryRunRollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof DryRunRollback)) throw error;
      });
    return result!.value;
  }
}

/** What a refused import is audited as: the import's action on the source. */
function refusalAudit(actor: Principal, update: SourceUpdate) {
  return {
    actor,
    action: update.action,
    resource: { kind: `${update.kind}_source`, id: update.source },
  };
}

/** Every tool validated (the first refusal throws), then no two may become one tool name. */
function checkTools(tools: SourceTool[]): CheckedTool[] {
  const checked = tools.map((tool) => ({ tool, definition: validated(tool) }));
  const names = new Map<string, SourceTool>();
  for (const tool of tools) {
    const clash = names.get(tool.definition.name);
    if (clash)
      throw new ProblemError(
        422,
        'duplicate_tool_name',
        `${clash.operation} and ${tool.operation} both become tool "${tool.definition.name}"`,
      );
    names.set(tool.definition.name, tool);
  }
  return checked;
}

/** The import's report; a dry run (no versions written) lists its drafts without a version. */
function diffOf(
  update: SourceUpdate,
  plan: SyncPlan,
  versions: ReadonlyMap<string, string> = new Map(),
): ImportDiff {
  const diff: ImportDiff = {
    source: update.source,
    dryRun: update.dryRun,
    added: [],
    changed: [],
    removed: plan.removed,
    unchanged: [],
  };
  for (const { tool, change } of plan.tools) {
    const { name } = tool.definition;
    const version = change === 'unchanged' ? null : (versions.get(name) ?? null);
    diff[change].push({ name, version, operation: tool.operation });
  }
  return diff;
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
