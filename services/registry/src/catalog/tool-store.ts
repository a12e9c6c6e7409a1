import {
  ToolDefinition,
  type RegisterToolRequest,
  type ToolSource,
  type ToolStatus,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import { likeContains, rowsOf, type DataSource, type EntityManager } from '@toolbus/persistence';
import { hashOf, versionKey } from './canonical.js';

interface VersionRow {
  name: string;
  version: string;
  version_key: string;
  definition: RegisterToolRequest;
  hash: string;
  status: ToolStatus;
  author: string;
  created_at: Date | string;
  approved_by: string | null;
  approved_at: Date | string | null;
  status_changed_at: Date | string;
  status_reason: string | null;
  source: ToolSource;
}

const iso = (v: Date | string) => new Date(v).toISOString();

export function toRecord(row: VersionRow): ToolVersionRecord {
  return {
    ...row.definition,
    status: row.status,
    author: row.author,
    createdAt: iso(row.created_at),
    approvedBy: row.approved_by,
    approvedAt: row.approved_at === null ? null : iso(row.approved_at),
    statusChangedAt: iso(row.status_changed_at),
    statusReason: row.status_reason,
    hash: row.hash,
    source: row.source,
  };
}

/** The definition with its status, as audit hashes and change events see it. */
export function servedDefinition(record: ToolVersionRecord): ToolDefinition {
  return ToolDefinition.parse(record);
}

/** Hash of a version's governed state (definition and status): the audit's before/after. */
export function stateHash(record: Pick<ToolVersionRecord, 'hash' | 'status'>): string {
  return hashOf({ definition: record.hash, status: record.status });
}

export interface SearchFilters {
  q?: string;
  tags: string[];
  owner?: string;
  region?: string;
  /** Absent: one row per tool, its served version. Present: every version in these states. */
  statuses?: ToolStatus[];
  /** Only tools whose scopes the caller holds: exact scopes, and `area:*` wildcards. */
  callerScopes?: string[];
  /** Only tools in these regions (the caller's), when given. */
  callerRegions?: string[];
  after?: [string, string];
  limit: number;
}

const COLUMNS = `name, version, version_key, definition, hash, status, author, created_at,
  approved_by, approved_at, status_changed_at, status_reason, source`;

/** SQL access to tools and versions; every method takes the manager of the caller's transaction. */
export class ToolStore {
  constructor(readonly db: DataSource) {}

  async claimName(em: EntityManager, name: string, owner: string): Promise<string> {
    await em.query(
      'INSERT INTO tools (name, owner) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [name, owner],
    );
    const [row] = rowsOf<{ owner: string }>(
      await em.query('SELECT owner FROM tools WHERE name = $1 FOR UPDATE', [name]),
    );
    return row!.owner;
  }

  async find(
    em: EntityManager | DataSource,
    name: string,
    version: string,
    lock = false,
  ): Promise<ToolVersionRecord | undefined> {
    const [row] = rowsOf<VersionRow>(
      await em.query(
        `SELECT ${COLUMNS} FROM tool_versions WHERE name = $1 AND version = $2${lock ? ' FOR UPDATE' : ''}`,
        [name, version],
      ),
    );
    return row && toRecord(row);
  }

  async insert(
    em: EntityManager,
    definition: RegisterToolRequest,
    hash: string,
    author: string,
    source: ToolSource,
  ): Promise<ToolVersionRecord> {
    const search = [definition.name, definition.title, definition.description, ...definition.tags]
      .join(' ')
      .toLowerCase();
    const [row] = rowsOf<VersionRow>(
      await em.query(
        `INSERT INTO tool_versions (name, version, version_key, definition, hash, author, source, search)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [
          definition.name,
          definition.version,
          versionKey(definition.version),
          JSON.stringify(definition),
          hash,
          author,
          JSON.stringify(source),
          search,
        ],
      ),
    );
    return toRecord(row!);
  }

  async setStatus(
    em: EntityManager,
    name: string,
    version: string,
    status: ToolStatus,
    reason: string | null,
    approver?: string,
  ): Promise<ToolVersionRecord> {
    const [row] = rowsOf<VersionRow>(
      await em.query(
        `UPDATE tool_versions SET status = $3, status_reason = $4, status_changed_at = now(),
           approved_by = COALESCE($5, approved_by),
           approved_at = CASE WHEN $5::text IS NULL THEN approved_at ELSE now() END
         WHERE name = $1 AND version = $2 RETURNING ${COLUMNS}`,
        [name, version, status, reason, approver ?? null],
      ),
    );
    return toRecord(row!);
  }

  /** Bumps the tool's revision from the registry-wide sequence and returns it. */
  async bumpRevision(em: EntityManager, name: string): Promise<number> {
    const [row] = rowsOf<{ revision: string }>(
      await em.query(
        "UPDATE tools SET revision = nextval('registry_revision') WHERE name = $1 RETURNING revision",
        [name],
      ),
    );
    return Number(row!.revision);
  }

  /** Approved and deprecated versions of a tool, newest first. */
  async served(em: EntityManager | DataSource, name: string): Promise<ToolVersionRecord[]> {
    return rowsOf<VersionRow>(
      await em.query(
        `SELECT ${COLUMNS} FROM tool_versions
         WHERE name = $1 AND status IN ('approved', 'deprecated') ORDER BY version_key DESC`,
        [name],
      ),
    ).map(toRecord);
  }

  async versions(name: string): Promise<ToolVersionRecord[]> {
    return rowsOf<VersionRow>(
      await this.db.query(
        `SELECT ${COLUMNS} FROM tool_versions WHERE name = $1 ORDER BY version_key DESC`,
        [name],
      ),
    ).map(toRecord);
  }

  /** Highest version of a tool in any state, or undefined for a new name. */
  async latestVersion(em: EntityManager, name: string): Promise<string | undefined> {
    const [row] = rowsOf<{ version: string }>(
      await em.query(
        'SELECT version FROM tool_versions WHERE name = $1 ORDER BY version_key DESC LIMIT 1',
        [name],
      ),
    );
    return row?.version;
  }

  /** Every tool with served versions, with its revision: the clients' start-up snapshot. */
  async snapshot(): Promise<{
    revision: number;
    tools: Array<{ name: string; revision: number; served: ToolVersionRecord[] }>;
  }> {
    return this.db.transaction('REPEATABLE READ', async (em) => {
      const tools = rowsOf<{ name: string; revision: string }>(
        await em.query(
          `SELECT t.name, t.revision FROM tools t
           WHERE EXISTS (SELECT 1 FROM tool_versions v
                         WHERE v.name = t.name AND v.status IN ('approved', 'deprecated'))
           ORDER BY t.name`,
        ),
      );
      const rows = rowsOf<VersionRow>(
        await em.query(
          `SELECT ${COLUMNS} FROM tool_versions WHERE status IN ('approved', 'deprecated')
           ORDER BY name, version_key DESC`,
        ),
      );
      const [seq] = rowsOf<{ revision: string }>(
        await em.query('SELECT COALESCE(max(revision), 0) AS revision FROM tools'),
      );
      const byName = new Map<string, ToolVersionRecord[]>();
      for (const row of rows)
        byName.set(row.name, [...(byName.get(row.name) ?? []), toRecord(row)]);
      return {
        revision: Number(seq?.revision ?? 0),
        tools: tools.map((t) => ({
          name: t.name,
          revision: Number(t.revision),
          served: byName.get(t.name) ?? [],
        })),
      };
    });
  }

  async search(filters: SearchFilters): Promise<ToolVersionRecord[]> {
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const base = filters.statuses
      ? `SELECT ${COLUMNS}, search FROM tool_versions WHERE status = ANY(${p(filters.statuses)})`
      : `SELECT DISTINCT ON (name) ${COLUMNS}, search FROM tool_versions
         WHERE status IN ('approved', 'deprecated')
         ORDER BY name, (status = 'approved') DESC, version_key DESC`;
    const where: string[] = [];
    for (const term of (filters.q ?? '').toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8))
      where.push(`v.search LIKE ${p(likeContains(term))}`);
    for (const tag of filters.tags)
      where.push(`v.definition->'tags' @> ${p(JSON.stringify([tag]))}::jsonb`);
    if (filters.owner) where.push(`v.definition->>'owner' = ${p(filters.owner)}`);
    if (filters.region) where.push(`v.definition->>'region' = ${p(filters.region)}`);
    if (filters.callerRegions)
      where.push(`v.definition->>'region' = ANY(${p(filters.callerRegions)})`);
    if (filters.callerScopes) {
      const exact = p(filters.callerScopes);
      const wild = p(
        filters.callerScopes.filter((s) => s.endsWith(':*')).map((s) => s.slice(0, -1)),
      );
      // Every scope the tool needs is held exactly, or under an `area:*` wildcard.
      where.push(`NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(v.definition->'scopes') AS needed(scope)
        WHERE needed.scope <> ALL(${exact}::text[])
          AND NOT EXISTS (SELECT 1 FROM unnest(${wild}::text[]) AS w(prefix)
                          WHERE starts_with(needed.scope, w.prefix)))`);
    }
    if (filters.after)
      where.push(`(v.name, v.version_key) > (${p(filters.after[0])}, ${p(filters.after[1])})`);
    const sql = `SELECT * FROM (${base}) v ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY v.name, v.version_key LIMIT ${Math.floor(filters.limit) + 1}`;
    return rowsOf<VersionRow>(await this.db.query(sql, params)).map(toRecord);
  }

  /** The version key of a record, for cursors. */
  static keyOf(record: Pick<ToolVersionRecord, 'name' | 'version'>): [string, string] {
    return [record.name, versionKey(record.version)];
  }
}
