import { rowsOf, type EntityManager } from '@toolbus/persistence';

/** What a source declared of one tool at its last import: the operation and its definition's hash. */
export interface RecordedTool {
  operation: string;
  hash: string;
}

/** A source as the next import compares against it. */
export interface StoredSource {
  kind: string;
  /** The team that owns it: only its members import it again. */
  owner: string;
  /** Per tool name. */
  tools: Record<string, RecordedTool>;
}

/** What an import records of its source. */
export interface SourceWrite {
  name: string;
  kind: 'openapi' | 'mcp';
  /** The owning team (kept from its first import). */
  owner: string;
  /** The import options, or the upstream's registration. */
  config: unknown;
  tools: Record<string, RecordedTool>;
  documentHash?: string;
  /** Who created the source (kept from its first import). */
  createdBy: string;
  /** What the sync that wrote it failed at, or null. */
  syncError?: string | null;
}

/** SQL access to import sources; every method takes the manager of the caller's transaction. */
export class SourceStore {
  /**
   * The source named `name`, locked until the transaction ends, so that two imports of one
   * source compare and write one after the other; undefined when it was never imported.
   */
  async lock(em: EntityManager, name: string): Promise<StoredSource | undefined> {
    const [row] = rowsOf<StoredSource>(
      await em.query('SELECT kind, owner, tools FROM sources WHERE name = $1 FOR UPDATE', [name]),
    );
    return row;
  }

  /** Creates the source or replaces what it records, stamping the sync's time. */
  async save(em: EntityManager, source: SourceWrite): Promise<void> {
    await em.query(
      `INSERT INTO sources (name, kind, config, tools, document_hash, created_by, last_sync_at, last_sync_error, owner)
       VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8)
       ON CONFLICT (name) DO UPDATE SET config = $3, tools = $4, document_hash = $5,
         updated_at = now(), last_sync_at = now(), last_sync_error = $7`,
      [
        source.name,
        source.kind,
        JSON.stringify(source.config),
        JSON.stringify(source.tools),
        source.documentHash ?? null,
        source.createdBy,
        source.syncError ?? null,
        source.owner,
      ],
    );
  }
}
