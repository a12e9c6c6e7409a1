import {
  McpUpstreamRequest,
  type ImportDiff,
  type McpUpstreamRecord,
  type Principal,
} from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import { rowsOf, type DataSource } from '@toolbus/persistence';
import type { CredentialOrigins, SecretStore } from '@toolbus/security';
import { ProblemError } from '@toolbus/service-kit';
import { visible } from '../catalog/catalog-access.js';
import { hashOf } from '../catalog/canonical.js';
import { secretIssue } from '../catalog/credential-check.js';
import type { SourceSync } from '../catalog/source-sync.js';
import { auditEvent } from '../events/audit.js';
import { enqueue, type OutboxRelay } from '../events/outbox.js';
import { defaultScope } from '../imports/default-scope.js';
import { McpUpstreamConnection, toToolDefinitions } from './mcp/index.js';

/** What an upstream's registration records besides the request. */
interface UpstreamConfig {
  upstream: McpUpstreamRequest;
  tenant: string;
  /** Who registered it: its syncs' drafts are theirs, so they cannot approve them. */
  registrant?: Principal;
}

interface SourceRow {
  name: string;
  config: UpstreamConfig;
  tools: Record<string, unknown>;
  created_by: string;
  created_at: Date | string;
  last_sync_at: Date | string | null;
  last_sync_error: string | null;
}

interface Watch {
  /** The registration it watches; a re-registration with other settings replaces the watch. */
  upstream: McpUpstreamRequest;
  registrant: Principal;
  connection?: McpUpstreamConnection;
  timer: NodeJS.Timeout;
  syncing?: Promise<unknown>;
}

/** What an {@link UpstreamService} is configured with. */
export interface UpstreamOptions {
  /** Commands a stdio upstream may run (MCP_STDIO_COMMANDS). */
  stdioCommands?: readonly string[];
  /** Where each secret may be sent (CREDENTIAL_ORIGINS): an upstream's too. */
  credentialOrigins?: CredentialOrigins;
  /** The scope of tools of an upstream registered without scopes (IMPORT_DEFAULT_SCOPE). */
  defaultScope?: string;
}

/**
 * Upstream MCP servers: registering one lists its tools into drafts; afterwards the registry
 * keeps a connection open and re-lists on `notifications/tools/list_changed`, and on a
 * schedule as a backstop (a server may not send notifications, or the connection may drop).
 * Every sync's drafts are written in the registrant's name, so four eyes holds for them.
 */
export class UpstreamService {
  private readonly watches = new Map<string, Watch>();
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    private readonly sync: SourceSync,
    private readonly secrets: SecretStore,
    private readonly logger: Logger,
    private readonly relay: OutboxRelay,
    private readonly options: UpstreamOptions = {},
  ) {}

  private get stdioCommands(): readonly string[] {
    return this.options.stdioCommands ?? [];
  }

  /** Watches every registered upstream (at start-up). */
  async start(): Promise<void> {
    for (const row of await this.rows())
      this.watch(row.config.upstream, row.config.tenant, registrantOf(row));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const watches = [...this.watches.values()];
    this.watches.clear();
    for (const w of watches) clearInterval(w.timer);
    await Promise.allSettled(watches.map((w) => w.syncing));
    await Promise.allSettled(watches.map((w) => w.connection?.close()));
  }

  async register(
    actor: Principal,
    request: McpUpstreamRequest,
  ): Promise<{ upstream: McpUpstreamRecord; diff: ImportDiff }> {
    // Refused before connecting: the registry itself would send the secret there.
    const url = request.transport.kind === 'streamable_http' ? request.transport.url : undefined;
    const issue = secretIssue(
      this.options.credentialOrigins ?? {},
      request.credentialsSecret,
      url,
      '/credentialsSecret',
    );
    if (issue)
      throw new ProblemError(422, 'credential_origin', `${issue.pointer}: ${issue.message}`, {
        issues: [issue],
      });
    const diff = await this.syncOnce(
      actor,
      request,
      actor.tenant,
      true,
      actor,
      'registry.register_upstream',
    );
    const current = this.watches.get(request.name);
    if (
      current &&
      (hashOf(current.upstream) !== hashOf(request) || current.registrant.subject !== actor.subject)
    )
      await this.unwatch(request.name);
    this.watch(request, actor.tenant, actor);
    return { upstream: await this.get(actor, request.name), diff };
  }

  /**
   * Lists the upstream's tools now and records what changed: the caller must be of the
   * owning team; the drafts are the registrant's.
   */
  async syncNow(actor: Principal, name: string): Promise<ImportDiff> {
    const row = await this.row(name);
    return this.syncOnce(actor, row.config.upstream, row.config.tenant, true, registrantOf(row));
  }

  /** The upstreams the caller may see: those whose tools' scopes (and region) it holds. */
  async list(caller: Principal): Promise<McpUpstreamRecord[]> {
    return (await this.rows()).map(toRecord).filter((r) => this.visible(caller, r));
  }

  async get(caller: Principal, name: string): Promise<McpUpstreamRecord> {
    const record = toRecord(await this.row(name));
    if (!this.visible(caller, record))
      throw new ProblemError(404, 'not_found', `no upstream MCP server "${name}"`);
    return record;
  }

  /** Stops watching; the tools it created stay until reviewers deprecate or retire them. */
  async remove(actor: Principal, name: string): Promise<void> {
    const row = await this.row(name);
    await this.unwatch(name);
    await this.db.transaction(async (tx) => {
      await tx.query("DELETE FROM sources WHERE name = $1 AND kind = 'mcp'", [name]);
      await enqueue(tx, [
        auditEvent({
          actor,
          action: 'registry.remove_upstream',
          resource: { kind: 'mcp_source', id: name },
          outcome: 'succeeded',
          hashBefore: hashOf(row.config.upstream),
          details: { tools: Object.keys(row.tools).sort() },
        }),
      ]);
    });
    this.relay.kick();
  }

  /** The scopes the upstream's tools need: its own, else the default scope. */
  private scopesOf(upstream: Pick<McpUpstreamRequest, 'name' | 'scopes'>): string[] {
    if (upstream.scopes.length) return upstream.scopes;
    return [defaultScope(this.options.defaultScope ?? '{source}:use', upstream.name)];
  }

  /** Whether the caller may see the upstream: as it may see the upstream's tools. */
  private visible(caller: Principal, record: McpUpstreamRecord): boolean {
    return visible(caller, { region: record.region, scopes: this.scopesOf(record) });
  }

  /** True while a connection to the upstream is open to hear list_changed. */
  isWatching(name: string): boolean {
    const connection = this.watches.get(name)?.connection;
    return connection !== undefined && !connection.closed;
  }

  private async unwatch(name: string): Promise<void> {
    const watch = this.watches.get(name);
    this.watches.delete(name);
    if (!watch) return;
    clearInterval(watch.timer);
    await watch.connection?.close().catch(() => undefined);
  }

  private async syncOnce(
    actor: Principal,
    upstream: McpUpstreamRequest,
    tenant: string,
    strict: boolean,
    registrant: Principal,
    action = 'registry.sync_upstream',
  ): Promise<ImportDiff> {
    let tools;
    // The watch's open session lists as well as a new one; a stdio server is not started twice.
    const watched = this.watches.get(upstream.name);
    const open =
      watched?.connection &&
      !watched.connection.closed &&
      hashOf(watched.upstream) === hashOf(upstream)
        ? watched.connection
        : undefined;
    const connection =
      open ??
      (await McpUpstreamConnection.connect(upstream, {
        secrets: this.secrets,
        logger: this.logger,
        stdioCommands: this.stdioCommands,
      }).catch((error: unknown) => {
        if (!strict) throw error;
        throw unreachable(upstream, error);
      }));
    try {
      tools = await connection.listTools();
    } catch (error) {
      throw strict ? unreachable(upstream, error) : error;
    } finally {
      if (connection !== open) await connection.close().catch(() => undefined);
    }
    // A server registered without scopes does not serve everybody: its tools get the default.
    const { definitions, skipped } = toToolDefinitions(
      { ...upstream, scopes: this.scopesOf(upstream) },
      tools,
    );
    for (const s of skipped)
      this.logger.warn(
        { upstream: upstream.name, tool: s.tool, reason: s.reason },
        'upstream tool skipped',
      );
    const config: UpstreamConfig = { upstream, tenant, registrant };
    return this.sync.apply(actor, {
      source: upstream.name,
      kind: 'mcp',
      owner: upstream.owner,
      author: registrant,
      config,
      documentHash: hashOf(tools),
      tools: definitions.map((d) => ({
        operation: `${upstream.name}/${d.upstreamTool}`,
        definition: d.definition,
        source: { kind: 'mcp', upstream: upstream.name, tool: d.upstreamTool },
      })),
      dryRun: false,
      action,
      syncError: skipped.length
        ? `skipped: ${skipped.map((s) => `${s.tool} (${s.reason})`).join('; ')}`.slice(0, 2000)
        : null,
    });
  }

  private watch(upstream: McpUpstreamRequest, tenant: string, registrant: Principal): void {
    if (this.stopped || this.watches.has(upstream.name)) return;
    const watch: Watch = {
      upstream,
      registrant,
      timer: setInterval(() => trigger('schedule'), upstream.syncIntervalSeconds * 1000),
    };
    watch.timer.unref();
    const trigger = (why: string) => {
      if (watch.syncing || this.stopped) return;
      watch.syncing = this.syncOnce(registrant, upstream, tenant, false, registrant)
        .then((diff) =>
          this.logger.info(
            {
              upstream: upstream.name,
              why,
              added: diff.added.length,
              changed: diff.changed.length,
              removed: diff.removed.length,
            },
            'upstream synced',
          ),
        )
        .catch(async (error: unknown) => {
          this.logger.warn({ upstream: upstream.name, err: error }, 'upstream sync failed');
          await this.db
            .query('UPDATE sources SET last_sync_error = $2 WHERE name = $1', [
              upstream.name,
              String((error as Error).message ?? error).slice(0, 2000),
            ])
            .catch(() => undefined);
          // Reconnect on the next schedule: the connection is likely what failed.
          await watch.connection?.close().catch(() => undefined);
          watch.connection = undefined;
        })
        .finally(() => {
          watch.syncing = undefined;
          if (!watch.connection && !this.stopped) void connect();
        });
    };
    const connect = async () => {
      try {
        const connection = await McpUpstreamConnection.connect(upstream, {
          secrets: this.secrets,
          logger: this.logger,
          stdioCommands: this.stdioCommands,
        });
        if (this.stopped || this.watches.get(upstream.name) !== watch) {
          await connection.close();
          return;
        }
        connection.onListChanged(() => trigger('list_changed'));
        // The server went away (or the stdio child exited): re-list, which reconnects after.
        connection.onClose(() => {
          if (watch.connection === connection) watch.connection = undefined;
          trigger('reconnect');
        });
        watch.connection = connection;
      } catch (error) {
        this.logger.warn(
          { upstream: upstream.name, err: error },
          'upstream watch could not connect',
        );
      }
    };
    this.watches.set(upstream.name, watch);
    void connect();
  }

  private async rows(): Promise<SourceRow[]> {
    return rowsOf<SourceRow>(
      await this.db.query(
        `SELECT name, config, tools, created_by, created_at, last_sync_at, last_sync_error
         FROM sources WHERE kind = 'mcp' ORDER BY name`,
      ),
    );
  }

  private async row(name: string): Promise<SourceRow> {
    const [row] = rowsOf<SourceRow>(
      await this.db.query(
        `SELECT name, config, tools, created_by, created_at, last_sync_at, last_sync_error
         FROM sources WHERE kind = 'mcp' AND name = $1`,
        [name],
      ),
    );
    if (!row) throw new ProblemError(404, 'not_found', `no upstream MCP server "${name}"`);
    return row;
  }
}

/**
 * Who registered the upstream. A registration older than this record was accepted before
 * teams were checked: its registrant counts as a member of the owning team.
 */
function registrantOf(row: SourceRow): Principal {
  return (
    row.config.registrant ?? {
      subject: row.created_by,
      kind: 'user',
      tenant: row.config.tenant,
      scopes: [],
      teams: [row.config.upstream.owner],
    }
  );
}

function toRecord(row: SourceRow): McpUpstreamRecord {
  const iso = (v: Date | string) => new Date(v).toISOString();
  return {
    ...McpUpstreamRequest.parse(row.config.upstream),
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    lastSyncAt: row.last_sync_at === null ? null : iso(row.last_sync_at),
    lastSyncError: row.last_sync_error,
    tools: Object.keys(row.tools).sort(),
  };
}

function unreachable(upstream: McpUpstreamRequest, error: unknown): ProblemError {
  const detail = error instanceof Error ? error.message : String(error);
  return new ProblemError(
    422,
    'upstream_unreachable',
    `could not list the tools of MCP server "${upstream.name}": ${detail}`.slice(0, 2000),
    {
      issues: [{ pointer: '/transport', message: `could not list tools: ${detail}`.slice(0, 500) }],
    },
  );
}
